//! Form pieces that work before WASM loads: plain inputs inside `<ActionForm>`, errors in words.

use leptos::prelude::*;

/// A labelled input with an optional hint and an error shown beside it.
#[component]
pub fn TextField(
    /// The form field name (matches the server function argument).
    name: &'static str,
    #[prop(into)] label: Signal<&'static str>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional, into)] value: Signal<String>,
    #[prop(optional, into)] hint: Option<Signal<&'static str>>,
    #[prop(optional)] autocomplete: &'static str,
    /// The error for this field, if the last submission failed because of it.
    #[prop(optional, into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        let has_hint = hint.is_some();
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            ids.join(" ")
        }
    };
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                prop:value=move || value.get()
                value=move || value.get()
                autocomplete=autocomplete
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                aria-describedby=described
                data-testid=format!("input-{name}")
            />
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            <p class="field-error" id=error_id data-testid=format!("error-{name}") role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A multi-line variant of [`TextField`].
#[component]
pub fn TextArea(
    name: &'static str,
    #[prop(into)] label: Signal<&'static str>,
    #[prop(optional, into)] value: Signal<String>,
    #[prop(optional, into)] hint: Option<Signal<&'static str>>,
    #[prop(optional, into)] error: Signal<Option<String>>,
    #[prop(default = 4)] rows: u32,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field" class:field-invalid=move || error.get().is_some()>
            <label for=id.clone()>{label}</label>
            <textarea
                id=id
                name=name
                rows=rows
                prop:value=move || value.get()
                aria-describedby=hint_id.clone()
                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                data-testid=format!("input-{name}")
            >
                {move || value.get()}
            </textarea>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            <p class="field-error" data-testid=format!("error-{name}") role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A message about the whole form (or a success note), announced to screen readers.
#[component]
pub fn FormMessage(
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional, into)] success: Signal<Option<&'static str>>,
    #[prop(default = "form")] testid: &'static str,
) -> impl IntoView {
    view! {
        <div aria-live="polite">
            <Show when=move || error.get().is_some()>
                <p class="alert alert-error" data-testid=format!("{testid}-error")>
                    {move || error.get()}
                </p>
            </Show>
            <Show when=move || success.get().is_some()>
                <p class="alert alert-ok" data-testid=format!("{testid}-ok")>
                    {move || success.get()}
                </p>
            </Show>
        </div>
    }
}

/// A submit button that says it is working while the action runs.
#[component]
pub fn SubmitButton(
    #[prop(into)] label: Signal<&'static str>,
    #[prop(into)] working: Signal<&'static str>,
    #[prop(into)] pending: Signal<bool>,
    #[prop(default = "submit")] testid: &'static str,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            class="button primary"
            data-testid=testid
            aria-busy=move || pending.get().to_string()
            disabled=move || pending.get()
        >
            {move || if pending.get() { working.get() } else { label.get() }}
        </button>
    }
}

/// Counts an action's successful results. Key a resource on this (not on the action's
/// version) so a failed submission does not reload the form and wipe what the user typed.
///
/// Outside islands a form posts without JavaScript, and the server answers a success by
/// redirecting back to the page with `done=<server function>` in the address (see the
/// server's `server_fn_status`): the page then starts from one success, so its "saved"
/// message shows after the reload.
pub fn successes<A>(action: ServerAction<A>) -> Memo<u32>
where
    A: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
    A::Error: Clone + Send + Sync + 'static,
{
    let redirected = u32::from(done_in_address(A::PATH));
    Memo::new(move |previous: Option<&u32>| {
        let n = previous.copied().unwrap_or(redirected);
        if matches!(action.value().get(), Some(Ok(_))) {
            n + 1
        } else {
            n
        }
    })
}

/// Whether the action has succeeded (here, or in the form post that led to this page).
pub fn succeeded<A>(action: ServerAction<A>) -> Signal<bool>
where
    A: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
    A::Error: Clone + Send + Sync + 'static,
{
    let n = successes(action);
    Signal::derive(move || n.get() > 0)
}

/// The query parameter the server adds when a form's server function succeeded.
pub const DONE_PARAM: &str = "done";

/// Whether this page was reached by the redirect after a successful post to the server
/// function at `path` (`/api/update_profile` → `done=update_profile`).
pub fn done_in_address(path: &str) -> bool {
    #[cfg(feature = "ssr")]
    {
        let name = path.rsplit('/').next().unwrap_or(path);
        use_context::<http::request::Parts>()
            .and_then(|p| p.uri.query().map(str::to_string))
            .is_some_and(|q| {
                q.split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .any(|(k, v)| k == DONE_PARAM && v == name)
            })
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = path;
        false
    }
}

/// The words of an action's last error, in the reader's language.
pub fn action_error<A>(
    action: ServerAction<A>,
    locale: RwSignal<crate::i18n::Locale>,
) -> Signal<Option<String>>
where
    A: leptos::server_fn::ServerFn<Error = crate::error::AppError> + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.message(locale.get()))
    })
}
