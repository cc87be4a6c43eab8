//! The code editor: CodeMirror 6 driven from Rust. The server renders a plain `<textarea>`
//! holding the code (it works, and posts with its form, before any script runs); in the browser
//! CodeMirror takes over, loaded on first use from `/editor/codemirror.js` (the bundle the
//! build makes from pinned `@codemirror/*` packages), and keeps the textarea's value in step
//! so the surrounding form still posts what is on screen.

use leptos::prelude::*;

/// In `<head>` of a page with an editor: fetches the editor's modules (the entry at its
/// versioned address, and everything it imports) while the page's WASM loads, and tells the
/// editor where the entry is. `language` also fetches that language's grammar, `shared` the
/// shared editor's code (both otherwise load on demand). Rendered by the server page around the
/// island, never inside one.
#[component]
pub fn EditorPreload(
    #[prop(optional)] language: Option<&'static str>,
    #[prop(optional)] shared: bool,
) -> impl IntoView {
    use crate::ui::assets::{asset_url, module_addresses};
    let entry = asset_url("/editor/codemirror.js");
    let mut more = module_addresses("/editor/codemirror.js");
    if let Some(language) = language {
        more.extend(module_addresses(&format!("/editor/chunks/{language}")));
    }
    if shared {
        more.extend(module_addresses("/editor/chunks/collab"));
    }
    let mut seen = std::collections::HashSet::from([entry.clone()]);
    more.retain(|a| seen.insert(a.clone()));
    view! {
        <leptos_meta::Link rel="modulepreload" id="editor-bundle" href=entry/>
        {more.into_iter().map(|href| view! { <leptos_meta::Link rel="modulepreload" href=href/> }).collect_view()}
    }
}

/// What a page may do with a mounted editor.
#[derive(Clone, Copy)]
pub struct EditorHandle {
    /// The text now in the editor (CodeMirror's or the textarea's).
    pub text: RwSignal<String>,
    /// Set to replace the whole text (e.g. "start over").
    pub replace: WriteSignal<Option<String>>,
    replace_read: ReadSignal<Option<String>>,
}

impl EditorHandle {
    pub fn new(initial: String) -> Self {
        let (replace_read, replace) = signal(None);
        Self {
            text: RwSignal::new(initial),
            replace,
            replace_read,
        }
    }
}

/// `name` is the form field the code posts as; `language` one of javascript, python, rust,
/// html, css, sql.
#[component]
pub fn CodeEditor(
    name: &'static str,
    language: &'static str,
    label: String,
    handle: EditorHandle,
    #[prop(optional)] read_only: bool,
) -> impl IntoView {
    let area = NodeRef::<leptos::html::Textarea>::new();
    let host = NodeRef::<leptos::html::Div>::new();
    let initial = handle.text.get_untracked();
    #[cfg(not(feature = "hydrate"))]
    let _ = language;
    #[cfg(feature = "hydrate")]
    {
        let label = label.clone();
        Effect::new(move |_| {
            if let (Some(area), Some(host)) = (area.get(), host.get()) {
                client::mount(area, host, language, read_only, &label, handle);
            }
        });
    }
    Effect::new(move |_| {
        if let Some(text) = handle.replace_read.get() {
            #[cfg(feature = "hydrate")]
            client::replace(host, &text);
            handle.text.set(text);
        }
    });
    view! {
        <div class="code-editor" node_ref=host>
            <textarea
                node_ref=area
                name=name
                class="code-fallback"
                aria-label=label
                spellcheck="false"
                autocapitalize="off"
                autocomplete="off"
                readonly=read_only
                rows="14"
                on:input=move |ev| handle.text.set(event_target_value(&ev))
                prop:value=move || handle.text.get()
            >
                {initial}
            </textarea>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::{
        prelude::*,
        wasm_bindgen::{JsCast, closure::Closure, prelude::*},
    };

    use super::EditorHandle;

    #[wasm_bindgen(inline_js = "
export function mount_editor(host, doc, language, readOnly, label, onChange, onReady) {
  import(document.getElementById('editor-bundle')?.href || '/editor/codemirror.js').then((m) => {
    if (!host.isConnected) { onReady(false); return; }
    const dark = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;
    const ed = m.create(host, doc, language, readOnly, dark, label, onChange, null);
    host.__pairwiseEditor = ed;
    onReady(true);
  }).catch((e) => { console.warn('editor unavailable, keeping the plain text area', e); onReady(false); });
}
export function replace_text(host, text) {
  if (host.__pairwiseEditor) host.__pairwiseEditor.setValue(text);
}
export function destroy_editor(host) {
  if (host.__pairwiseEditor) { host.__pairwiseEditor.destroy(); host.__pairwiseEditor = null; }
}
")]
    extern "C" {
        fn mount_editor(
            host: &web_sys::HtmlElement,
            doc: &str,
            language: &str,
            read_only: bool,
            label: &str,
            on_change: &JsValue,
            on_ready: &JsValue,
        );
        fn replace_text(host: &web_sys::HtmlElement, text: &str);
        fn destroy_editor(host: &web_sys::HtmlElement);
    }

    pub fn mount(
        area: web_sys::HtmlTextAreaElement,
        host: web_sys::HtmlDivElement,
        language: &'static str,
        read_only: bool,
        label: &str,
        handle: EditorHandle,
    ) {
        let shadow = area.clone();
        // CodeMirror reports every change; the textarea (which the form posts) follows.
        let on_change = Closure::<dyn Fn(String)>::new(move |text: String| {
            shadow.set_value(&text);
            handle.text.set(text);
        });
        let hidden = area.clone();
        let ready_host: web_sys::HtmlElement = host.clone().unchecked_into();
        let on_ready = Closure::once_into_js(move |ok: bool| {
            // The page may have been left while the bundle loaded: then there is nothing to do.
            let Some(text) = handle.text.try_get_untracked() else {
                destroy_editor(&ready_host);
                return;
            };
            if ok {
                let _ = web_sys::HtmlElement::style(&hidden).set_property("display", "none");
                // The text may have changed while the bundle loaded (a restored draft).
                replace_text(&ready_host, &text);
            }
        });
        mount_editor(
            &host,
            &area.value(),
            language,
            read_only,
            label,
            on_change.as_ref().unchecked_ref(),
            &on_ready,
        );
        let host_el: web_sys::HtmlElement = host.clone().unchecked_into();
        // The change callback lives as long as the component that owns the editor.
        StoredValue::new_local(on_change);
        let host_el = StoredValue::new_local(host_el);
        on_cleanup(move || host_el.with_value(destroy_editor));
    }

    pub fn replace(host: NodeRef<leptos::html::Div>, text: &str) {
        if let Some(host) = host.get_untracked() {
            replace_text(host.unchecked_ref(), text);
        }
    }
}
