//! `/privacy`: what Pairwise keeps and why (for anyone, signed in or not), and for a signed-in
//! person the download of their data and the deletion of their account. Both are plain forms.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    accounts::pages::{RequireUser, use_user},
    i18n::{Locale, use_locale},
    privacy::{
        api::{DeleteAccount, PublishLegalText, admin_legal_texts, legal_text, retention_policy},
        legal::{LegalKind, LegalTextView},
    },
    ui::{
        form::{FormMessage, action_error},
        layout::{PageError, loading},
    },
};

/// "Version 3, published …" under a text.
fn version_line(t: &LegalTextView, locale: RwSignal<Locale>) -> String {
    locale
        .get_untracked()
        .strings()
        .privacy
        .version_published
        .replace("{n}", &t.version.to_string())
        .replace("{date}", &t.published)
}

/// `/terms`: the newest terms of use, for anyone.
#[component]
pub fn TermsPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings().privacy;
    let terms = Resource::new(|| (), |_| legal_text("terms".into()));
    view! {
        <Title text=locale.get_untracked().strings().privacy.terms_title/>
        <h1>{move || s().terms_title}</h1>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                match terms.await {
                    Ok(t) => view! {
                        <p class="muted small" data-testid="terms-version">{version_line(&t, locale)}</p>
                        <article class="markdown" data-testid="terms" inner_html=t.body_html></article>
                    }.into_any(),
                    Err(e) => view! { <PageError error=e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/admin/legal`: an admin publishes new versions of the terms and the privacy notice.
#[component]
pub fn LegalAdminPage() -> impl IntoView {
    view! { <RequireUser next="/admin/legal" signed_in=|_| view! { <LegalAdmin/> }/> }
}

#[component]
fn LegalAdmin() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings().privacy;
    let publish = ServerAction::<PublishLegalText>::new();
    let publish_error = action_error(publish, locale);
    let texts = Resource::new(move || publish.version().get(), |_| admin_legal_texts());
    view! {
        <Title text=locale.get_untracked().strings().privacy.legal_admin_title/>
        <p class="muted small"><a href="/admin">{move || locale.get().strings().admin_title}</a></p>
        <h1>{move || s().legal_admin_title}</h1>
        <p>{move || s().legal_admin_lead}</p>
        <FormMessage error=publish_error testid="publish"/>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let texts = match texts.await {
                    Ok(t) => t,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                texts.into_iter().map(|t| {
                    let title = match t.kind {
                        LegalKind::Terms => s().terms_title,
                        LegalKind::Privacy => s().notice_title,
                    };
                    let id = format!("legal-{}", t.kind.key());
                    let testid = id.clone();
                    view! {
                        <section class="panel" data-testid=testid>
                            <h2>{title}</h2>
                            <p class="muted small" data-testid="legal-version">{version_line(&t, locale)}</p>
                            <ActionForm action=publish attr:class="form">
                                <input type="hidden" name="kind" value=t.kind.key()/>
                                <label for=format!("{id}-body")>{move || s().legal_body}</label>
                                <textarea id=format!("{id}-body") name="body" rows="14" maxlength="50000" data-testid="legal-body">{t.body.clone()}</textarea>
                                <label for=format!("{id}-body-zh")>{move || s().legal_body_zh}</label>
                                <textarea id=format!("{id}-body-zh") name="body_zh" rows="14" maxlength="50000" lang="zh-Hans" data-testid="legal-body-zh">{t.body_zh.clone()}</textarea>
                                <button type="submit" class="button primary" data-testid="legal-publish">{move || s().publish}</button>
                            </ActionForm>
                        </section>
                    }
                }).collect_view().into_any()
            })}
        </Suspense>
    }
}

#[component]
pub fn PrivacyPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings().privacy;
    let user = use_user();
    let query = use_query_map();
    let deleted = move || query.read().get("deleted").is_some();
    let delete = ServerAction::<DeleteAccount>::new();
    let delete_error = action_error(delete, locale);
    let retention = Resource::new(|| (), |_| retention_policy());
    let notice = Resource::new(|| (), |_| legal_text("privacy".into()));
    view! {
        <Title text=locale.get_untracked().strings().privacy.title/>
        <h1>{move || s().title}</h1>
        {move || deleted().then(|| view! { <p class="alert alert-ok" data-testid="account-deleted">{s().deleted}</p> })}
        <p class="lead">{move || s().lead}</p>
        <section class="panel" id="notice">
            <h2>{move || s().notice_title}</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    notice.await.ok().map(|t| view! {
                        <p class="muted small" data-testid="notice-version">{version_line(&t, locale)}</p>
                        <article class="markdown" data-testid="notice" inner_html=t.body_html></article>
                    })
                })}
            </Suspense>
        </section>
        <section class="panel">
            <h2>{move || s().kept_title}</h2>
            <ul data-testid="kept">{move || s().kept.iter().map(|line| view! { <li>{*line}</li> }).collect_view()}</ul>
            <h3>{move || s().retention_title}</h3>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let r = retention.await.unwrap_or_default();
                    let line = move |text: &'static str, n: u32| text.replace("{n}", &n.to_string());
                    view! {
                        <ul data-testid="retention">
                            <li>{move || line(s().retain_addresses, r.addresses_days)}</li>
                            <li>{move || line(s().retain_mail, r.mail_days)}</li>
                            <li>{move || line(s().retain_rooms, r.rooms_days)}</li>
                            <li>{move || line(s().retain_tokens, r.tokens_days)}</li>
                        </ul>
                    }
                })}
            </Suspense>
        </section>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let signed_in = matches!(user.0.await, Ok(Some(_)));
                if !signed_in {
                    return view! {
                        <p><a class="button" href="/signin?next=/privacy" data-testid="privacy-sign-in">{move || s().sign_in_for_data}</a></p>
                    }.into_any();
                }
                view! {
                    <section class="panel" id="export">
                        <h2>{move || s().export_title}</h2>
                        <p>{move || s().export_lead}</p>
                        // A download: the browser saves the answer, the page stays.
                        <form method="post" action="/account/export" data-testid="export-form">
                            <button type="submit" class="button primary" data-testid="export-submit">{move || s().export_submit}</button>
                        </form>
                    </section>
                    <section class="panel danger-zone" id="delete">
                        <h2>{move || s().delete_title}</h2>
                        <p><strong>{move || s().delete_lead}</strong></p>
                        <ul>{move || s().delete_effects.iter().map(|line| view! { <li>{*line}</li> }).collect_view()}</ul>
                        <ActionForm action=delete attr:class="stack" attr:data-testid="delete-form">
                            <label for="delete-password">{move || s().delete_password}</label>
                            <input id="delete-password" name="password" type="password" required autocomplete="current-password" data-testid="delete-password"/>
                            <label class="check">
                                <input type="checkbox" name="confirm" value="yes" required data-testid="delete-confirm"/>
                                " " {move || s().delete_confirm}
                            </label>
                            <FormMessage error=delete_error testid="delete"/>
                            <button type="submit" class="button danger" data-testid="delete-submit">{move || s().delete_submit}</button>
                        </ActionForm>
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}
