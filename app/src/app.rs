//! The document shell, the root component and the router: one `path!()` per page.

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos_meta::MetaTags;
use leptos_meta::{Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{Route, Router, Routes},
    path,
};

use crate::{
    accounts::{
        api::{SetLocale, SignOut, demo_accounts, get_current_user},
        model::Capabilities,
        pages::{
            AuthEpoch, ForgotPasswordPage, ProfilePage, ResetPasswordPage, SignInPage, SignUpPage,
            UserResource, VerifyEmailPage, use_user,
        },
    },
    courses::{
        editor::{CourseEditPage, LessonEditPage, NewCoursePage},
        pages::{CatalogPage, CoursePage, LessonPage, MyCoursesPage},
    },
    exercises::pages::{ExerciseEditPage, SubmissionPage},
    i18n::{Locale, initial_locale, use_locale},
    rooms::pages::{RoomPage, RoomsPage},
    ui::layout::Frame,
};

/// The HTML document around the app. Rendered on the server only.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = initial_locale().tag();
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <meta name="theme-color" content="#1f6feb"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <AutoReload options/>
                // Not Leptos's own hydration script: only pages with islands load WebAssembly,
                // and each loads just the chunk its islands are in.
                <crate::ui::islands::IslandLoader/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let locale = RwSignal::new(initial_locale());
    provide_context(locale);
    let epoch = AuthEpoch(RwSignal::new(0));
    provide_context(epoch);
    let user = Resource::new_blocking(move || epoch.0.get(), |_| get_current_user());
    provide_context(UserResource(user));

    view! {
        <Stylesheet id="leptos" href=crate::ui::assets::asset_url("/pkg/pairwise.css")/>
        <Title formatter=|t: String| if t.is_empty() { "Pairwise".to_string() } else { format!("{t} · Pairwise") }/>
        <Router>
            <Frame
                brand=Signal::derive(move || locale.get().strings().app_name)
                menu_label=Signal::derive(move || locale.get().strings().nav_menu)
                footer=Signal::derive(move || locale.get().strings().footer)
                privacy=Signal::derive(move || locale.get().strings().privacy.title)
                terms=Signal::derive(move || locale.get().strings().privacy.terms_title)
                bar=Box::new(|| view! { <NavBar/> }.into_any())
                nav=Box::new(|| view! { <Nav/> }.into_any())
            >
                // Async SSR: every page arrives complete, so it reads and works before (or
                // without) WASM; out-of-order streaming would need scripts to fill it in.
                <ErrorBoundary fallback=|_errors| view! { <ErrorPage/> }>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signin") view=SignInPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("signup") view=SignUpPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("profile") view=ProfilePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("verify-email") view=VerifyEmailPage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("forgot-password") view=ForgotPasswordPage/>
                    <Route path=StaticSegment("reset-password") view=ResetPasswordPage/>
                    <Route path=StaticSegment("confirm-email") view=crate::accounts::pages::ConfirmEmailPage/>
                    <Route path=StaticSegment("admin") view=crate::admin::pages::AdminPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id") view=crate::admin::pages::AdminUserPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=crate::admin::pages::AuditLogPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/legal") view=crate::privacy::pages::LegalAdminPage ssr=SsrMode::Async/>
                    <Route path=path!("/terms") view=crate::privacy::pages::TermsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/mentor-applications") view=crate::mentoring::applications::pages::MentorApplicationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/courses") view=CatalogPage ssr=SsrMode::Async/>
                    <Route path=path!("/courses/new") view=NewCoursePage ssr=SsrMode::Async/>
                    <Route path=path!("/courses/:slug") view=CoursePage ssr=SsrMode::Async/>
                    <Route path=path!("/courses/:slug/edit") view=CourseEditPage ssr=SsrMode::Async/>
                    <Route path=path!("/lessons/:id/edit") view=LessonEditPage ssr=SsrMode::Async/>
                    <Route path=path!("/lessons/:id") view=LessonPage ssr=SsrMode::Async/>
                    <Route path=path!("/lessons/:id/exercise") view=ExerciseEditPage ssr=SsrMode::Async/>
                    <Route path=path!("/submissions/:id") view=SubmissionPage ssr=SsrMode::Async/>
                    <Route path=path!("/notifications") view=crate::notify::pages::NotificationsPage ssr=SsrMode::Async/>
                    <Route path=path!("/privacy") view=crate::privacy::pages::PrivacyPage ssr=SsrMode::Async/>
                    <Route path=path!("/my/courses") view=MyCoursesPage ssr=SsrMode::Async/>
                    <Route path=path!("/rooms") view=RoomsPage ssr=SsrMode::Async/>
                    <Route path=path!("/rooms/:id") view=RoomPage ssr=SsrMode::Async/>
                    <Route path=path!("/rooms/:id/replay") view=crate::rooms::code::pages::ReplayPage ssr=SsrMode::Async/>
                    <Route path=path!("/mentors") view=crate::mentoring::pages::MentorsPage ssr=SsrMode::Async/>
                    <Route path=path!("/mentors/find") view=crate::mentoring::pages::FindMentorsPage ssr=SsrMode::Async/>
                    <Route path=path!("/mentors/:id") view=crate::mentoring::pages::MentorPage ssr=SsrMode::Async/>
                    <Route path=path!("/mentoring") view=crate::mentoring::pages::MentoringPage ssr=SsrMode::Async/>
                    <Route path=path!("/mentoring/profile") view=crate::mentoring::pages::MentorSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/mentoring/apply") view=crate::mentoring::applications::pages::MentorApplyPage ssr=SsrMode::Async/>
                    <Route path=path!("/requests/:id") view=crate::mentoring::pages::RequestPage ssr=SsrMode::Async/>
                    <Route path=path!("/mentorships/:id") view=crate::mentoring::pages::MentorshipPage ssr=SsrMode::Async/>
                    <Route path=path!("/bookings/:id") view=crate::mentoring::pages::BookingPage ssr=SsrMode::Async/>
                    <Route path=path!("/progress") view=crate::progress::pages::ProgressPage ssr=SsrMode::Async/>
                    <Route path=path!("/progress/learners/:id") view=crate::progress::pages::LearnerProgressPage ssr=SsrMode::Async/>
                    <Route path=path!("/progress/mentees") view=crate::progress::pages::MentorProgressPage ssr=SsrMode::Async/>
                    <Route path=path!("/leaderboard") view=crate::progress::pages::LeaderboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/forum") view=crate::forum::pages::ForumPage ssr=SsrMode::Async/>
                    <Route path=path!("/forum/ask") view=crate::forum::pages::AskPage ssr=SsrMode::Async/>
                    <Route path=path!("/forum/moderation") view=crate::forum::pages::ModerationPage ssr=SsrMode::Async/>
                    <Route path=path!("/forum/search") view=crate::forum::pages::SearchPage ssr=SsrMode::Async/>
                    <Route path=path!("/forum/spaces/:slug") view=crate::forum::pages::GeneralSpacePage ssr=SsrMode::Async/>
                    <Route path=path!("/forum/courses/:slug") view=crate::forum::pages::CourseSpacePage ssr=SsrMode::Async/>
                    <Route path=path!("/forum/threads/:id") view=crate::forum::pages::ThreadPage ssr=SsrMode::Async/>
                    <Route path=path!("/forum/posts/:id/edit") view=crate::forum::pages::EditPostPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/analytics") view=crate::progress::pages::AnalyticsPage ssr=SsrMode::Async/>
                </Routes>
                </ErrorBoundary>
            </Frame>
        </Router>
    }
}

/// What stays in the header bar on a phone: the notifications (an island that keeps the
/// count live) for a signed-in user, the way to sign in for anyone else.
#[component]
fn NavBar() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings();
    let user = use_user().0;
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(_)) => view! {
                        <crate::ui::bell::NotificationBell label=s().notify.notifications.to_string()/>
                    }.into_any(),
                    _ => view! {
                        <a href="/signin" data-testid="nav-sign-in">{move || s().nav_sign_in}</a>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Navigation that reflects who is signed in, plus the language switch.
#[component]
fn Nav() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings();
    let user = use_user().0;
    let sign_out = ServerAction::<SignOut>::new();
    let epoch = expect_context::<AuthEpoch>().0;
    Effect::new(move |_| {
        if matches!(sign_out.value().get(), Some(Ok(()))) {
            epoch.update(|n| *n += 1);
        }
    });
    view! {
        <a href="/" data-testid="nav-home">{move || s().nav_home}</a>
        <a href="/courses" data-testid="nav-courses">{move || s().courses.nav_courses}</a>
        <a href="/forum" data-testid="nav-forum">{move || s().forum.nav}</a>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(u)) => {
                        let is_admin = u.roles.can_administer();
                        view! {
                            <a href="/my/courses" data-testid="nav-my-courses">{move || s().courses.my_courses}</a>
                            <a href="/progress" data-testid="nav-progress">{move || s().progress.nav}</a>
                            <a href="/mentoring" data-testid="nav-mentoring">{move || s().mentoring.nav_mentoring}</a>
                            <a href="/rooms" data-testid="nav-rooms">{move || s().rooms.nav_rooms}</a>
                            <a href="/profile" data-testid="nav-profile" title=move || s().signed_in_as>
                                {u.display_name.clone()}
                            </a>
                            <Show when=move || is_admin>
                                <a href="/admin" data-testid="nav-admin">{move || s().admin_title}</a>
                            </Show>
                            <ActionForm action=sign_out attr:class="inline-form">
                                <button type="submit" class="link-button" data-testid="nav-sign-out">
                                    {move || s().nav_sign_out}
                                </button>
                            </ActionForm>
                        }
                        .into_any()
                    }
                    _ => view! {
                        <a href="/signup" class="button small" data-testid="nav-sign-up">{move || s().nav_sign_up}</a>
                    }
                    .into_any(),
                }
            })}
        </Transition>
        <LanguageSwitch/>
    }
}

/// A form (so it works without JavaScript) that sets the language cookie; with JavaScript the
/// text changes in place.
#[component]
fn LanguageSwitch() -> impl IntoView {
    let locale = use_locale();
    let action = ServerAction::<SetLocale>::new();
    Effect::new(move |_| {
        if let Some(Ok(l)) = action.value().get() {
            locale.set(l);
        }
    });
    view! {
        <ActionForm action=action attr:class="lang-switch" attr:data-testid="lang-form">
            <label class="visually-hidden" for="lang-select">{move || locale.get().strings().language}</label>
            <select id="lang-select" name="locale" data-testid="lang-select">
                {Locale::ALL
                    .into_iter()
                    .map(|l| view! {
                        <option value=l.tag() selected=move || locale.get() == l>{l.native_name()}</option>
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="button small" data-testid="lang-submit">
                {move || locale.get().strings().switch_language}
            </button>
        </ActionForm>
    }
}

#[component]
fn HomePage() -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings();
    let user = use_user().0;
    let demo = Resource::new(|| (), |_| demo_accounts());
    view! {
        <Title text=""/>
        <section class="hero">
            <h1 data-testid="home-title">{move || s().home_title}</h1>
            <p class="lead">{move || s().home_lead}</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(u)) => view! {
                            <p class="welcome" data-testid="welcome">{move || s().home_welcome_back}", "{u.display_name.clone()}</p>
                        }.into_any(),
                        _ => view! {
                            <a class="button primary large" href="/signup" data-testid="cta-sign-up">{move || s().home_get_started}</a>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <ul class="points">
            <li>{move || s().home_point_courses}</li>
            <li>{move || s().home_point_mentors}</li>
            <li>{move || s().home_point_live}</li>
        </ul>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let accounts = demo.await.unwrap_or_default();
                (!accounts.is_empty()).then(|| view! {
                    <section class="panel demo" data-testid="demo-accounts">
                        <h2>{move || s().demo_title}</h2>
                        <p>{move || s().demo_lead}</p>
                        <div class="table-wrap">
                            <table>
                                <thead><tr>
                                    <th>{move || s().demo_role}</th>
                                    <th>{move || s().email}</th>
                                    <th>{move || s().password}</th>
                                </tr></thead>
                                <tbody>
                                    {accounts.into_iter().map(|a| view! {
                                        <tr>
                                            <td>{move || a.role.label(s())}</td>
                                            <td><code>{a.email.clone()}</code></td>
                                            <td><code>{a.password.clone()}</code></td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    </section>
                })
            })}
        </Transition>
    }
}

/// Shown when a page fails in a way it does not handle itself.
#[component]
fn ErrorPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::INTERNAL_SERVER_ERROR);
    }
    let locale = use_locale();
    let s = move || locale.get().strings();
    view! {
        <Title text=locale.get_untracked().strings().error_title/>
        <section class="panel center" data-testid="error-page" role="alert">
            <h1>{move || s().error_title}</h1>
            <p>{move || s().error_lead}</p>
            <a class="button" href="/">{move || s().back_home}</a>
        </section>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(http::StatusCode::NOT_FOUND);
    }
    let locale = use_locale();
    let s = move || locale.get().strings();
    view! {
        <Title text=locale.get_untracked().strings().not_found_title/>
        <section class="panel center" data-testid="not-found">
            <h1>{move || s().not_found_title}</h1>
            <p>{move || s().not_found_lead}</p>
            <a class="button" href="/">{move || s().back_home}</a>
        </section>
    }
}
