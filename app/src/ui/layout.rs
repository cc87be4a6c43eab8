//! Page frame: header with navigation, main content, footer. Mobile first.

use leptos::prelude::*;

/// The frame around every page. `nav` is the feature-aware navigation built by the app.
#[component]
pub fn Frame(
    #[prop(into)] brand: Signal<&'static str>,
    #[prop(into)] menu_label: Signal<&'static str>,
    #[prop(into)] footer: Signal<&'static str>,
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
            // One navigation for every width: on phones it wraps under the brand, so every
            // link stays one tap away without a script-driven menu.
            <nav class="nav" aria-label=menu_label>{nav()}</nav>
        </header>
        <main id="main" class="page">{children()}</main>
        <footer class="site-footer">{footer}</footer>
    }
}

/// A centred card, used by the short forms (sign in, sign up). Its title is the page's.
#[component]
pub fn Card(#[prop(into)] title: Signal<&'static str>, children: Children) -> impl IntoView {
    view! {
        <leptos_meta::Title text=move || title.get()/>
        <section class="card">
            <h1>{title}</h1>
            {children()}
        </section>
    }
}
