//! Account pages: sign in, sign up, password reset, profile, email verification, user
//! administration.
//! Every form is an `<ActionForm>`, so it works before (or without) WASM.

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::{
    accounts::{
        api::{
            ChangePassword, ConfirmEmailChange, RequestEmailChange, RequestPasswordReset,
            ResendVerification, ResetPassword, SignIn, SignUp, UpdateProfile, VerifyEmail,
            consent_versions, get_profile,
        },
        model::{CurrentUser, Profile, format_skills},
    },
    error::{AppError, Problem},
    i18n::{Locale, use_locale},
    ui::{
        form::{FormMessage, SubmitButton, TextArea, TextField, succeeded, successes},
        layout::Card,
    },
};

/// Bumped whenever who is signed in may have changed; the current-user resource follows it.
#[derive(Clone, Copy)]
pub struct AuthEpoch(pub RwSignal<u32>);

/// The signed-in user resource, provided at the root of the app.
#[derive(Clone, Copy)]
pub struct UserResource(pub Resource<Result<Option<CurrentUser>, AppError>>);

pub fn use_user() -> UserResource {
    expect_context::<UserResource>()
}

/// Splits an action's last error into "about this field" and "about the form".
fn field_error<T: Clone + Send + Sync + 'static>(
    value: Signal<Option<Result<T, AppError>>>,
    locale: RwSignal<Locale>,
    fields: &'static [Problem],
) -> Signal<Option<String>> {
    Signal::derive(move || match value.get() {
        Some(Err(e)) if e.problem().is_some_and(|p| fields.contains(&p)) => {
            Some(e.message(locale.get()))
        }
        _ => None,
    })
}

fn form_error<T: Clone + Send + Sync + 'static>(
    value: Signal<Option<Result<T, AppError>>>,
    locale: RwSignal<Locale>,
    field_problems: &'static [Problem],
) -> Signal<Option<String>> {
    Signal::derive(move || match value.get() {
        Some(Err(e)) if !e.problem().is_some_and(|p| field_problems.contains(&p)) => {
            Some(e.message(locale.get()))
        }
        _ => None,
    })
}

const EMAIL_PROBLEMS: &[Problem] = &[Problem::EmailInvalid, Problem::EmailTaken];
const EMAIL_CHANGE_FIELDS: &[Problem] = &[
    Problem::EmailInvalid,
    Problem::EmailSame,
    Problem::WrongCurrentPassword,
];
const PASSWORD_PROBLEMS: &[Problem] = &[
    Problem::PasswordTooShort,
    Problem::PasswordTooLong,
    Problem::PasswordCommon,
];
const NAME_PROBLEMS: &[Problem] = &[Problem::NameEmpty, Problem::NameTooLong];
const SIGN_UP_FIELDS: &[Problem] = &[
    Problem::EmailInvalid,
    Problem::EmailTaken,
    Problem::PasswordTooShort,
    Problem::PasswordTooLong,
    Problem::PasswordCommon,
    Problem::NameEmpty,
    Problem::NameTooLong,
];

/// After a successful sign-in or sign-up, everything that depends on the user refetches.
fn bump_epoch_on_success<T: Clone + Send + Sync + 'static>(
    value: Signal<Option<Result<T, AppError>>>,
) {
    let epoch = expect_context::<AuthEpoch>().0;
    Effect::new(move |_| {
        if matches!(value.get(), Some(Ok(_))) {
            epoch.update(|n| *n += 1);
        }
    });
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings();
    let action = ServerAction::<SignIn>::new();
    let value: Signal<_> = action.value().into();
    bump_epoch_on_success(value);
    let next = move || use_query_map().with(|q| q.get("next")).unwrap_or_default();
    // Sign-up ends here, with the same words whether or not the address had an account.
    let signed_up = move || use_query_map().with(|q| q.get("signed_up").is_some());
    // A password reset ends here too: every session was signed out.
    let reset = move || use_query_map().with(|q| q.get("reset").is_some());
    view! {
        <Card title=Signal::derive(move || s().sign_in_title)>
            <Show when=signed_up>
                <p class="alert alert-ok" role="status" data-testid="sign-up-sent">
                    {move || s().sign_up_check_email}
                </p>
            </Show>
            <Show when=reset>
                <p class="alert alert-ok" role="status" data-testid="password-reset-done">
                    {move || s().reset_done}
                </p>
            </Show>
            <ActionForm action=action attr:novalidate=true attr:data-testid="sign-in-form" attr:class="form">
                <input type="hidden" name="next" value=next/>
                <FormMessage error=form_error(value, locale, &[]) testid="sign-in"/>
                <TextField
                    name="email"
                    kind="email"
                    label=Signal::derive(move || s().email)
                    autocomplete="username"
                />
                <TextField
                    name="password"
                    kind="password"
                    label=Signal::derive(move || s().password)
                    autocomplete="current-password"
                />
                <SubmitButton
                    label=Signal::derive(move || s().sign_in_submit)
                    working=Signal::derive(move || s().working)
                    pending=action.pending()
                />
            </ActionForm>
            <p class="form-alt">
                <a href="/signup" data-testid="to-sign-up">{move || s().sign_in_no_account}</a>
                " · "
                <a href="/forgot-password" data-testid="to-forgot-password">{move || s().sign_in_forgot}</a>
            </p>
        </Card>
    }
}

/// `/forgot-password`: asks for a reset link. The page says the same for every address.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings();
    let action = ServerAction::<RequestPasswordReset>::new();
    let value: Signal<_> = action.value().into();
    let sent = move || {
        use_query_map().with(|q| q.get("sent").is_some()) || matches!(value.get(), Some(Ok(())))
    };
    view! {
        <Card title=Signal::derive(move || s().forgot_title)>
            <Show
                when=sent
                fallback=move || view! {
                    <p>{move || s().forgot_lead}</p>
                    <ActionForm action=action attr:novalidate=true attr:data-testid="forgot-form" attr:class="form">
                        <FormMessage error=form_error(value, locale, &[Problem::EmailInvalid]) testid="forgot"/>
                        <TextField
                            name="email"
                            kind="email"
                            label=Signal::derive(move || s().email)
                            autocomplete="username"
                            error=field_error(value, locale, &[Problem::EmailInvalid])
                        />
                        <SubmitButton
                            label=Signal::derive(move || s().forgot_submit)
                            working=Signal::derive(move || s().working)
                            pending=action.pending()
                        />
                    </ActionForm>
                }
            >
                <p class="alert alert-ok" role="status" data-testid="reset-sent">{move || s().forgot_sent}</p>
            </Show>
        </Card>
    }
}

/// `/reset-password?token=…`: the mailed link's page, where the new password is chosen.
/// Opening it changes nothing (link scanners only fetch pages); the form does.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings();
    let action = ServerAction::<ResetPassword>::new();
    let value: Signal<_> = action.value().into();
    let token = move || use_query_map().with(|q| q.get("token")).unwrap_or_default();
    view! {
        <Card title=Signal::derive(move || s().reset_title)>
            <ActionForm action=action attr:novalidate=true attr:data-testid="reset-form" attr:class="form">
                <FormMessage error=form_error(value, locale, PASSWORD_PROBLEMS) testid="reset"/>
                <input type="hidden" name="token" value=token/>
                <TextField
                    name="new_password"
                    kind="password"
                    label=Signal::derive(move || s().new_password)
                    autocomplete="new-password"
                    error=field_error(value, locale, PASSWORD_PROBLEMS)
                />
                <SubmitButton
                    label=Signal::derive(move || s().reset_submit)
                    working=Signal::derive(move || s().working)
                    pending=action.pending()
                />
            </ActionForm>
        </Card>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings();
    let action = ServerAction::<SignUp>::new();
    let value: Signal<_> = action.value().into();
    bump_epoch_on_success(value);
    let versions = Resource::new(|| (), |_| consent_versions());
    view! {
        <Card title=Signal::derive(move || s().sign_up_title)>
            <ActionForm action=action attr:novalidate=true attr:data-testid="sign-up-form" attr:class="form">
                <FormMessage error=form_error(value, locale, SIGN_UP_FIELDS) testid="sign-up"/>
                <TextField
                    name="email"
                    kind="email"
                    label=Signal::derive(move || s().email)
                    autocomplete="email"
                    error=field_error(value, locale, EMAIL_PROBLEMS)
                />
                <TextField
                    name="display_name"
                    label=Signal::derive(move || s().display_name)
                    autocomplete="name"
                    error=field_error(value, locale, NAME_PROBLEMS)
                />
                <TextField
                    name="password"
                    kind="password"
                    label=Signal::derive(move || s().password)
                    autocomplete="new-password"
                    hint=Signal::derive(move || s().password_hint)
                    error=field_error(value, locale, PASSWORD_PROBLEMS)
                />
                // Consent, recorded with the versions of both texts it was given for.
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        versions.await.ok().map(|(terms, privacy)| view! {
                            <input type="hidden" name="terms_version" value=terms.to_string()/>
                            <input type="hidden" name="privacy_version" value=privacy.to_string()/>
                        })
                    })}
                </Suspense>
                <label class="check" data-testid="accept-label">
                    <input type="checkbox" name="accept" value="yes" data-testid="input-accept"/>
                    " " {move || s().privacy.accept_before}
                    <a href="/terms" target="_blank" rel="noopener">{move || s().privacy.terms_link}</a>
                    {move || s().privacy.accept_and}
                    <a href="/privacy#notice" target="_blank" rel="noopener">{move || s().privacy.notice_link}</a>
                </label>
                <SubmitButton
                    label=Signal::derive(move || s().sign_up_submit)
                    working=Signal::derive(move || s().working)
                    pending=action.pending()
                />
            </ActionForm>
            <p class="form-alt">
                <a href="/signin" data-testid="to-sign-in">{move || s().sign_up_have_account}</a>
            </p>
        </Card>
    }
}

/// Renders `signed_in` with the user, or sends a signed-out visitor to sign in first.
#[component]
pub fn RequireUser<F, V>(next: &'static str, signed_in: F) -> impl IntoView
where
    F: Fn(CurrentUser) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let user = use_user().0;
    let locale = use_locale();
    view! {
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {
                let signed_in = signed_in.clone();
                move || {
                    let signed_in = signed_in.clone();
                    Suspend::new(async move {
                        match user.await {
                            Ok(Some(u)) => signed_in(u).into_any(),
                            _ => view! { <Redirect path=format!("/signin?next={next}")/> }.into_any(),
                        }
                    })
                }
            }
        </Suspense>
    }
}

#[component]
pub fn ProfilePage() -> impl IntoView {
    view! { <RequireUser next="/profile" signed_in=|_user| view! { <ProfileEditor/> }/> }
}

#[component]
fn ProfileEditor() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings();
    let update = ServerAction::<UpdateProfile>::new();
    let resend = ServerAction::<ResendVerification>::new();
    let change = ServerAction::<ChangePassword>::new();
    let change_email = ServerAction::<RequestEmailChange>::new();
    let change_email_value: Signal<_> = change_email.value().into();
    let email_sent = {
        let ok = succeeded(change_email);
        Signal::derive(move || ok.get().then(|| locale.get().strings().change_email_sent))
    };
    let saved = successes(update);
    let profile = Resource::new(move || saved.get(), |_| get_profile());
    let update_value: Signal<_> = update.value().into();
    let change_value: Signal<_> = change.value().into();
    let resend_value: Signal<_> = resend.value().into();
    let (ok_update, ok_change, ok_resend) =
        (succeeded(update), succeeded(change), succeeded(resend));
    let saved = Signal::derive(move || {
        ok_update
            .get()
            .then(|| locale.get().strings().profile_saved)
    });
    let changed = Signal::derive(move || {
        ok_change
            .get()
            .then(|| locale.get().strings().password_changed)
    });
    let sent = Signal::derive(move || {
        ok_resend
            .get()
            .then(|| locale.get().strings().verify_email_sent)
    });
    let profile_fields: &'static [Problem] = &[
        Problem::NameEmpty,
        Problem::NameTooLong,
        Problem::BioTooLong,
        Problem::SkillInvalid,
        Problem::TooManySkills,
        Problem::LanguageInvalid,
        Problem::TimezoneInvalid,
    ];
    let password_fields: &'static [Problem] = &[
        Problem::PasswordTooShort,
        Problem::PasswordTooLong,
        Problem::PasswordCommon,
        Problem::WrongCurrentPassword,
    ];
    let view_profile = move |p: Profile| {
        let roles = p.roles.clone();
        let verified = p.email_verified;
        view! {
            <leptos_meta::Title text=s().profile_title/>
            <section class="panel" data-testid="profile-summary">
                <h1>{move || s().profile_title}</h1>
                <p class="profile-name" data-testid="profile-name">{p.display_name.clone()}</p>
                <p class="muted" data-testid="profile-email">{p.email.clone()}</p>
                <p>
                    <span class="label">{move || s().roles}": "</span>
                    <span data-testid="profile-roles">
                        {
                            let roles = roles.clone();
                            move || {
                                roles
                                    .iter()
                                    .map(|r| r.label(s()))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            }
                        }
                    </span>
                </p>
                <p data-testid="email-status" class=if verified { "badge ok" } else { "badge warn" }>
                    {move || if verified { s().email_verified } else { s().email_not_verified }}
                </p>
                <Show when=move || !verified>
                    <ActionForm action=resend attr:class="inline-form" attr:data-testid="resend-form">
                        <FormMessage error=form_error(resend_value, locale, &[]) success=sent testid="resend"/>
                        <button type="submit" class="button">{move || s().verify_email_resend}</button>
                    </ActionForm>
                </Show>
            </section>
            <section class="panel">
                <h2>{move || s().profile_edit}</h2>
                <ActionForm action=update attr:novalidate=true attr:class="form" attr:data-testid="profile-form">
                    <FormMessage error=form_error(update_value, locale, profile_fields) success=saved testid="profile"/>
                    <TextField
                        name="display_name"
                        label=Signal::derive(move || s().display_name)
                        value=p.display_name.clone()
                        error=field_error(update_value, locale, &[Problem::NameEmpty, Problem::NameTooLong])
                    />
                    <TextArea
                        name="bio"
                        label=Signal::derive(move || s().bio)
                        value=p.bio.clone()
                        error=field_error(update_value, locale, &[Problem::BioTooLong])
                    />
                    <TextArea
                        name="skills"
                        label=Signal::derive(move || s().skills)
                        value=format_skills(&p.skills)
                        hint=Signal::derive(move || s().skills_hint)
                        error=field_error(update_value, locale, &[Problem::SkillInvalid, Problem::TooManySkills])
                    />
                    <TextField
                        name="languages"
                        label=Signal::derive(move || s().languages)
                        value=p.languages.join(", ")
                        hint=Signal::derive(move || s().languages_hint)
                        error=field_error(update_value, locale, &[Problem::LanguageInvalid])
                    />
                    <TextField
                        name="timezone"
                        label=Signal::derive(move || s().timezone)
                        value=p.timezone.clone()
                        hint=Signal::derive(move || s().timezone_hint)
                        error=field_error(update_value, locale, &[Problem::TimezoneInvalid])
                    />
                    <SubmitButton
                        label=Signal::derive(move || s().profile_save)
                        working=Signal::derive(move || s().working)
                        pending=update.pending()
                        testid="save-profile"
                    />
                </ActionForm>
            </section>
            <section class="panel">
                <h2>{move || s().change_password_title}</h2>
                <ActionForm action=change attr:novalidate=true attr:class="form" attr:data-testid="password-form">
                    <FormMessage error=form_error(change_value, locale, password_fields) success=changed testid="password"/>
                    <TextField
                        name="current_password"
                        kind="password"
                        label=Signal::derive(move || s().current_password)
                        autocomplete="current-password"
                        error=field_error(change_value, locale, &[Problem::WrongCurrentPassword])
                    />
                    <TextField
                        name="new_password"
                        kind="password"
                        label=Signal::derive(move || s().new_password)
                        autocomplete="new-password"
                        hint=Signal::derive(move || s().password_hint)
                        error=field_error(
                            change_value,
                            locale,
                            &[Problem::PasswordTooShort, Problem::PasswordTooLong, Problem::PasswordCommon],
                        )
                    />
                    <SubmitButton
                        label=Signal::derive(move || s().change_password_submit)
                        working=Signal::derive(move || s().working)
                        pending=change.pending()
                        testid="change-password"
                    />
                </ActionForm>
            </section>
            <section class="panel">
                <h2>{move || s().change_email_title}</h2>
                <ActionForm action=change_email attr:novalidate=true attr:class="form" attr:data-testid="email-change-form">
                    <FormMessage error=form_error(change_email_value, locale, EMAIL_CHANGE_FIELDS) success=email_sent testid="email-change"/>
                    <TextField
                        name="new_email"
                        kind="email"
                        label=Signal::derive(move || s().new_email)
                        autocomplete="email"
                        error=field_error(change_email_value, locale, &[Problem::EmailInvalid, Problem::EmailSame])
                    />
                    <TextField
                        name="password"
                        kind="password"
                        label=Signal::derive(move || s().current_password)
                        autocomplete="current-password"
                        error=field_error(change_email_value, locale, &[Problem::WrongCurrentPassword])
                    />
                    <SubmitButton
                        label=Signal::derive(move || s().change_email_submit)
                        working=Signal::derive(move || s().working)
                        pending=change_email.pending()
                        testid="email-change-submit"
                    />
                </ActionForm>
            </section>
            <section class="panel">
                <h2>{move || s().privacy.title}</h2>
                <p>
                    <a href="/privacy#export" data-testid="profile-export">{move || s().privacy.export_title}</a>
                    " · "
                    <a href="/privacy#delete" data-testid="profile-delete">{move || s().privacy.delete_title}</a>
                </p>
            </section>
        }
    };
    view! {
        <Transition fallback=move || view! { <p class="muted">{move || s().loading}</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => view_profile(p).into_any(),
                    Err(e) => view! { <crate::ui::layout::PageError error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Confirms an email address. The link in the email opens this page; the button posts the
/// token, so link scanners that only fetch pages do not use it up.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings();
    let action = ServerAction::<VerifyEmail>::new();
    let value: Signal<_> = action.value().into();
    let token = move || use_query_map().with(|q| q.get("token")).unwrap_or_default();
    let ok = succeeded(action);
    let done = Signal::derive(move || ok.get().then(|| s().verify_email_done));
    let failed = Signal::derive(move || {
        matches!(value.get(), Some(Err(_))).then(|| s().verify_email_failed.to_string())
    });
    view! {
        <Card title=Signal::derive(move || s().verify_email_title)>
            <ActionForm action=action attr:class="form" attr:data-testid="verify-form">
                <FormMessage error=failed success=done testid="verify"/>
                <input type="hidden" name="token" value=token/>
                <Show when=move || value.get().is_none() && !ok.get()>
                    <button type="submit" class="button primary" data-testid="verify-submit">
                        {move || s().verify_email_confirm}
                    </button>
                </Show>
            </ActionForm>
        </Card>
    }
}

/// `/confirm-email?token=…`: the link mailed to a new address. A button posts it (a link
/// scanner that only fetches the page changes nothing).
#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings();
    let action = ServerAction::<ConfirmEmailChange>::new();
    let value: Signal<_> = action.value().into();
    let token = move || use_query_map().with(|q| q.get("token")).unwrap_or_default();
    let ok = succeeded(action);
    let done = Signal::derive(move || ok.get().then(|| s().confirm_email_done));
    let failed = Signal::derive(move || match value.get() {
        Some(Err(e)) if e.problem() == Some(Problem::TokenInvalid) => {
            Some(s().confirm_email_failed.to_string())
        }
        Some(Err(e)) => Some(e.message(locale.get())),
        _ => None,
    });
    view! {
        <Card title=Signal::derive(move || s().confirm_email_title)>
            <ActionForm action=action attr:class="form" attr:data-testid="confirm-email-form">
                <FormMessage error=failed success=done testid="confirm-email"/>
                <input type="hidden" name="token" value=token/>
                <Show when=move || value.get().is_none() && !ok.get()>
                    <button type="submit" class="button primary" data-testid="confirm-email-submit">
                        {move || s().confirm_email_submit}
                    </button>
                </Show>
            </ActionForm>
        </Card>
    }
}
