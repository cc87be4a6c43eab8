//! The forum's two islands (a chunk of their own, with the browser-storage and timer code only
//! they use): keeping what someone writes in their browser
//! until it is posted, and the questions like the one whose title is being typed. The forms
//! they sit in stay plain server-rendered forms; without WebAssembly they simply post.

use leptos::prelude::*;

use crate::{forum::model::SimilarThread, i18n::use_locale};

/// Keeps the text of the named `fields` of the form this island sits in, under `key` in the
/// browser's storage, as it is typed; puts it back when the page is opened again, and drops it
/// once the form has been posted and the next page shows no error. A draft that differs from
/// what the server filled in says so, with a button to throw it away.
#[cfg_attr(any(feature = "ssr", feature = "chunk-forum"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "chunk-forum")), component)]
pub fn DraftKeeper(key: String, fields: Vec<String>) -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings().forum;
    let restored = RwSignal::new(false);
    let anchor = NodeRef::<leptos::html::Span>::new();
    // Kept in the reactive arena so the button's handler is a plain copyable closure.
    let kept = StoredValue::new((key, fields));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(el) = anchor.get() {
            let (key, fields) = kept.get_value();
            drafts::keep(&el, key, fields, restored);
        }
    });
    let discard = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = anchor.get_untracked() {
            kept.with_value(|(key, fields)| drafts::discard(&el, key, fields));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = kept;
        restored.set(false);
    };
    view! {
        <span node_ref=anchor hidden></span>
        <Show when=move || restored.get()>
            <p class="draft-note muted small" data-testid="draft-restored">
                {move || s().draft_restored} " "
                <button type="button" class="button small subtle" on:click=discard
                    data-testid="draft-discard">{move || s().draft_discard}</button>
            </p>
        </Show>
    }
}

/// Under a new question's title (the input with id `input`): up to five threads like it,
/// looked up a moment after typing stops, so the asker can find an answer before asking.
#[cfg_attr(any(feature = "ssr", feature = "chunk-forum"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "chunk-forum")), component)]
pub fn SimilarQuestions(input: String) -> impl IntoView {
    let locale = use_locale();
    let s = move || locale.get().strings().forum;
    let found = RwSignal::new(Vec::<SimilarThread>::new());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| similar::watch(&input, found));
    #[cfg(not(feature = "hydrate"))]
    let _ = input;
    view! {
        <div class="similar" aria-live="polite" data-testid="similar">
            <Show when=move || found.with(|f| !f.is_empty())>
                <p class="small"><strong>{move || s().similar}</strong></p>
                <ul class="similar-list">
                    <For each=move || found.get() key=|t| t.id.clone() let:t>
                        <li data-testid="similar-item">
                            <a href=format!("/forum/threads/{}", t.id) target="_blank" rel="noopener"
                                inner_html=t.title_html.clone()></a>
                            " "
                            <span class="muted small">
                                {t.solved.then(|| view! { <span class="badge ok">{move || s().solved}</span> " " })}
                                {t.replies} " " {move || s().replies}
                            </span>
                        </li>
                    </For>
                </ul>
            </Show>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod drafts {
    use gloo_events::EventListener;
    use gloo_storage::{LocalStorage, Storage};
    use leptos::prelude::*;
    use serde::{Deserialize, Serialize};
    use wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlInputElement, HtmlTextAreaElement};

    #[derive(Serialize, Deserialize)]
    struct Draft {
        fields: Vec<(String, String)>,
        /// The form was sent: the next page says whether it was taken.
        pending: bool,
    }

    enum Field {
        Input(HtmlInputElement),
        Area(HtmlTextAreaElement),
    }

    impl Field {
        fn named(form: &Element, name: &str) -> Option<Self> {
            let el = form
                .query_selector(&format!("[name=\"{name}\"]"))
                .ok()
                .flatten()?;
            match el.dyn_into::<HtmlTextAreaElement>() {
                Ok(area) => Some(Field::Area(area)),
                Err(el) => el.dyn_into::<HtmlInputElement>().ok().map(Field::Input),
            }
        }

        fn value(&self) -> String {
            match self {
                Field::Input(i) => i.value(),
                Field::Area(a) => a.value(),
            }
        }

        fn set(&self, value: &str) {
            match self {
                Field::Input(i) => i.set_value(value),
                Field::Area(a) => a.set_value(value),
            }
        }

        /// What the server put in the field.
        fn served(&self) -> String {
            match self {
                Field::Input(i) => i.default_value(),
                Field::Area(a) => a.default_value().unwrap_or_default(),
            }
        }
    }

    fn form_of(anchor: &Element) -> Option<Element> {
        anchor.closest("form").ok().flatten()
    }

    pub fn keep(anchor: &Element, key: String, names: Vec<String>, restored: RwSignal<bool>) {
        let Some(form) = form_of(anchor) else {
            return;
        };
        // A refused post comes back as this page with the form's error on it.
        let refused = form.query_selector(".alert-error").ok().flatten().is_some();
        if let Ok(draft) = LocalStorage::get::<Draft>(&key) {
            if draft.pending && !refused {
                LocalStorage::delete(&key);
            } else {
                let mut changed = false;
                for (name, value) in &draft.fields {
                    if let Some(f) = Field::named(&form, name)
                        && f.value() != *value
                    {
                        f.set(value);
                        changed = true;
                    }
                }
                restored.set(changed);
                save(&form, &key, &names, false);
            }
        }
        let typed = {
            let (form, key, names) = (form.clone(), key.clone(), names.clone());
            move |_: &web_sys::Event| save(&form, &key, &names, false)
        };
        let sent = {
            let form = form.clone();
            move |_: &web_sys::Event| save(&form, &key, &names, true)
        };
        // Both listen as long as the page lives.
        EventListener::new(&form, "input", typed).forget();
        EventListener::new(&form, "submit", sent).forget();
    }

    fn save(form: &Element, key: &str, names: &[String], pending: bool) {
        let fields: Vec<(String, String)> = names
            .iter()
            .filter_map(|n| Field::named(form, n).map(|f| (n.clone(), f.value())))
            .collect();
        let as_served = names
            .iter()
            .filter_map(|n| Field::named(form, n))
            .all(|f| f.value() == f.served());
        if as_served {
            LocalStorage::delete(key);
        } else {
            let _ = LocalStorage::set(key, Draft { fields, pending });
        }
    }

    pub fn discard(anchor: &Element, key: &str, names: &[String]) {
        if let Some(form) = form_of(anchor) {
            for f in names.iter().filter_map(|n| Field::named(&form, n)) {
                f.set(&f.served());
            }
        }
        LocalStorage::delete(key);
    }
}

#[cfg(feature = "hydrate")]
mod similar {
    use std::{
        cell::{Cell, RefCell},
        rc::Rc,
    };

    use gloo_events::EventListener;
    use gloo_timers::callback::Timeout;
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::HtmlInputElement;

    use crate::forum::{api::similar_threads, model::SimilarThread};

    /// How long typing must pause before a look-up.
    const PAUSE_MS: u32 = 300;

    pub fn watch(id: &str, found: RwSignal<Vec<SimilarThread>>) {
        let Some(input) = document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
        else {
            return;
        };
        // Answers can arrive out of order; only the newest question's is shown.
        let asked = Rc::new(Cell::new(0u32));
        let look = move |text: String| {
            let n = asked.get().wrapping_add(1);
            asked.set(n);
            let asked = asked.clone();
            leptos::task::spawn_local(async move {
                let threads = similar_threads(text).await.unwrap_or_default();
                if asked.get() == n {
                    found.set(threads);
                }
            });
        };
        // A title filled in by the server ("Ask for help") is looked up at once.
        if !input.value().trim().is_empty() {
            look(input.value());
        }
        let waiting: RefCell<Option<Timeout>> = RefCell::new(None);
        let typed = input.clone();
        EventListener::new(&input, "input", move |_| {
            let (look, text) = (look.clone(), typed.value());
            // Replacing the timer drops (cancels) the one still waiting.
            waiting.replace(Some(Timeout::new(PAUSE_MS, move || look(text))));
        })
        .forget();
    }
}
