//! Course pages: catalog, course, lesson, and the learner's courses. Every page renders
//! complete on the server; forms are `<ActionForm>`s or plain GET forms, so they work before
//! (or without) WASM. Only the video player's watch reports need the browser.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    accounts::{model::Capabilities, pages::use_user},
    courses::{
        api::{
            CompleteLesson, EnrolCourse, LeaveCourse, RateCourse, SubmitQuiz, get_course,
            get_lesson, my_courses, search_courses,
        },
        model::{
            CatalogPage as Catalog, CatalogQuery, CourseCard, CourseProgress, LessonKind,
            LessonView, Level, PlayTracker, QuizResult, Sort, VideoView,
        },
        text::CourseStrings,
    },
    i18n::{Locale, use_locale},
    ui::form::{FormMessage, successes},
};

fn cs(locale: RwSignal<Locale>) -> &'static CourseStrings {
    locale.get().strings().courses
}

pub(crate) fn level_label(level: Level, s: &crate::i18n::Strings) -> &'static str {
    match level {
        Level::Beginner => s.level_beginner,
        Level::Intermediate => s.level_intermediate,
        Level::Advanced => s.level_advanced,
    }
}

pub(crate) fn kind_label(kind: LessonKind, s: &CourseStrings) -> &'static str {
    match kind {
        LessonKind::Text => s.kind_text,
        LessonKind::Video => s.kind_video,
        LessonKind::Quiz => s.kind_quiz,
        LessonKind::Exercise => s.kind_exercise,
    }
}

/// `mm:ss` (or `h:mm:ss`) for a number of seconds.
pub fn clock(secs: f64) -> String {
    let total = secs.max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `/courses`: search, filters, sorting and pages, all in the URL.
#[component]
pub fn CatalogPage() -> impl IntoView {
    let locale = use_locale();
    let query_map = use_query_map();
    let query = Memo::new(move |_| query_map.with(|m| CatalogQuery::from_pairs(|k| m.get_str(k))));
    let page = Resource::new(move || query.get(), search_courses);
    // Read the context here, while the component is being created: inside the async block
    // below it would be looked up whenever the future is polled, under whatever owner is
    // current then — under load, none that has it (a panic in server rendering).
    let user = use_user().0;
    view! {
        <Title text=locale.get_untracked().strings().courses.catalog_title/>
        <section class="catalog" data-testid="catalog">
            <h1>{move || cs(locale).catalog_title}</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let mentor = matches!(user.await, Ok(Some(u)) if u.roles.can_mentor());
                    mentor.then(|| view! {
                        <p><a class="button small" href="/courses/new" data-testid="new-course">{move || cs(locale).ed_new_course}</a></p>
                    })
                })}
            </Transition>
            <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(p) => view! { <CatalogBody page=p/> }.into_any(),
                        Err(e) => view! { <crate::ui::layout::PageError error=e/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn CatalogBody(page: Catalog) -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let q = page.query.clone();
    let pages = page.pages();
    let link = move |changed: CatalogQuery| {
        let qs = changed.to_query_string();
        if qs.is_empty() {
            "/courses".to_string()
        } else {
            format!("/courses?{qs}")
        }
    };
    let prev = (q.page > 1).then(|| {
        link(CatalogQuery {
            page: q.page - 1,
            ..q.clone()
        })
    });
    let next = (q.page < pages).then(|| {
        link(CatalogQuery {
            page: q.page + 1,
            ..q.clone()
        })
    });
    let filtered = !q.q.is_empty() || q.tag.is_some() || q.level.is_some() || q.language.is_some();
    let sel = |cur: Option<String>, v: &str| cur.as_deref() == Some(v);
    let (cur_tag, cur_lang) = (q.tag.clone(), q.language.clone());
    let cur_level = q.level;
    let cur_sort = q.sort;
    view! {
        // A plain GET form: the URL carries the whole search, with or without JavaScript.
        <form method="get" action="/courses" class="catalog-search" role="search" data-testid="catalog-search">
            <div class="field search-field">
                <label for="catalog-q">{move || s().search_label}</label>
                <input id="catalog-q" type="search" name="q" value=q.q.clone()
                    placeholder=move || s().search_placeholder data-testid="catalog-q" enterkeyhint="search"/>
            </div>
            <div class="filters">
                <label>
                    <span>{move || s().filter_level}</span>
                    <select name="level" data-testid="filter-level">
                        <option value="">{move || s().filter_any}</option>
                        {Level::ALL.into_iter().map(|l| view! {
                            <option value=l.key() selected=cur_level == Some(l)>
                                {move || level_label(l, locale.get().strings())}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{move || s().filter_language}</span>
                    <select name="lang" data-testid="filter-lang">
                        <option value="">{move || s().filter_any}</option>
                        {page.all_languages.iter().map(|l| view! {
                            <option value=l.clone() selected=sel(cur_lang.clone(), l)>{l.clone()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{move || s().filter_tag}</span>
                    <select name="tag" data-testid="filter-tag">
                        <option value="">{move || s().filter_any}</option>
                        {page.all_tags.iter().map(|t| view! {
                            <option value=t.clone() selected=sel(cur_tag.clone(), t)>{t.clone()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{move || s().sort_label}</span>
                    <select name="sort" data-testid="sort">
                        {Sort::ALL.into_iter().map(|o| view! {
                            <option value=o.key() selected=cur_sort == o>
                                {move || match o {
                                    Sort::Relevance => s().sort_relevance,
                                    Sort::Newest => s().sort_newest,
                                    Sort::MostEnrolled => s().sort_enrolled,
                                    Sort::BestRated => s().sort_rated,
                                }}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <button type="submit" class="button" data-testid="catalog-submit">{move || s().search_submit}</button>
        </form>
        <p class="muted" data-testid="catalog-total">
            {page.total} " " {move || s().results}
            {filtered.then(|| view! { " · " <a href="/courses">{move || s().clear_filters}</a> })}
        </p>
        {if page.cards.is_empty() {
            view! { <p class="empty" data-testid="catalog-empty">{move || s().no_results}</p> }.into_any()
        } else {
            view! {
                <ul class="course-grid" data-testid="course-list">
                    {page.cards.into_iter().map(|c| view! { <CourseCardView card=c/> }).collect_view()}
                </ul>
            }.into_any()
        }}
        <nav class="pager" aria-label="pages">
            {prev.map(|href| view! { <a href=href rel="prev" data-testid="page-prev">{move || s().page_prev}</a> })}
            <span>{q.page} " " {move || s().page_of} " " {pages}</span>
            {next.map(|href| view! { <a href=href rel="next" data-testid="page-next">{move || s().page_next}</a> })}
        </nav>
    }
}

#[component]
fn CourseCardView(
    card: CourseCard,
    /// On the learner's own page: how far they are.
    #[prop(optional)]
    progress: Option<CourseProgress>,
) -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let href = format!("/courses/{}", card.slug);
    view! {
        <li class="course-card" data-testid="course-card" data-slug=card.slug.clone()>
            <h2><a href=href inner_html=card.title_html.clone()></a></h2>
            <p class="summary" inner_html=card.summary_html.clone()></p>
            <p class="meta">
                <span class="pill">{move || level_label(card.level, locale.get().strings())}</span>
                <span class="pill">{card.language.clone()}</span>
                {card.tags.iter().map(|t| view! { <span class="tag">"#" {t.clone()}</span> }).collect_view()}
            </p>
            <p class="meta muted">
                {card.enrolled} " " {move || s().enrolled_count}
                {card.rating.map(|r| format!(" · ★ {r:.1}"))}
                {(!card.published).then(|| view! { " · " <strong>{move || s().draft}</strong> })}
            </p>
            {progress.map(|p| {
                let pct = p.percent();
                view! {
                    <progress class="meter" max="100" value=pct.to_string()
                        aria-label=move || format!("{} {pct}%", s().progress)
                        data-testid="card-progress" data-percent=pct.to_string()>{format!("{pct}%")}</progress>
                    <p class="meta muted">{p.lessons_done} " / " {p.lessons_total} " " {move || s().lessons_done}</p>
                }
            })}
        </li>
    }
}

/// A progress bar with the figures behind it.
#[component]
fn ProgressBox(progress: CourseProgress) -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let pct = progress.percent();
    view! {
        <div class="progress-box" data-testid="course-progress">
            <h2>{move || s().progress}</h2>
            <progress class="meter" max="100" value=pct.to_string()
                aria-label=move || format!("{} {pct}%", s().progress)
                data-testid="progress-bar" data-percent=pct.to_string()>{format!("{pct}%")}</progress>
            <ul class="figures">
                <li>{progress.lessons_done} " / " {progress.lessons_total} " " {move || s().lessons_done}</li>
                {(progress.video_secs > 0.0).then(|| view! {
                    <li data-testid="progress-video">{clock(progress.watched_secs)} " / " {clock(progress.video_secs)} " " {move || s().video_watched}</li>
                })}
                {(progress.quiz_total > 0).then(|| view! {
                    <li>{progress.quiz_correct} " / " {progress.quiz_total} " " {move || s().quiz_score}</li>
                })}
            </ul>
        </div>
    }
}

/// `/courses/:slug`: description, syllabus, enrolment and progress.
#[component]
pub fn CoursePage() -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()));
    let enrol = ServerAction::<EnrolCourse>::new();
    let leave = ServerAction::<LeaveCourse>::new();
    let rate = ServerAction::<RateCourse>::new();
    let (enrolled, left, rated) = (successes(enrol), successes(leave), successes(rate));
    let course = Resource::new(
        move || (slug.get(), enrolled.get(), left.get(), rated.get()),
        |(slug, ..)| get_course(slug),
    );
    let user = use_user().0;
    let action_error = Signal::derive(move || {
        [enrol.value().get(), leave.value().get(), rate.value().get()]
            .into_iter()
            .flatten()
            .find_map(|r| r.err())
            .map(|e| e.message(locale.get()))
    });
    view! {
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {move || Suspend::new(async move {
                let signed_in = matches!(user.await, Ok(Some(_)));
                match course.await {
                    Err(e) => view! { <crate::ui::layout::PageError error=e testid="course-error"/> }.into_any(),
                    Ok(c) => {
                        let slug_value = StoredValue::new(c.card.slug.clone());
                        let next_path = format!("/signin?next=/courses/{}", c.card.slug);
                        let resume = c.resume.clone().map(|id| format!("/lessons/{id}"));
                        let has_progress = c.progress.as_ref().is_some_and(|p| p.lessons_done > 0);
                        view! {
                            <Title text=c.card.title.clone()/>
                            <article class="course" data-testid="course-page">
                                <header class="course-head">
                                    <p class="crumbs"><a href="/courses">{move || s().catalog_title}</a></p>
                                    <h1 data-testid="course-title">{c.card.title.clone()}</h1>
                                    <p class="lead" inner_html=c.card.summary_html.clone()></p>
                                    <p class="meta">
                                        <span class="pill">{move || level_label(c.card.level, locale.get().strings())}</span>
                                        <span class="pill">{c.card.language.clone()}</span>
                                        {c.card.tags.iter().map(|t| view! { <a class="tag" href=format!("/courses?tag={}", crate::courses::model::encode_component(t))>"#" {t.clone()}</a> }).collect_view()}
                                    </p>
                                    <p class="meta muted">
                                        {move || s().by} " " {c.authors.join(", ")}
                                        {c.starts_on.clone().map(|d| view! { " · " {move || s().dates} " " {d.clone()} {c.ends_on.clone().map(|e| format!(" – {e}"))} })}
                                        " · " {c.card.enrolled} " " {move || s().enrolled_count}
                                        {c.card.rating.map(|r| format!(" · ★ {r:.1}"))}
                                    </p>
                                    <FormMessage error=action_error testid="course-action"/>
                                    <div class="actions">
                                        {c.can_edit.then(|| view! {
                                            <a class="button" href=format!("/courses/{}/edit", c.card.slug) data-testid="course-edit">{move || s().ed_edit}</a>
                                        })}
                                        {if c.enrolled {
                                            view! {
                                                <a class="button" href=resume.clone().unwrap_or_default() data-testid="course-resume">
                                                    {move || if has_progress { s().resume } else { s().start }}
                                                </a>
                                                <ActionForm action=leave attr:class="inline-form">
                                                    <input type="hidden" name="slug" value=slug_value.get_value()/>
                                                    <button type="submit" class="link-button" data-testid="course-leave">{move || s().unenrol}</button>
                                                </ActionForm>
                                            }.into_any()
                                        } else if signed_in {
                                            view! {
                                                <ActionForm action=enrol attr:class="inline-form">
                                                    <input type="hidden" name="slug" value=slug_value.get_value()/>
                                                    <button type="submit" class="button" data-testid="course-enrol">{move || s().enrol}</button>
                                                </ActionForm>
                                            }.into_any()
                                        } else {
                                            view! { <a class="button" href=next_path.clone() data-testid="course-sign-in">{move || s().sign_in_to_enrol}</a> }.into_any()
                                        }}
                                    </div>
                                </header>
                                {c.progress.clone().map(|p| view! { <ProgressBox progress=p/> })}
                                <section class="syllabus" data-testid="syllabus">
                                    <h2>{move || s().syllabus}</h2>
                                    {c.sections.iter().map(|sec| view! {
                                        <h3>{sec.title.clone()}</h3>
                                        <ol class="lessons">
                                            {sec.lessons.iter().map(|l| {
                                                let kind = l.kind;
                                                view! {
                                                    <li class:done=l.done data-testid="syllabus-lesson" data-done=l.done.to_string() data-kind=kind.key()>
                                                        <a href=format!("/lessons/{}", l.id)>{l.title.clone()}</a>
                                                        <span class="kind">{move || kind_label(kind, s())}</span>
                                                        {l.done.then(|| view! { <span class="check" aria-label=move || s().done>"✓"</span> })}
                                                    </li>
                                                }
                                            }).collect_view()}
                                        </ol>
                                    }).collect_view()}
                                </section>
                                <section class="description markdown" inner_html=c.description_html.clone()></section>
                                {c.enrolled.then(|| view! {
                                    <ActionForm action=rate attr:class="form rate-form">
                                        <input type="hidden" name="slug" value=slug_value.get_value()/>
                                        <label for="rate-stars">{move || s().rate_label}</label>
                                        <select id="rate-stars" name="stars" data-testid="rate-stars">
                                            {(1..=5).map(|n| view! { <option value=n.to_string()>{"★".repeat(n)}</option> }).collect_view()}
                                        </select>
                                        <button type="submit" class="button small" data-testid="rate-submit">{move || s().rate_submit}</button>
                                    </ActionForm>
                                })}
                            </article>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// `/lessons/:id`: a reading, a video or a quiz, with previous/next.
#[component]
pub fn LessonPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let complete = ServerAction::<CompleteLesson>::new();
    let quiz = ServerAction::<SubmitQuiz>::new();
    let (completed, answered) = (successes(complete), successes(quiz));
    let lesson = Resource::new(
        move || (id.get(), completed.get(), answered.get()),
        |(id, ..)| get_lesson(id),
    );
    view! {
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {move || Suspend::new(async move {
                match lesson.await {
                    Err(e) => view! { <crate::ui::layout::PageError error=e testid="lesson-error"/> }.into_any(),
                    Ok(l) => view! { <LessonBody lesson=l complete=complete quiz=quiz/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn LessonBody(
    lesson: LessonView,
    complete: ServerAction<CompleteLesson>,
    quiz: ServerAction<SubmitQuiz>,
) -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let course_href = format!("/courses/{}", lesson.course_slug);
    let kind = lesson.kind;
    let complete_error = Signal::derive(move || {
        complete
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.message(locale.get()))
    });
    view! {
        <Title text=lesson.title.clone()/>
        <article class="lesson" data-testid="lesson-page" data-kind=kind.key()>
            <p class="crumbs"><a href=course_href.clone() data-testid="lesson-course">{lesson.course_title.clone()}</a></p>
            <h1 data-testid="lesson-title">{lesson.title.clone()}</h1>
            <p class="meta">
                <span class="pill">{move || kind_label(kind, s())}</span>
                {lesson.done.then(|| view! { <span class="pill done" data-testid="lesson-done">"✓ " {move || s().done}</span> })}
            </p>
            {(!lesson.enrolled).then(|| view! {
                <p class="notice" data-testid="lesson-not-enrolled"><a href=course_href.clone()>{move || s().enrol_to_track}</a></p>
            })}
            {lesson.enrolled.then(|| view! { <LessonVisit lesson_id=lesson.id.clone()/> })}
            {lesson.video.clone().map(|v| view! { <VideoPlayer lesson_id=lesson.id.clone() video=v track=lesson.enrolled/> })}
            <div class="markdown" inner_html=lesson.body_html.clone() data-testid="lesson-body"></div>
            {(kind == LessonKind::Exercise).then(|| view! { <crate::exercises::pages::ExercisePanel lesson_id=lesson.id.clone()/> })}
            {(kind == LessonKind::Quiz).then(|| view! { <QuizForm lesson=lesson.clone() action=quiz/> })}
            {(lesson.enrolled && !lesson.done && kind == LessonKind::Text).then(|| view! {
                <ActionForm action=complete attr:class="inline-form">
                    <FormMessage error=complete_error testid="complete"/>
                    <input type="hidden" name="lesson_id" value=lesson.id.clone()/>
                    <button type="submit" class="button" data-testid="mark-read">{move || s().mark_read}</button>
                </ActionForm>
            })}
            {lesson.enrolled.then(|| view! { <ProgressBox progress=lesson.progress.clone()/> })}
            <nav class="lesson-nav">
                {lesson.prev.clone().map(|p| view! { <a href=format!("/lessons/{p}") rel="prev" data-testid="lesson-prev">"← " {move || s().previous}</a> })}
                <a href=course_href.clone()>{move || s().back_to_course}</a>
                {lesson.next.clone().map(|n| view! { <a href=format!("/lessons/{n}") rel="next" data-testid="lesson-next">{move || s().next} " →"</a> })}
            </nav>
        </article>
    }
}

#[component]
fn QuizForm(lesson: LessonView, action: ServerAction<SubmitQuiz>) -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let shown: Signal<Option<QuizResult>> = {
        let last = lesson.last_result.clone();
        Signal::derive(move || match action.value().get() {
            Some(Ok(r)) => Some(r),
            _ => last.clone(),
        })
    };
    let error = Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.message(locale.get()))
    });
    let questions = lesson.questions.clone();
    // Every attempt used without passing: the answers are shown and no more are taken.
    let exhausted = lesson
        .last_result
        .as_ref()
        .is_some_and(|r| !r.passed && r.attempts_allowed.is_some_and(|n| r.attempts_used >= n));
    view! {
        <ActionForm action=action attr:class="form quiz" attr:data-testid="quiz-form">
            <input type="hidden" name="lesson_id" value=lesson.id.clone()/>
            <FormMessage error=error testid="quiz"/>
            {questions.iter().enumerate().map(|(qi, q)| {
                let multiple = q.multiple;
                view! {
                    <fieldset class="question" data-testid="quiz-question">
                        <legend inner_html=q.prompt_html.clone()></legend>
                        {q.choices.iter().enumerate().map(|(ci, choice)| {
                            // Radios of one question share a name; each checkbox needs its own.
                            let name = if multiple {
                                format!("answers[{}]", qi * 32 + ci)
                            } else {
                                format!("answers[{}]", qi * 32)
                            };
                            view! {
                                <label class="choice">
                                    <input type=if multiple { "checkbox" } else { "radio" } name=name
                                        value=format!("{qi}:{ci}") data-testid=format!("choice-{qi}-{ci}")/>
                                    <span>{choice.clone()}</span>
                                </label>
                            }
                        }).collect_view()}
                        {move || shown.get().and_then(|r| r.questions.get(qi).cloned().map(|q| (q, r.revealed))).map(|(r, revealed)| {
                            let correct = r.correct.iter().map(|c| (c + 1).to_string()).collect::<Vec<_>>().join(", ");
                            view! {
                                <div class="feedback" class:right=r.right data-testid=format!("feedback-{qi}") data-right=r.right.to_string()>
                                    <strong>{move || if r.right { s().quiz_right } else { s().quiz_wrong }}</strong>
                                    {revealed.then(|| view! { " · " {move || s().quiz_correct_answer} " " {correct.clone()} })}
                                    <div class="markdown" inner_html=r.explanation_html.clone()></div>
                                </div>
                            }
                        })}
                    </fieldset>
                }
            }).collect_view()}
            {move || shown.get().map(|r| {
                let used = r.attempts_used.to_string();
                let attempts = match r.attempts_allowed {
                    Some(n) => s().quiz_attempt_of.replace("{used}", &used).replace("{allowed}", &n.to_string()),
                    None => s().quiz_attempts_unlimited.replace("{used}", &used),
                };
                view! {
                    <p class="quiz-result" data-testid="quiz-result" data-passed=r.passed.to_string() data-revealed=r.revealed.to_string()>
                        {move || s().quiz_result} ": " {r.correct} " / " {r.total} " · "
                        <strong>{move || if r.passed { s().quiz_passed } else { s().quiz_failed }}</strong>
                        " " <span data-testid="quiz-attempts">{attempts}</span>
                        {(!r.revealed).then(|| view! { " " {move || s().quiz_answers_later} })}
                    </p>
                }
            })}
            {(lesson.enrolled && !exhausted).then(|| view! {
                <button type="submit" class="button" data-testid="quiz-submit">{move || s().quiz_submit}</button>
            })}
        </ActionForm>
    }
}

/// After hydration: tells the server the learner opened this lesson (their place in the
/// course, and when a video's viewing began); loading the page changes nothing by itself.
/// An island in the small chunk; `data-visited` is for the tests.
#[island]
pub fn LessonVisit(lesson_id: String) -> impl IntoView {
    let visited = RwSignal::new(false);
    Effect::new(move |_| {
        let id = lesson_id.clone();
        leptos::task::spawn_local(async move {
            if crate::courses::api::visit_lesson(id).await.is_ok() {
                visited.set(true);
            }
        });
    });
    view! { <span hidden data-testid="lesson-visited" data-visited=move || visited.get().to_string()></span> }
}

/// The HTML5 player. With WASM running, it reports what was really played (intervals of
/// continuous playback) every 10 seconds, on pause, and on page hide through `sendBeacon`.
/// An island in the small chunk.
#[island]
pub fn VideoPlayer(lesson_id: String, video: VideoView, track: bool) -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let watched = RwSignal::new(video.watched_secs);
    let video_ref = NodeRef::<leptos::html::Video>::new();
    let tracker = StoredValue::new(PlayTracker::default());
    let duration = video.duration_secs;
    let at = move || video_ref.get_untracked().map(|v| v.current_time());

    let send = {
        let lesson_id = lesson_id.clone();
        move |beacon: bool| {
            let played = tracker
                .try_update_value(|t| t.take_report())
                .unwrap_or_default();
            let position = at().unwrap_or(0.0);
            if !track || played.is_empty() {
                return;
            }
            report(lesson_id.clone(), played, position, beacon, watched);
        }
    };

    #[cfg(feature = "hydrate")]
    {
        let send = send.clone();
        Effect::new(move |_| {
            if !track {
                return;
            }
            let every = send.clone();
            let _ =
                set_interval_with_handle(move || every(false), std::time::Duration::from_secs(10));
            let hide = send.clone();
            // Dropping the handle keeps the listener: it lives as long as the page.
            let _ = window_event_listener(leptos::ev::pagehide, move |_| hide(true));
        });
    }

    let on_stop = {
        let send = send.clone();
        move |_| {
            tracker.update_value(PlayTracker::on_stop);
            send(false);
        }
    };
    let on_seeking = move |_| tracker.update_value(PlayTracker::on_stop);
    let on_time = move |_| {
        if let Some(v) = video_ref.get_untracked()
            && !v.paused()
        {
            tracker.update_value(|t| t.on_time(v.current_time()));
        }
    };
    let start_at = video.position_secs;
    let on_loaded = move |_| {
        // Continue where the learner stopped (unless that was the very end).
        if let Some(v) = video_ref.get_untracked()
            && start_at > 0.0
            && start_at < duration - 2.0
        {
            v.set_current_time(start_at);
        }
    };
    view! {
        <figure class="video">
            <video
                node_ref=video_ref
                controls=true
                playsinline=true
                preload="metadata"
                src=video.src.clone()
                data-testid="lesson-video"
                on:timeupdate=on_time
                on:pause=on_stop.clone()
                on:ended=on_stop
                on:seeking=on_seeking
                on:loadedmetadata=on_loaded
            >
                {video.captions.clone().map(|c| view! { <track kind="captions" src=c default=true/> })}
            </video>
            <figcaption class="muted">
                {move || s().watched_so_far} ": "
                <span data-testid="watched" data-secs=move || format!("{:.1}", watched.get())>{move || clock(watched.get())}</span>
                " / " {clock(duration)}
            </figcaption>
        </figure>
    }
}

/// Sends a watch report: through the server function normally, through `sendBeacon` when
/// the page is going away (a fetch could be cancelled then).
fn report(lesson_id: String, played: String, position: f64, beacon: bool, watched: RwSignal<f64>) {
    #[cfg(feature = "hydrate")]
    {
        if beacon {
            if let (Some(window), Ok(params)) = (web_sys::window(), web_sys::UrlSearchParams::new())
            {
                params.append("lesson_id", &lesson_id);
                params.append("played", &played);
                params.append("position", &format!("{position:.2}"));
                let _ = window
                    .navigator()
                    .send_beacon_with_opt_url_search_params("/api/report_watch", Some(&params));
            }
            return;
        }
        leptos::task::spawn_local(async move {
            if let Ok(secs) = crate::courses::api::report_watch(lesson_id, played, position).await {
                watched.set(secs);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (lesson_id, played, position, beacon, watched);
    }
}

/// `/my/courses`: the learner's courses.
#[component]
pub fn MyCoursesPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || cs(locale);
    let courses = Resource::new(|| (), |_| my_courses());
    view! {
        <Title text=locale.get_untracked().strings().courses.my_courses/>
        <section class="catalog" data-testid="my-courses">
            <h1>{move || s().my_courses}</h1>
            <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
                {move || Suspend::new(async move {
                    match courses.await {
                        Err(e) => view! { <crate::ui::layout::PageError error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">{move || locale.get().strings().none_yet} " " <a href="/courses">{move || s().catalog_title}</a></p>
                        }.into_any(),
                        Ok(list) => view! {
                            <ul class="course-grid">
                                {list.into_iter().map(|c| view! {
                                    <CourseCardView card=c.card progress=c.progress/>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
