//! Course authoring pages (mentors and admins; a course is edited only by its authors and
//! admins). Every form is an `<ActionForm>` or a plain multipart form, so authoring works
//! without WASM too; with WASM the Markdown preview is live and uploads show progress.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    courses::{
        api::{
            AddLesson, AddSection, CreateCourse, DeleteLesson, MoveLesson, PublishCourse,
            UpdateCourse, UpdateLesson, get_course_draft, get_lesson_draft,
        },
        model::{LessonKind, Level},
        pages::{kind_label, level_label},
        text::CourseStrings,
    },
    error::AppError,
    i18n::{Locale, use_locale},
    ui::form::{FormMessage, TextArea, TextField, action_error, successes},
};

fn cs(locale: RwSignal<Locale>) -> &'static CourseStrings {
    locale.get().strings().courses
}

fn saved<T>(action: ServerAction<T>, locale: RwSignal<Locale>) -> Signal<Option<&'static str>>
where
    T: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    T::Output: Clone + Send + Sync + 'static,
{
    let ok = crate::ui::form::succeeded(action);
    Signal::derive(move || ok.get().then(|| cs(locale).ed_saved))
}

/// `/courses/new`: start a draft.
#[component]
pub fn NewCoursePage() -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let create = ServerAction::<CreateCourse>::new();
    view! {
        <Title text=locale.get_untracked().strings().courses.ed_new_course/>
        <section class="card wide">
            <h1>{move || s().ed_new_course}</h1>
            <ActionForm action=create attr:class="form" attr:data-testid="new-course-form">
                <FormMessage error=action_error(create, locale) testid="new-course"/>
                <TextField name="slug" label=Signal::derive(move || s().ed_slug) hint=Signal::derive(move || s().ed_slug_hint)/>
                <TextField name="title" label=Signal::derive(move || s().ed_title)/>
                <TextField name="summary" label=Signal::derive(move || s().ed_summary)/>
                <LevelSelect current=Level::Beginner/>
                <TextField name="language" label=Signal::derive(move || s().ed_language_code) value="en".to_string()/>
                <TextField name="tags" label=Signal::derive(move || s().ed_tags) hint=Signal::derive(move || s().ed_tags_hint)/>
                <button type="submit" class="button primary" data-testid="submit">{move || s().ed_create}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn LevelSelect(current: Level) -> impl IntoView {
    let locale = use_locale();
    view! {
        <div class="field">
            <label for="field-level">{move || cs(locale).ed_level}</label>
            <select id="field-level" name="level" data-testid="input-level">
                {Level::ALL.into_iter().map(|l| view! {
                    <option value=l.key() selected=l == current>{move || level_label(l, locale.get().strings())}</option>
                }).collect_view()}
            </select>
        </div>
    }
}

/// A Markdown textarea with a preview rendered by the server's own renderer, so the author
/// sees exactly what learners will. An island of the authoring chunk (a plain, never-called
/// component in the other chunks' builds); without WASM it is a plain textarea.
#[cfg_attr(any(feature = "ssr", feature = "chunk-author"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "chunk-author")), component)]
pub fn MarkdownEditor(name: String, label: String, value: String) -> impl IntoView {
    let locale = use_locale();
    let text = RwSignal::new(value.clone());
    let preview = RwSignal::new(String::new());
    #[cfg(feature = "hydrate")]
    {
        let pending = StoredValue::new(None::<TimeoutHandle>);
        Effect::new(move |_| {
            let body = text.get();
            // Wait for a pause in typing before asking the server.
            if let Some(h) = pending.get_value() {
                h.clear();
            }
            let h = set_timeout_with_handle(
                move || {
                    leptos::task::spawn_local(async move {
                        if let Ok(html) = crate::courses::api::preview_markdown(body).await {
                            preview.set(html);
                        }
                    });
                },
                std::time::Duration::from_millis(300),
            )
            .ok();
            pending.set_value(h);
        });
    }
    let id = format!("field-{name}");
    view! {
        <div class="md-editor">
            <div class="field">
                <label for=id.clone()>{label}</label>
                <textarea id=id name=name.clone() rows=12 data-testid=format!("input-{name}")
                    on:input=move |ev| text.set(event_target_value(&ev))>{value}</textarea>
            </div>
            <div class="md-preview">
                <p class="label">{move || cs(locale).ed_preview}</p>
                <div class="markdown" inner_html=move || preview.get() data-testid=format!("preview-{name}")></div>
            </div>
        </div>
    }
}

/// `/courses/:slug/edit`.
#[component]
pub fn CourseEditPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()));
    let update = ServerAction::<UpdateCourse>::new();
    let publish = ServerAction::<PublishCourse>::new();
    let add_section = ServerAction::<AddSection>::new();
    let add_lesson = ServerAction::<AddLesson>::new();
    let move_lesson = ServerAction::<MoveLesson>::new();
    let (updated, published, sections_added, lessons_added, moved) = (
        successes(update),
        successes(publish),
        successes(add_section),
        successes(add_lesson),
        successes(move_lesson),
    );
    let draft = Resource::new(
        move || {
            (
                slug.get(),
                updated.get(),
                published.get(),
                sections_added.get(),
                lessons_added.get(),
                moved.get(),
            )
        },
        |(slug, ..)| get_course_draft(slug),
    );
    let errors = Signal::derive(move || {
        [
            action_error(publish, locale).get(),
            action_error(add_section, locale).get(),
            action_error(add_lesson, locale).get(),
            action_error(move_lesson, locale).get(),
        ]
        .into_iter()
        .flatten()
        .next()
    });
    view! {
        <Title text=locale.get_untracked().strings().courses.ed_edit/>
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {move || Suspend::new(async move {
                match draft.await {
                    Err(e) => view! { <crate::ui::layout::PageError error=e testid="editor-error"/> }.into_any(),
                    Ok(d) => {
                        // Copy, so every form's (moved) children can read it.
                        let slug = StoredValue::new(d.slug.clone());
                        let input = d.input.clone();
                        let sections = d.sections.clone();
                        let published = d.published;
                        view! {
                            <article class="editor" data-testid="course-editor">
                                <p class="crumbs"><a href=format!("/courses/{}", slug.get_value())>{move || s().ed_view_course}</a></p>
                                <h1>{input.title.clone()}</h1>
                                <FormMessage error=errors testid="editor"/>
                                <div class="actions">
                                    <p data-testid="publish-state" data-published=published.to_string()>
                                        {move || if published { s().ed_state_published } else { s().ed_state_draft }}
                                    </p>
                                    <ActionForm action=publish attr:class="inline-form">
                                        <input type="hidden" name="slug" value=slug.get_value()/>
                                        <input type="hidden" name="published" value=(!published).to_string()/>
                                        <button type="submit" class="button" data-testid="publish-toggle">
                                            {move || if published { s().ed_unpublish } else { s().ed_publish }}
                                        </button>
                                    </ActionForm>
                                </div>
                                <ActionForm action=update attr:class="form" attr:data-testid="course-form">
                                    <FormMessage error=action_error(update, locale) success=saved(update, locale) testid="course-form"/>
                                    <input type="hidden" name="slug" value=slug.get_value()/>
                                    <TextField name="title" label=Signal::derive(move || s().ed_title) value=input.title.clone()/>
                                    <TextField name="summary" label=Signal::derive(move || s().ed_summary) value=input.summary.clone()/>
                                    <MarkdownEditor name="description".to_string() label=s().ed_description.to_string() value=input.description.clone()/>
                                    <TextField name="tags" label=Signal::derive(move || s().ed_tags) value=input.tags.join(", ") hint=Signal::derive(move || s().ed_tags_hint)/>
                                    <LevelSelect current=input.level/>
                                    <TextField name="language" label=Signal::derive(move || s().ed_language_code) value=input.language.clone()/>
                                    <TextField name="starts_on" label=Signal::derive(move || s().ed_starts_on) value=input.starts_on.clone().unwrap_or_default()/>
                                    <TextField name="ends_on" label=Signal::derive(move || s().ed_ends_on) value=input.ends_on.clone().unwrap_or_default()/>
                                    <button type="submit" class="button primary" data-testid="course-save">{move || s().ed_save}</button>
                                </ActionForm>
                                <section class="syllabus">
                                    <h2>{move || s().syllabus}</h2>
                                    {sections.into_iter().map(|sec| {
                                        view! {
                                            <h3>{sec.title.clone()}</h3>
                                            <ol class="lessons">
                                                {sec.lessons.clone().into_iter().map(|l| {
                                                    let (up_id, down_id) = (l.id.clone(), l.id.clone());
                                                    view! {
                                                    <li data-testid="editor-lesson">
                                                        <a href=format!("/lessons/{}/edit", l.id)>{l.title.clone()}</a>
                                                        <ActionForm action=move_lesson attr:class="inline-form">
                                                            <input type="hidden" name="lesson_id" value=up_id/>
                                                            <input type="hidden" name="direction" value="up"/>
                                                            <button type="submit" class="link-button" aria-label=move || s().ed_move_up data-testid="move-up">"↑"</button>
                                                        </ActionForm>
                                                        <ActionForm action=move_lesson attr:class="inline-form">
                                                            <input type="hidden" name="lesson_id" value=down_id/>
                                                            <input type="hidden" name="direction" value="down"/>
                                                            <button type="submit" class="link-button" aria-label=move || s().ed_move_down data-testid="move-down">"↓"</button>
                                                        </ActionForm>
                                                    </li>
                                                    }
                                                }).collect_view()}
                                            </ol>
                                            <ActionForm action=add_lesson attr:class="form inline-add">
                                                <input type="hidden" name="slug" value=slug.get_value()/>
                                                <input type="hidden" name="section_id" value=sec.id.clone()/>
                                                <label>
                                                    <span>{move || s().ed_lesson_title}</span>
                                                    <input name="title" required=true data-testid="new-lesson-title"/>
                                                </label>
                                                <label>
                                                    <span>{move || s().ed_kind}</span>
                                                    <select name="kind" data-testid="new-lesson-kind">
                                                        {LessonKind::ALL.into_iter().map(|k| view! {
                                                            <option value=k.key()>{move || kind_label(k, s())}</option>
                                                        }).collect_view()}
                                                    </select>
                                                </label>
                                                <button type="submit" class="button small" data-testid="add-lesson">{move || s().ed_add_lesson}</button>
                                            </ActionForm>
                                        }
                                    }).collect_view()}
                                    <ActionForm action=add_section attr:class="form inline-add">
                                        <input type="hidden" name="slug" value=slug.get_value()/>
                                        <label>
                                            <span>{move || s().ed_section_title}</span>
                                            <input name="title" required=true data-testid="new-section-title"/>
                                        </label>
                                        <button type="submit" class="button small" data-testid="add-section">{move || s().ed_add_section}</button>
                                    </ActionForm>
                                </section>
                            </article>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/lessons/:id/edit`.
#[component]
pub fn LessonEditPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let update = ServerAction::<UpdateLesson>::new();
    let delete = ServerAction::<DeleteLesson>::new();
    let saves = successes(update);
    let draft = Resource::new(
        move || (id.get(), saves.get()),
        |(id, _)| get_lesson_draft(id),
    );
    // The upload redirects back here with `done=upload_video`, with or without JavaScript.
    let uploaded = crate::ui::form::done_in_address("upload_video");
    view! {
        <Title text=locale.get_untracked().strings().courses.ed_edit_lesson/>
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {move || Suspend::new(async move {
                match draft.await {
                    Err(e) => view! { <crate::ui::layout::PageError error=e testid="editor-error"/> }.into_any(),
                    Ok(d) => {
                        let upload_action = format!("/upload/video/{}", d.id);
                        let lesson_id = StoredValue::new(d.id.clone());
                        view! {
                            <article class="editor" data-testid="lesson-editor" data-kind=d.kind.key()>
                                <p class="crumbs">
                                    <a href=format!("/courses/{}/edit", d.course_slug)>{move || s().ed_edit}</a>
                                    " · "
                                    <a href=format!("/lessons/{}", d.id)>{move || s().ed_view_course}</a>
                                </p>
                                <h1>{d.title.clone()}</h1>
                                <ActionForm action=update attr:class="form" attr:data-testid="lesson-form">
                                    <FormMessage error=action_error(update, locale) success=saved(update, locale) testid="lesson-form"/>
                                    <input type="hidden" name="lesson_id" value=lesson_id.get_value()/>
                                    <TextField name="title" label=Signal::derive(move || s().ed_title) value=d.title.clone()/>
                                    <MarkdownEditor name="body".to_string() label=s().ed_body.to_string() value=d.body.clone()/>
                                    {(d.kind == LessonKind::Video).then(|| view! {
                                        <TextField name="video_secs" kind="number" label=Signal::derive(move || s().ed_video_secs)
                                            value=d.video_secs.map(|v| v.to_string()).unwrap_or_default()/>
                                    })}
                                    {(d.kind == LessonKind::Quiz).then(|| view! {
                                        <TextArea name="questions" rows=14 label=Signal::derive(move || s().ed_questions)
                                            hint=Signal::derive(move || s().ed_questions_hint) value=d.questions_toml.clone()/>
                                        <TextField name="attempts" kind="number" label=Signal::derive(move || s().ed_attempts)
                                            value=d.quiz_attempts.map(|n| n.to_string()).unwrap_or_default()/>
                                        <p class="hint">{move || s().ed_attempts_hint}</p>
                                    })}
                                    <button type="submit" class="button primary" data-testid="lesson-save">{move || s().ed_save}</button>
                                </ActionForm>
                                {(d.kind == LessonKind::Video).then(|| view! {
                                    <Show when=move || uploaded>
                                        <p class="alert alert-ok" role="status" data-testid="upload-message">{move || s().ed_upload_done}</p>
                                    </Show>
                                    <VideoUpload action=upload_action.clone() current=d.video_src.clone()/>
                                })}
                                <ActionForm action=delete attr:class="inline-form danger">
                                    <input type="hidden" name="lesson_id" value=lesson_id.get_value()/>
                                    <button type="submit" class="link-button" data-testid="lesson-delete">{move || s().ed_delete}</button>
                                </ActionForm>
                            </article>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// A multipart upload form: posted as is without WASM (the server redirects back); with
/// WASM it goes through `XMLHttpRequest` so a progress bar can follow the upload, and the
/// page reloads as the redirect would have. An island of the authoring chunk.
#[cfg_attr(any(feature = "ssr", feature = "chunk-author"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "chunk-author")), component)]
pub fn VideoUpload(action: String, current: Option<String>) -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let (percent, message) = (RwSignal::new(None::<u32>), RwSignal::new(None::<String>));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        start_upload(ev, percent, message, locale);
    };
    view! {
        <form method="post" enctype="multipart/form-data" action=action class="form upload" on:submit=on_submit data-testid="upload-form">
            {current.map(|src| view! { <video controls=true preload="metadata" src=src class="thumb"></video> })}
            <div class="field">
                <label for="video-file">{move || s().ed_video_file}</label>
                <input id="video-file" type="file" name="video" accept="video/mp4,video/webm" required=true data-testid="video-file"/>
            </div>
            {move || percent.get().map(|p| view! {
                <progress max="100" value=p.to_string() data-testid="upload-progress">{format!("{p}%")}</progress>
            })}
            {move || message.get().map(|m| view! { <p class="alert" role="status" data-testid="upload-message">{m}</p> })}
            <button type="submit" class="button" data-testid="video-upload">{move || s().ed_video_upload}</button>
        </form>
    }
}

#[cfg(feature = "hydrate")]
fn start_upload(
    ev: leptos::ev::SubmitEvent,
    percent: RwSignal<Option<u32>>,
    message: RwSignal<Option<String>>,
    locale: RwSignal<Locale>,
) {
    use leptos::wasm_bindgen::{JsCast, closure::Closure};
    let Some(form) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
    else {
        return;
    };
    let (Ok(data), Ok(xhr)) = (
        web_sys::FormData::new_with_form(&form),
        web_sys::XmlHttpRequest::new(),
    ) else {
        // Let the browser post the form the plain way.
        return;
    };
    ev.prevent_default();
    if xhr.open_with_async("POST", &form.action(), true).is_err() {
        return;
    }
    let _ = xhr.set_request_header("Accept", "application/json");
    percent.set(Some(0));
    message.set(Some(cs(locale).ed_uploading.to_string()));
    let on_progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                percent.set(Some((e.loaded() / e.total() * 100.0).round() as u32));
            }
        });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let done = xhr.clone();
    let on_load = Closure::<dyn Fn()>::new(move || {
        let status = done.status().unwrap_or(0);
        if (200..300).contains(&status) {
            percent.set(Some(100));
            message.set(Some(cs(locale).ed_upload_done.to_string()));
            if let Some(w) = web_sys::window() {
                let location = w.location();
                let path = location.pathname().unwrap_or_default();
                let _ = location.assign(&format!("{path}?done=upload_video"));
            }
        } else {
            let text = done.response_text().ok().flatten().unwrap_or_default();
            let words = serde_json::from_str::<AppError>(&text)
                .map(|e| e.message(locale.get()))
                .unwrap_or_else(|_| locale.get().strings().err_internal.to_string());
            percent.set(None);
            message.set(Some(words));
        }
    });
    xhr.set_onload(Some(on_load.as_ref().unchecked_ref()));
    // One pair of callbacks per upload, alive until it finishes: leaking them is the
    // simplest correct lifetime.
    on_progress.forget();
    on_load.forget();
    let _ = xhr.send_with_opt_form_data(Some(&data));
}

#[cfg(not(feature = "hydrate"))]
fn start_upload(
    _ev: leptos::ev::SubmitEvent,
    _percent: RwSignal<Option<u32>>,
    _message: RwSignal<Option<String>>,
    _locale: RwSignal<Locale>,
) {
}
