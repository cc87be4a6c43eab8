//! The shared-code panel of a live room, and the replay page. The server renders the code as
//! it stands (readable before, or without, any script); in the browser the shared editor takes
//! over and syncs over the room's socket.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    exercises::model::{Limits, Outcome, TestCase, TestRun, judge},
    i18n::{Locale, use_locale},
    rooms::code::{
        api::room_replay,
        model::{CodeLanguage, CodeView, RunLine, RunReport},
        text::PairStrings,
    },
};

fn ps(locale: RwSignal<Locale>) -> &'static PairStrings {
    locale.get().strings().pairing
}

/// A Run someone in the room made.
#[derive(Clone, Debug, PartialEq)]
pub struct RunEntry {
    pub id: u32,
    pub by_name: String,
    pub report: RunReport,
}

/// The panel's live state, which the room socket (`rooms::call`) updates.
#[derive(Clone, Copy)]
pub struct CodeUi {
    pub language: RwSignal<CodeLanguage>,
    pub exercise: RwSignal<Option<String>>,
    pub tests: RwSignal<Vec<TestCase>>,
    pub limits: RwSignal<Option<Limits>>,
    pub runs: RwSignal<Vec<RunEntry>>,
    pub running: RwSignal<bool>,
    /// Others whose cursors are in the editor now.
    pub peers: RwSignal<Vec<String>>,
    pub editor_ready: RwSignal<bool>,
    /// Pyodide's files, and how this browser's first Python Run is loading them.
    pub python: StoredValue<Option<crate::exercises::model::PythonFiles>>,
    pub python_load: RwSignal<Option<crate::exercises::run::PythonLoad>>,
}

impl CodeUi {
    pub fn new(code: &CodeView) -> Self {
        CodeUi {
            language: RwSignal::new(code.language),
            exercise: RwSignal::new(code.exercise.clone()),
            tests: RwSignal::new(code.tests.clone()),
            limits: RwSignal::new(code.limits),
            runs: RwSignal::new(Vec::new()),
            running: RwSignal::new(false),
            peers: RwSignal::new(Vec::new()),
            editor_ready: RwSignal::new(false),
            python: StoredValue::new(code.python.clone()),
            python_load: RwSignal::new(None),
        }
    }

    /// Someone's Run arrived (newest first, the last ten kept).
    pub fn add_run(&self, by_name: String, report: RunReport) {
        self.running.set(false);
        self.runs.update(|runs| {
            let id = runs.first().map_or(1, |r| r.id + 1);
            runs.insert(
                0,
                RunEntry {
                    id,
                    by_name,
                    report,
                },
            );
            runs.truncate(10);
        });
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// What a Run of `tests` found, as the room sees it.
pub fn report_of(tests: &[TestCase], runs: &[TestRun]) -> RunReport {
    use crate::rooms::code::model::{MAX_RUN_CONSOLE_CHARS, MAX_RUN_DETAIL_CHARS, MAX_RUN_LINES};
    let outcomes: Vec<Outcome> = runs.iter().map(|r| r.outcome.clone()).collect();
    let lines = judge(tests, &outcomes)
        .into_iter()
        .take(MAX_RUN_LINES)
        .map(|v| RunLine {
            name: shorten(&v.name, 200),
            passed: v.passed,
            detail: shorten(
                &match &v.outcome {
                    Outcome::Returned { value } => value.to_string(),
                    Outcome::Threw { message } => message.clone(),
                    Outcome::TimedOut => "timed out".to_string(),
                },
                MAX_RUN_DETAIL_CHARS,
            ),
        })
        .collect();
    RunReport {
        lines,
        console: shorten(
            runs.first().map_or("", |r| r.console.as_str()),
            MAX_RUN_CONSOLE_CHARS,
        ),
    }
}

/// Code with no exercise runs once, as a program: it passes if it finishes without throwing.
pub fn program_test(language: CodeLanguage) -> TestCase {
    TestCase {
        name: "the code runs without an error".into(),
        call: match language {
            CodeLanguage::Python => "None",
            _ => "null",
        }
        .into(),
        expected: serde_json::Value::Null,
        hidden: false,
        weight: 1,
    }
}

#[component]
pub fn SharedCode(
    room_id: String,
    code: CodeView,
    ui: CodeUi,
    /// The socket is open now (edits reach the others).
    live: Signal<bool>,
    hydrated: RwSignal<bool>,
    my_name: String,
) -> impl IntoView {
    let locale = use_locale();
    let s = move || ps(locale);
    let host = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let my_name = my_name.clone();
        Effect::new(move |done: Option<()>| {
            if done.is_some() {
                return;
            }
            if let Some(host) = host.get() {
                let label = s().code_label;
                crate::rooms::code::client::mount(
                    host.into(),
                    ui.language.get_untracked().key(),
                    label,
                    &my_name,
                    ui.peers,
                    move |ok| {
                        let _ = ui.editor_ready.try_set(ok);
                    },
                );
            }
        });
        on_cleanup(crate::rooms::code::client::unmount);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = my_name;
    let run = move |_: leptos::ev::MouseEvent| {
        #[cfg(feature = "hydrate")]
        if !ui.running.get_untracked() {
            start_run(ui);
        }
    };
    let choose = move |ev: leptos::ev::Event| {
        if let Ok(language) = CodeLanguage::parse(&event_target_value(&ev)) {
            #[cfg(feature = "hydrate")]
            crate::rooms::call::send_language(language);
            #[cfg(not(feature = "hydrate"))]
            let _ = language;
        }
    };
    let runnable = move || ui.language.get().runs();
    let initial_text = code.text.clone();
    let replay_href = format!("/rooms/{room_id}/replay");
    view! {
        <section class="code-panel" data-testid="code-panel" aria-labelledby="code-title">
            <header class="code-head">
                <h2 id="code-title">{move || s().code_title}</h2>
                <Show when=move || hydrated.get()
                    fallback=move || view! { <span class="badge">{move || ui.language.get().label()}</span> }>
                    <label class="code-language">
                        <span>{move || s().language}</span>
                        <select data-testid="code-language" on:change=choose
                            prop:value=move || ui.language.get().key()>
                            {CodeLanguage::ALL.into_iter().map(|l| view! {
                                <option value=l.key() selected=move || ui.language.get() == l>{l.label()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <button type="button" class="button primary" data-testid="code-run"
                        on:click=run
                        disabled=move || !runnable() || ui.running.get() || !ui.editor_ready.get()>
                        {move || if ui.running.get() { s().running } else { s().run }}
                    </button>
                </Show>
                <a href=replay_href data-testid="code-replay">{move || s().replay}</a>
            </header>
            {move || ui.exercise.get().map(|_| view! {
                <p class="muted">{move || s().from_exercise}</p>
            })}
            <p class="muted code-peers" data-testid="code-peers" aria-live="polite">
                {move || {
                    let peers = ui.peers.get();
                    if !live.get() && hydrated.get() {
                        s().offline_edits.to_string()
                    } else if peers.is_empty() {
                        s().alone.to_string()
                    } else {
                        format!("{} {}", s().editing_with, peers.join(", "))
                    }
                }}
            </p>
            {move || (hydrated.get() && !runnable()).then(|| view! {
                <p class="muted">{move || s().run_only_js}</p>
            })}
            <crate::exercises::pages::PythonLoadStatus load=ui.python_load/>
            <div class="code-host" node_ref=host data-testid="code-editor"
                data-ready=move || ui.editor_ready.get().to_string()>
                <Show when=move || !ui.editor_ready.get()>
                    <p class="muted" class:visually-hidden=move || hydrated.get()>{move || s().no_js_code}</p>
                    <pre tabindex="0" class="code-static" data-testid="code-static"><code>{initial_text.clone()}</code></pre>
                </Show>
            </div>
            <ol class="run-results" data-testid="run-results" aria-live="polite">
                <For each=move || ui.runs.get() key=|r| r.id let:entry>
                    <RunItem entry/>
                </For>
            </ol>
        </section>
    }
}

/// Runs the shared code in this browser's sandbox (the exercise's visible tests, or the code
/// as a program) and shares the result with the room.
#[cfg(feature = "hydrate")]
fn start_run(ui: CodeUi) {
    let Some(text) = crate::rooms::code::client::value() else {
        return;
    };
    let tests = if ui.exercise.get_untracked().is_some() && !ui.tests.get_untracked().is_empty() {
        ui.tests.get_untracked()
    } else {
        vec![program_test(ui.language.get_untracked())]
    };
    let limits = ui.limits.get_untracked().unwrap_or(Limits::DEFAULT);
    ui.running.set(true);
    let judged = tests.clone();
    let done = move |runs: Vec<crate::exercises::model::TestRun>| {
        let report = report_of(&judged, &runs);
        // Everyone (me included) sees it when the room relays it; offline, only me.
        if !crate::rooms::call::send_run(report.clone()) {
            ui.add_run(String::new(), report);
        }
    };
    match (ui.language.get_untracked(), ui.python.get_value()) {
        (CodeLanguage::Python, Some(files)) => crate::exercises::run::run_python(
            text,
            tests,
            limits,
            files,
            move |state| ui.python_load.set(Some(state)),
            done,
        ),
        _ => crate::exercises::run::run_in_browser(text, tests, limits, done),
    }
}

#[component]
fn RunItem(entry: RunEntry) -> impl IntoView {
    let locale = use_locale();
    let s = move || ps(locale);
    let passed = entry.report.passed();
    let total = entry.report.lines.len();
    let console = entry.report.console.clone();
    view! {
        <li class="run-result" data-testid="run-result">
            <p>
                <strong data-testid="run-by">{entry.by_name.clone()}</strong>
                " " {move || s().ran_by} " · "
                <span data-testid="run-score">{format!("{passed}/{total}")}</span>
                " " {move || s().passed_of}
            </p>
            <ul class="run-lines">
                {entry.report.lines.iter().map(|l| {
                    let mark = if l.passed { "✓" } else { "✗" };
                    view! {
                        <li class:pass=l.passed class:fail=!l.passed>
                            <span aria-hidden="true">{mark}</span>" "
                            {l.name.clone()} ": " <code>{l.detail.clone()}</code>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {(!console.is_empty()).then(|| view! {
                <details><summary>{move || s().console}</summary><pre tabindex="0">{console.clone()}</pre></details>
            })}
        </li>
    }
}

/// `/rooms/:id/replay`: the shared code's history, step by step (participants only).
#[component]
pub fn ReplayPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, room_replay);
    view! {
        // A plain string: the server writes the title into <head> after the body has rendered,
        // when a closure reading a signal may run where no reactive owner is (it panicked
        // there under the browser tests).
        <Title text=locale.get_untracked().strings().pairing.replay_title/>
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {move || data.get().map(|res| match res {
                Err(e) => {
                    #[cfg(feature = "ssr")]
                    crate::rooms::pages::respond_with(e.status_code());
                    view! { <p class="form-error" role="alert" data-testid="replay-error">{e.message(locale.get())}</p> }.into_any()
                }
                Ok(view) => view! { <crate::ui::editor::EditorPreload language=view.language.key() shared=true/><ReplayPlayer view/> }.into_any(),
            })}
        </Suspense>
    }
}

/// The player: an island of the room chunk (a plain, never-called component in the other
/// chunks' builds).
#[cfg_attr(any(feature = "ssr", feature = "chunk-room"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "chunk-room")), component)]
pub fn ReplayPlayer(view: crate::rooms::code::model::ReplayView) -> impl IntoView {
    let locale = use_locale();
    let s = move || ps(locale);
    let total = view.steps.len() as u32;
    let at = RwSignal::new(total);
    let playing = RwSignal::new(false);
    let ready = RwSignal::new(false);
    let host = NodeRef::<leptos::html::Div>::new();
    let steps = StoredValue::new(view.steps.clone());
    #[cfg(feature = "hydrate")]
    {
        let handle = StoredValue::new_local(None::<crate::rooms::code::client::ReplayHandle>);
        let base = StoredValue::new(view.base.clone());
        let language = view.language;
        Effect::new(move |done: Option<()>| {
            if done.is_some() {
                return;
            }
            if let Some(el) = host.get() {
                steps.with_value(|steps| {
                    crate::rooms::code::client::mount_replay(
                        el.into(),
                        steps,
                        base.get_value(),
                        language.key(),
                        s().code_label,
                        move |h| {
                            if let Some(h) = h {
                                h.seek(at.get_untracked());
                                let _ = handle.try_set_value(Some(h));
                                let _ = ready.try_set(true);
                            }
                        },
                    )
                });
            }
        });
        Effect::new(move |_| {
            let k = at.get();
            if ready.get() {
                handle.with_value(|h| {
                    if let Some(h) = h {
                        h.seek(k);
                    }
                });
            }
        });
        // Playing advances a step every 120 ms (long runs of typing read as typing).
        let timer = StoredValue::new_local(None::<IntervalHandle>);
        Effect::new(move |_| {
            if let Some(old) = timer.try_update_value(Option::take).flatten() {
                old.clear();
            }
            if playing.get() {
                if at.get_untracked() >= total {
                    at.set(0);
                }
                let tick = set_interval_with_handle(
                    move || {
                        let next = at.get_untracked() + 1;
                        if next >= total {
                            let _ = playing.try_set(false);
                        }
                        let _ = at.try_set(next.min(total));
                    },
                    std::time::Duration::from_millis(120),
                );
                timer.set_value(tick.ok());
            }
        });
        on_cleanup(move || {
            if let Some(old) = timer.try_update_value(Option::take).flatten() {
                old.clear();
            }
        });
    }
    let who = move || {
        let k = at.get();
        if k == 0 {
            return String::new();
        }
        steps.with_value(|steps| {
            steps.get(k as usize - 1).map_or(String::new(), |st| {
                let name = if st.author_id.is_none() {
                    s().server_edit.to_string()
                } else {
                    st.author_name.clone()
                };
                let time = st.at.get(11..19).unwrap_or("").to_string();
                format!("{name} · {time} UTC")
            })
        })
    };
    let room_href = format!("/rooms/{}", view.room_id);
    let final_text = view.final_text.clone();
    view! {
        <section class="replay" data-testid="replay">
            <p><a href=room_href>{view.title.clone()}</a></p>
            <h1>{move || s().replay_title}</h1>
            <p class="muted">{move || s().replay_lead}</p>
            {if total == 0 {
                view! { <p data-testid="replay-empty">{move || s().replay_empty}</p> }.into_any()
            } else {
                view! {
                    <div class="replay-controls">
                        <button type="button" class="button" data-testid="replay-play"
                            disabled=move || !ready.get()
                            on:click=move |_| playing.update(|p| *p = !*p)>
                            {move || if playing.get() { s().pause } else { s().play }}
                        </button>
                        <label class="replay-scrub">
                            <span class="visually-hidden">{move || s().step_label}</span>
                            <input type="range" min="0" max=total.to_string() step="1"
                                data-testid="replay-scrub"
                                disabled=move || !ready.get()
                                prop:value=move || at.get().to_string()
                                on:input=move |ev| {
                                    playing.set(false);
                                    if let Ok(k) = event_target_value(&ev).parse::<u32>() {
                                        at.set(k.min(total));
                                    }
                                }/>
                        </label>
                        <span data-testid="replay-position">
                            {move || format!("{} {} {} {}", s().step_label, at.get(), s().step_of, total)}
                        </span>
                        <span class="muted" data-testid="replay-author">{who}</span>
                    </div>
                }.into_any()
            }}
            <div class="code-host" node_ref=host data-testid="replay-editor" data-ready=move || ready.get().to_string()>
                <Show when=move || !ready.get()>
                    <p class="muted">{move || s().replay_no_js}</p>
                    <pre tabindex="0" class="code-static"><code>{final_text.clone()}</code></pre>
                </Show>
            </div>
        </section>
    }
}
