//! `/mentoring/apply` (a learner applies and follows their application) and
//! `/admin/mentor-applications` (admins decide): plain forms that work without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    accounts::pages::RequireUser,
    i18n::{Locale, use_locale},
    mentoring::applications::{
        api::{ApplyToMentor, DecideMentorApplication, mentor_applications, my_mentor_application},
        model::Status,
        text::ApplyStrings,
    },
    ui::{
        form::{FormMessage, action_error},
        layout::{PageError, loading},
    },
};

fn ap(locale: RwSignal<Locale>) -> &'static ApplyStrings {
    locale.get().strings().apply
}

#[component]
pub fn MentorApplyPage() -> impl IntoView {
    view! { <RequireUser next="/mentoring/apply" signed_in=|_| view! { <ApplyView/> }/> }
}

#[component]
fn ApplyView() -> impl IntoView {
    let locale = use_locale();
    let s = move || ap(locale);
    let apply = ServerAction::<ApplyToMentor>::new();
    let apply_error = action_error(apply, locale);
    let page = Resource::new(move || apply.version().get(), |_| my_mentor_application());
    view! {
        <Title text=locale.get_untracked().strings().apply.title/>
        <h1>{move || s().title}</h1>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let p = match page.await {
                    Ok(p) => p,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                let may_apply = p.may_apply();
                view! {
                    {match &p.application {
                        Some(a) if p.is_mentor && a.status == Status::Approved => view! { <p class="alert alert-ok" data-testid="apply-mentor">{move || s().approved}</p> }.into_any(),
                        _ if p.is_mentor => view! { <p class="alert alert-ok" data-testid="apply-mentor">{move || s().already_mentor}</p> }.into_any(),
                        Some(a) => {
                            let (class, words) = match a.status {
                                Status::Pending => ("alert", s().pending),
                                // Approved once, but the role was taken away since.
                                Status::Approved => ("alert", s().lead),
                                Status::Declined => ("alert alert-error", s().declined),
                            };
                            view! {
                                <section class="panel" data-testid="my-application" data-status=format!("{:?}", a.status).to_lowercase()>
                                    <p class=class data-testid="application-status">{words} {a.note.clone().map(|n| view! { " " <span data-testid="application-note">{n}</span> })}</p>
                                    <h2>{a.headline.clone()}</h2>
                                    <p class="pre-wrap">{a.about.clone()}</p>
                                    <p class="muted small">{move || s().submitted} " " {a.submitted.clone()}</p>
                                </section>
                            }.into_any()
                        }
                        None => view! { <p>{move || s().lead}</p> }.into_any(),
                    }}
                    {(!p.verified && !p.is_mentor).then(|| view! { <p class="alert" data-testid="apply-confirm-first">{move || s().confirm_first}</p> })}
                    {may_apply.then(|| view! {
                        <ActionForm action=apply attr:class="form" attr:data-testid="apply-form">
                            <label for="apply-headline">{move || s().headline_label}</label>
                            <input id="apply-headline" name="headline" maxlength="120" required data-testid="apply-headline"/>
                            <label for="apply-about">{move || s().about_label}</label>
                            <textarea id="apply-about" name="about" rows="6" maxlength="2000" required data-testid="apply-about"></textarea>
                            <button type="submit" class="button primary" data-testid="apply-submit">{move || s().submit}</button>
                        </ActionForm>
                    })}
                    <FormMessage error=apply_error testid="apply"/>
                }.into_any()
            })}
        </Suspense>
    }
}

#[component]
pub fn MentorApplicationsPage() -> impl IntoView {
    view! { <RequireUser next="/admin/mentor-applications" signed_in=|_| view! { <QueueView/> }/> }
}

#[component]
fn QueueView() -> impl IntoView {
    let locale = use_locale();
    let s = move || ap(locale);
    let decide = ServerAction::<DecideMentorApplication>::new();
    let decide_error = action_error(decide, locale);
    let queue = Resource::new(move || decide.version().get(), |_| mentor_applications());
    view! {
        <Title text=locale.get_untracked().strings().apply.queue_title/>
        <p class="muted small"><a href="/admin">{move || locale.get().strings().admin_title}</a></p>
        <h1>{move || s().queue_title}</h1>
        <FormMessage error=decide_error testid="decide"/>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let list = match queue.await {
                    Ok(l) => l,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                if list.is_empty() {
                    return view! { <p class="muted" data-testid="applications-empty">{move || s().queue_empty}</p> }.into_any();
                }
                view! {
                    <ul class="thread-list" data-testid="applications">
                        {list.into_iter().map(|a| {
                            let id = a.user_id.clone();
                            let note_id = format!("note-{}", a.user_id);
                            view! {
                                <li class="panel" data-testid="application" data-user=a.user_id.clone()>
                                    <h2><a href=format!("/admin/users/{}", a.user_id)>{a.name.clone()}</a> " · " {a.headline.clone()}</h2>
                                    <p class="muted small">{a.email.clone()} " · " {move || s().submitted} " " {a.submitted.clone()}</p>
                                    <p class="pre-wrap">{a.about.clone()}</p>
                                    <ActionForm action=decide attr:class="form">
                                        <input type="hidden" name="user_id" value=id/>
                                        <label for=note_id.clone()>{move || s().note_label}</label>
                                        <input id=note_id name="note" maxlength="500" data-testid="decision-note"/>
                                        <div class="actions">
                                            <button type="submit" name="decision" value="approve" class="button primary" data-testid="approve">{move || s().approve}</button>
                                            <button type="submit" name="decision" value="decline" class="button" data-testid="decline">{move || s().decline}</button>
                                        </div>
                                    </ActionForm>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </Suspense>
    }
}
