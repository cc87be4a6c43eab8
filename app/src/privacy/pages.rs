//! `/privacy`: what Pairwise keeps and why (for anyone, signed in or not), and for a signed-in
//! person the download of their data and the deletion of their account. Both are plain forms.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    accounts::pages::use_user,
    i18n::use_locale,
    privacy::api::{DeleteAccount, retention_policy},
    ui::form::{FormMessage, action_error},
};

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
    view! {
        <Title text=locale.get_untracked().strings().privacy.title/>
        <h1>{move || s().title}</h1>
        {move || deleted().then(|| view! { <p class="alert alert-ok" data-testid="account-deleted">{s().deleted}</p> })}
        <p class="lead">{move || s().lead}</p>
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
