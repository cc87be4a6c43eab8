//! `/notifications`: the caller's notifications in their language and the e-mail choice per
//! kind. Plain forms: marking read and saving choices work without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    i18n::{Locale, use_locale},
    notify::{
        api::{
            MarkNotificationRead, MarkNotificationsRead, SaveEmailPrefs, get_email_prefs,
            get_notifications,
        },
        model::EmailMode,
        text::NotifyStrings,
    },
    ui::form::{FormMessage, action_error, successes},
};

fn ns(locale: RwSignal<Locale>) -> &'static NotifyStrings {
    locale.get().strings().notify
}

/// `/notifications`: the caller's latest notifications.
#[component]
pub fn NotificationsPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || ns(locale);
    let mark = ServerAction::<MarkNotificationsRead>::new();
    let mark_one = ServerAction::<MarkNotificationRead>::new();
    let marked = Memo::new(move |_| successes(mark).get() + successes(mark_one).get());
    let list = Resource::new(move || marked.get(), |_| get_notifications());
    view! {
        <Title text=locale.get_untracked().strings().notify.notifications/>
        <h1>{move || s().notifications}</h1>
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <crate::ui::layout::PageError error=e/> }.into_any(),
                    Ok((items, unread)) => view! {
                        <p data-testid="unread" data-unread=unread.to_string()>{unread} " " {move || s().unread}</p>
                        {if items.is_empty() {
                            view! { <p class="muted">{move || s().no_notifications}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="notifications" data-testid="notifications">
                                    {items.into_iter().map(|n| view! {
                                        <li class:unread=!n.read data-testid="notification">
                                            <a href=n.link.clone()>{n.text.clone()}</a>
                                            " " <time class="muted" datetime=n.created_at.clone()>{n.when.clone()}</time>
                                            {(!n.read).then(|| view! {
                                                <ActionForm action=mark_one attr:class="inline-form">
                                                    <input type="hidden" name="id" value=n.id.clone()/>
                                                    <button type="submit" class="link-button" data-testid="mark-one-read">{move || s().mark_one_read}</button>
                                                </ActionForm>
                                            })}
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        <ActionForm action=mark attr:class="inline-form">
                            <button type="submit" class="button subtle" data-testid="mark-all-read">{move || s().mark_read}</button>
                        </ActionForm>
                    }.into_any(),
                }
            })}
        </Suspense>
        <EmailPrefsForm/>
    }
}

/// The e-mail choices, on the notifications page.
#[component]
pub fn EmailPrefsForm() -> impl IntoView {
    let locale = use_locale();
    let s = move || ns(locale);
    let save = ServerAction::<SaveEmailPrefs>::new();
    let saved = successes(save);
    let error = action_error(save, locale);
    let prefs = Resource::new(move || saved.get(), |_| get_email_prefs());
    let ok = Signal::derive(move || (saved.get() > 0).then(|| ns(locale).saved));
    view! {
        <section class="panel">
            <h2>{move || s().email_title}</h2>
            <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
                {move || Suspend::new(async move {
                    let p = match prefs.await {
                        Ok(p) => p,
                        Err(e) => {
                            let msg = e.message(locale.get_untracked());
                            return view! { <p class="form-error" role="alert" data-testid="page-error">{msg}</p> }.into_any();
                        }
                    };
                    view! {
                        <ActionForm action=save attr:class="stack" attr:data-testid="email-prefs-form">
                            {p.modes.into_iter().map(|(kind, mode)| {
                                let name = kind.key();
                                view! {
                                    <label class="pref-row">{move || s().kind_name(kind)}
                                        <select name=name data-testid=format!("pref-{name}")>
                                            {EmailMode::ALL.into_iter().map(|m| view! {
                                                <option value=m.key() selected=m == mode>{move || s().mode_name(m)}</option>
                                            }).collect_view()}
                                        </select>
                                    </label>
                                }
                            }).collect_view()}
                            <FormMessage error=error success=ok testid="prefs"/>
                            <button type="submit" class="button" data-testid="save-prefs">{move || s().save}</button>
                        </ActionForm>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}
