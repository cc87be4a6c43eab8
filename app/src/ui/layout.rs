//! Page frame: header with navigation, main content, footer. Mobile first.

use leptos::prelude::*;

/// The frame around every page. `nav` is the feature-aware navigation built by the app;
/// `bar` what stays in the header on every width (the notification count).
#[component]
pub fn Frame(
    #[prop(into)] brand: Signal<&'static str>,
    #[prop(into)] menu_label: Signal<&'static str>,
    #[prop(into)] footer: Signal<&'static str>,
    /// The privacy page's name, linked from every page (it is readable signed out).
    #[prop(into)]
    privacy: Signal<&'static str>,
    /// And the terms of use's.
    #[prop(into)]
    terms: Signal<&'static str>,
    bar: Children,
    nav: Children,
    children: Children,
) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"↓"</a>
        <header class="site-header">
            <a class="brand" href="/" data-testid="brand">
                <span class="brand-mark" aria-hidden="true">"⟨⟩"</span>
                {brand}
            </a>
            <div class="top-actions">{bar()}</div>
            // One compact bar on phones: the links sit behind a menu button, a native
            // <details> that opens without any script. From tablet width up the stylesheet
            // shows them in a row and hides the button.
            <details class="menu" data-testid="menu">
                <summary class="menu-button" data-testid="menu-button">
                    <span class="menu-icon" aria-hidden="true"></span>
                    <span class="menu-label">{menu_label}</span>
                </summary>
                <nav class="nav" aria-label=menu_label>{nav()}</nav>
            </details>
        </header>
        <main id="main" class="page">{children()}</main>
        <footer class="site-footer">{footer} " · " <a href="/privacy" data-testid="footer-privacy">{privacy}</a>
            " · " <a href="/terms" data-testid="footer-terms">{terms}</a></footer>
    }
}

/// A centred card, used by the short forms (sign in, sign up). Its title is the page's.
#[component]
pub fn Card(#[prop(into)] title: Signal<&'static str>, children: Children) -> impl IntoView {
    // The page's <title> is read once, as text: leptos_meta reads a reactive title when the
    // response is finished, and on a page with async parts (the sign-up form's Suspense) the
    // signal may be disposed by then (a panic, seen under load). The language changes by a
    // page load, so nothing is lost.
    view! {
        <leptos_meta::Title text=title.get_untracked()/>
        <section class="card">
            <h1>{title}</h1>
            {children()}
        </section>
    }
}

/// The HTTP status of the server-rendered page (a refusal is a 4xx, not a 200 with words).
pub fn respond_with(status: u16) {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(code) = http::StatusCode::from_u16(status)
    {
        res.set_status(code);
    }
    let _ = status;
}

/// What a page shows while its data is on the way.
pub fn loading(locale: RwSignal<crate::i18n::Locale>) -> impl IntoView {
    view! { <p class="muted">{move || locale.get().strings().loading}</p> }
}

/// A page whose content could not be shown: the error's status on the response (404 for
/// what does not exist, 403 for what the reader may not see...), its words as the title and
/// in the page.
#[component]
pub fn PageError(
    error: crate::error::AppError,
    #[prop(default = "page-error")] testid: &'static str,
) -> impl IntoView {
    respond_with(error.status_code());
    let text = error.message(crate::i18n::use_locale().get_untracked());
    view! {
        <leptos_meta::Title text=text.clone()/>
        <p class="form-error" role="alert" data-testid=testid>{text}</p>
    }
}
