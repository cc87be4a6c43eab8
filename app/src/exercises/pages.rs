//! Exercise pages: the panel on an exercise lesson (editor, Run, Submit, attempts), a graded
//! submission with line comments and diffs, and the authoring page. Submit,
//! comments and authoring are `<ActionForm>`s and work before WASM; Run needs the browser.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    exercises::{
        api::{
            AddReviewComment, SubmitExercise, UpdateReviewComment, ValidateExercise, get_exercise,
            get_exercise_draft, get_submission,
        },
        model::{
            CommentView, DiffLine, ExerciseView, Language, Outcome, PythonFiles, SubmissionSummary,
            SubmissionView, TestResult, TestRun, judge,
        },
        run::{PythonLoad, run_in_browser, run_python},
        text::ExerciseStrings,
    },
    forum::model::OpenedCode,
    i18n::{Locale, use_locale},
    ui::{
        editor::{CodeEditor, EditorHandle, EditorPreload},
        form::{FormMessage, action_error, successes},
    },
};

fn es(locale: RwSignal<Locale>) -> &'static ExerciseStrings {
    locale.get().strings().exercises
}

fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `2026-11-27T14:05:00+00:00` → `2026-11-27 14:05` (UTC, as stored).
fn short_time(rfc3339: &str) -> String {
    rfc3339.get(..16).unwrap_or(rfc3339).replace('T', " ")
}

/// One test's result, for Run and for graded submissions alike.
#[component]
fn ResultItem(result: TestResult) -> impl IntoView {
    let locale = use_locale();
    let s = move || es(locale);
    let passed = result.passed;
    let title = if result.hidden && result.call.is_none() {
        format!("{} {}", es(locale).hidden_test, result.name)
    } else {
        result.name.clone()
    };
    let detail = match (&result.outcome, passed) {
        (Some(Outcome::Returned { value }), false) => Some(view! {
            <dl class="expected-actual">
                <dt>{move || s().expected}</dt><dd><code>{result.expected.as_ref().map(json_text)}</code></dd>
                <dt>{move || s().actual}</dt><dd><code data-testid="actual">{json_text(value)}</code></dd>
            </dl>
        }.into_any()),
        (Some(Outcome::Threw { message }), _) => Some(view! {
            <p class="threw">{move || s().threw} ": " <code>{message.clone()}</code></p>
        }.into_any()),
        (Some(Outcome::TimedOut), _) => Some(view! { <p class="threw">{move || s().timed_out}</p> }.into_any()),
        _ => None,
    };
    let console = (!result.console.is_empty()).then(|| {
        let text = result.console.clone();
        view! {
            <details class="console"><summary>{move || s().console}</summary><pre tabindex="0">{text}</pre></details>
        }
    });
    view! {
        <li class="test-result" class:pass=passed class:fail=!passed data-testid="test-result"
            data-passed=passed.to_string() data-hidden=result.hidden.to_string()>
            <span class="mark" aria-hidden="true">{if passed { "✓" } else { "✗" }}</span>
            <strong data-testid="test-name">{title}</strong>
            " " <span class="muted">{move || if passed { s().passed } else { s().failed }}</span>
            {result.call.clone().map(|c| view! { <code class="call">{c}</code> })}
            {detail}
            {console}
        </li>
    }
}

/// The panel under an exercise lesson's prompt.
#[component]
pub fn ExercisePanel(lesson_id: String) -> impl IntoView {
    let locale = use_locale();
    let id = lesson_id.clone();
    let exercise = Resource::new(move || id.clone(), get_exercise);
    // `?answer=<post>&block=<n>`: code from a forum answer to start from, as a draft.
    let query = leptos_router::hooks::use_query_map();
    let opened = Resource::new(
        move || {
            let q = query.read();
            q.get("answer").map(|post| {
                (
                    post,
                    q.get("block").and_then(|b| b.parse().ok()).unwrap_or(0),
                )
            })
        },
        |asked| async move {
            match asked {
                Some((post, block)) => Some(crate::forum::api::answer_code(post, block).await),
                None => None,
            }
        },
    );
    view! {
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {move || {
                let lesson_id = lesson_id.clone();
                Suspend::new(async move {
                let (opened, missing) = match opened.await {
                    // Code from another exercise's question is not this exercise's draft.
                    Some(Ok(code)) if code.lesson == lesson_id => (Some(code), false),
                    Some(_) => (None, true),
                    None => (None, false),
                };
                let missing = missing.then(|| view! {
                    <p class="alert alert-error" data-testid="answer-code-missing">{move || es(locale).answer_code_missing}</p>
                });
                match exercise.await {
                    Err(e) => view! { <crate::ui::layout::PageError error=e testid="exercise-error"/> }.into_any(),
                    Ok(x) => {
                        let language = x.language.key();
                        let python = (x.language == Language::Python).then(PythonFiles::of_site);
                        view! { {missing}<EditorPreload language/><ExerciseWorkbench exercise=x opened python/> }.into_any()
                    }
                }
            })}}
        </Suspense>
    }
}

/// The editor, Run, Submit and the attempts: an island of the exercise chunk (a plain,
/// never-called component in the other chunks' builds).
#[cfg_attr(any(feature = "ssr", feature = "chunk-exercise"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "chunk-exercise")), component)]
pub fn ExerciseWorkbench(
    exercise: ExerciseView,
    /// Code from a forum answer the learner chose to start from.
    opened: Option<OpenedCode>,
    /// Pyodide's files, for a Python exercise (downloaded on the first Run only).
    python: Option<PythonFiles>,
) -> impl IntoView {
    let locale = use_locale();
    let s = move || es(locale);
    let submit = ServerAction::<SubmitExercise>::new();
    let submit_error = action_error(submit, locale);
    let initial = match &opened {
        Some(o) => o.code.clone(),
        None => exercise
            .last_code
            .clone()
            .unwrap_or_else(|| exercise.starter.clone()),
    };
    let editor = EditorHandle::new(initial);
    let restored = RwSignal::new(false);
    let hydrated = RwSignal::new(false);
    let running = RwSignal::new(false);
    let run_results: RwSignal<Option<Vec<TestResult>>> = RwSignal::new(None);
    // Completed Runs, on the results region: lets tests and the benchmark see a new verdict.
    let runs_done = RwSignal::new(0u32);
    let visible = StoredValue::new(exercise.visible.clone());
    let limits = exercise.limits;
    let starter = StoredValue::new(exercise.starter.clone());
    let draft_key = exercise.draft_key.clone();
    let language = exercise.language;
    // The first Python Run's download and start, shown beside Run.
    let python_load: RwSignal<Option<PythonLoad>> = RwSignal::new(None);
    let python = StoredValue::new(python);

    #[cfg(feature = "hydrate")]
    {
        let key = draft_key.clone();
        let from_answer = opened.is_some();
        Effect::new(move |_| {
            hydrated.set(true);
            // JavaScript workers start ahead; Python loads on the first Run only (megabytes).
            if language == Language::JavaScript {
                crate::exercises::run::warm_up(visible.with_value(Vec::len));
            }
            let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
            if from_answer {
                // The answer's code is the draft now (the learner asked for it).
                if let Some(st) = storage {
                    let _ = st.set_item(&key, &editor.text.get_untracked());
                }
            } else if let Some(draft) = storage.and_then(|st| st.get_item(&key).ok().flatten())
                && draft != editor.text.get_untracked()
            {
                editor.replace.set(Some(draft));
                restored.set(true);
            }
        });
        let key = draft_key.clone();
        Effect::new(move |prev: Option<()>| {
            let text = editor.text.get();
            if prev.is_some()
                && let Some(st) = web_sys::window().and_then(|w| w.local_storage().ok().flatten())
            {
                let _ = st.set_item(&key, &text);
            }
        });
    }
    let _ = &draft_key;

    let on_run = move |_| {
        if running.get_untracked() {
            return;
        }
        running.set(true);
        run_results.set(None);
        let tests = visible.get_value();
        let code = editor.text.get_untracked();
        let judged_tests = tests.clone();
        let done = move |runs: Vec<TestRun>| {
            let outcomes: Vec<Outcome> = runs.iter().map(|r| r.outcome.clone()).collect();
            let verdicts = judge(&judged_tests, &outcomes);
            let results = judged_tests
                .iter()
                .zip(verdicts)
                .zip(runs)
                .map(|((t, v), r)| TestResult {
                    name: t.name.clone(),
                    hidden: false,
                    passed: v.passed,
                    call: Some(t.call.clone()),
                    expected: Some(t.expected.clone()),
                    outcome: Some(v.outcome),
                    console: r.console,
                    micros: r.micros,
                })
                .collect();
            run_results.set(Some(results));
            runs_done.update(|n| *n += 1);
            running.set(false);
        };
        match (language, python.get_value()) {
            (Language::Python, Some(files)) => run_python(
                code,
                tests,
                limits,
                files,
                move |state| python_load.set(Some(state)),
                done,
            ),
            _ => run_in_browser(code, tests, limits, done),
        }
    };

    let open_session = ServerAction::<crate::rooms::code::api::OpenInSession>::new();
    let open_error = action_error(open_session, locale);
    let pair_s = move || locale.get().strings().pairing;
    let open_lesson = exercise.lesson_id.clone();
    let lesson_id = exercise.lesson_id.clone();
    let hidden_count = exercise.hidden_count;
    let submissions = exercise.submissions.clone();
    view! {
        <section class="exercise" id="exercise" data-testid="exercise">
            <h2>{move || s().your_code}</h2>
            {move || restored.get().then(|| view! { <p class="muted" data-testid="draft-restored">{s().draft_restored}</p> })}
            {opened.clone().map(|o| view! {
                <p class="alert" data-testid="answer-code">
                    {move || s().answer_code_opened.replace("{author}", &o.author)} " "
                    <a href=format!("/forum/threads/{}#reply-{}", o.thread, o.post)>{move || s().answer_code_back}</a>
                </p>
            })}
            <ActionForm action=submit attr:class="form exercise-form" attr:data-testid="submit-form">
                <input type="hidden" name="lesson_id" value=exercise.lesson_id.clone()/>
                <CodeEditor name="code" language=language.key() label=es(locale).code_label.to_string() handle=editor/>
                <FormMessage error=submit_error testid="submit"/>
                <div class="actions">
                    <button type="button" class="button" data-testid="run"
                        disabled=move || !hydrated.get() || running.get()
                        aria-busy=move || running.get().to_string()
                        on:click=on_run>
                        {move || if running.get() { s().running } else { s().run }}
                    </button>
                    {exercise.can_submit.then(|| view! {
                        <button type="submit" class="button primary" data-testid="submit"
                            disabled=move || submit.pending().get()
                            aria-busy=move || submit.pending().get().to_string()>
                            {move || if submit.pending().get() { s().submitting } else { s().submit }}
                        </button>
                    })}
                    <button type="button" class="button subtle" data-testid="reset"
                        disabled=move || !hydrated.get()
                        on:click=move |_| editor.replace.set(Some(starter.get_value()))>
                        {move || s().reset}
                    </button>
                </div>
                {(!exercise.can_submit).then(|| view! { <p class="notice" data-testid="enrol-to-submit">{move || s().enrol_to_submit}</p> })}
                <noscript><p class="muted">{move || s().run_needs_js}</p></noscript>
                <PythonLoadStatus load=python_load/>
            </ActionForm>
            <div class="run-results" aria-live="polite" data-testid="run-results" data-runs=move || runs_done.get().to_string()>
                {move || run_results.get().map(|results| {
                    let passed = results.iter().filter(|r| r.passed).count();
                    let total = results.len();
                    view! {
                        <p class="run-summary" data-testid="run-summary" data-passed=passed.to_string() data-total=total.to_string()>
                            {passed} " " {move || s().of} " " {total} " " {move || s().run_summary}
                        </p>
                        <ul class="test-results">
                            {results.into_iter().map(|r| view! { <ResultItem result=r/> }).collect_view()}
                        </ul>
                    }
                })}
            </div>
            {exercise.can_submit.then(|| view! {
                // Stuck: the code on screen and the visible tests go to a room with the mentor.
                <ActionForm action=open_session attr:class="form inline-form" attr:data-testid="open-in-session">
                    <input type="hidden" name="lesson_id" value=open_lesson.clone()/>
                    <input type="hidden" name="code" value=editor.text.get_untracked()
                        prop:value=move || editor.text.get()/>
                    <button type="submit" class="button" data-testid="open-in-session-button"
                        disabled=move || open_session.pending().get()>
                        {move || pair_s().open_in_session}
                    </button>
                    <span class="muted">" " {move || pair_s().open_in_session_hint}</span>
                    <FormMessage error=open_error testid="open-in-session"/>
                </ActionForm>
            })}
            <h3>{move || s().visible_tests}</h3>
            <ul class="test-list" data-testid="visible-tests">
                {visible.get_value().into_iter().map(|t| view! {
                    <li><code>{t.call.clone()}</code> " → " <code>{json_text(&t.expected)}</code></li>
                }).collect_view()}
            </ul>
            {(hidden_count > 0).then(|| view! { <p class="muted">{hidden_count} " " {move || s().hidden_note}</p> })}
            {exercise.can_author.then(|| view! {
                <p><a class="button subtle" href=format!("/lessons/{lesson_id}/exercise") data-testid="edit-exercise">{move || s().edit_exercise}</a></p>
            })}
            <Attempts list=submissions/>
        </section>
    }
}

/// How the first Python Run of a page is loading (downloading with a bar, starting, failed);
/// nothing once Python is ready. Shared by exercises and the room's shared code.
#[component]
pub fn PythonLoadStatus(load: RwSignal<Option<PythonLoad>>) -> impl IntoView {
    let locale = use_locale();
    let s = move || es(locale);
    move || {
        load.get().filter(|l| *l != PythonLoad::Ready).map(|state| {
            let (text, percent) = match state {
                PythonLoad::Downloading(p) => (s().python_downloading, Some(p)),
                PythonLoad::Starting => (s().python_starting, None),
                _ => (s().python_failed, None),
            };
            let label = s().python_downloading;
            view! {
                <p class="python-load" role="status" data-testid="python-load" data-state=format!("{state:?}")>
                    {text}
                    {percent.map(|p| view! {
                        " " <progress max="100" value=p.to_string() aria-label=label></progress> " " {p} "%"
                    })}
                </p>
            }
        })
    }
}

#[component]
fn Attempts(list: Vec<SubmissionSummary>) -> impl IntoView {
    let locale = use_locale();
    let s = move || es(locale);
    view! {
        <h3>{move || s().history}</h3>
        {if list.is_empty() {
            view! { <p class="muted" data-testid="no-attempts">{move || s().no_attempts}</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                <table class="attempts" data-testid="attempts">
                    <thead><tr><th>{move || s().when}</th><th>{move || s().score}</th><th>{move || s().tests_col}</th><th></th></tr></thead>
                    <tbody>
                        {list.into_iter().map(|a| view! {
                            <tr data-testid="attempt">
                                <td>{short_time(&a.created_at)}</td>
                                <td>{a.passed} " / " {a.total}</td>
                                <td>{a.tests_passed} " / " {a.tests_total}</td>
                                <td><a href=format!("/submissions/{}", a.id)>{move || s().open}</a></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            }.into_any()
        }}
    }
}

/// The exercise's TOML with Validate and Save, and the reference solution's results: an
/// island of the authoring chunk (a plain, never-called component in the other chunks'
/// builds).
#[cfg_attr(any(feature = "ssr", feature = "chunk-author"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "chunk-author")), component)]
pub fn ExerciseValidator(lesson_id: String, toml: String) -> impl IntoView {
    let locale = use_locale();
    let s = move || es(locale);
    let validate = ServerAction::<ValidateExercise>::new();
    let error = action_error(validate, locale);
    view! {
        <ActionForm action=validate attr:class="form" attr:data-testid="exercise-form">
            <input type="hidden" name="lesson_id" value=lesson_id/>
            <textarea name="toml" class="code-fallback" rows="24" spellcheck="false" autocapitalize="off" data-testid="exercise-toml">{toml}</textarea>
            <FormMessage error=error testid="validate"/>
            <div class="actions">
                <button type="submit" class="button" data-testid="validate">{move || s().validate}</button>
                <button type="submit" name="save" value="on" class="button primary" data-testid="save-exercise">{move || s().save_exercise}</button>
            </div>
        </ActionForm>
        <div aria-live="polite" data-testid="validation">
            {move || validate.value().get().and_then(|r| r.ok()).map(|v| view! {
                <p class=if v.all_passed { "alert alert-ok" } else { "alert alert-error" } data-testid="validation-summary" data-passed=v.all_passed.to_string() data-saved=v.saved.to_string()>
                    {if v.all_passed { s().validation_passed } else { s().validation_failed }}
                    {v.saved.then(|| format!(" {}", s().saved))}
                </p>
                <ul class="test-results">
                    {v.results.into_iter().map(|r| view! { <ResultItem result=r/> }).collect_view()}
                </ul>
            })}
        </div>
    }
}

/// `/submissions/:id`: the verdict, the code with its line comments, and a diff picker.
#[component]
pub fn SubmissionPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let against = Memo::new(move |_| query.with(|q| q.get("against").unwrap_or_default()));
    let add = ServerAction::<AddReviewComment>::new();
    let update = ServerAction::<UpdateReviewComment>::new();
    let (added, updated) = (successes(add), successes(update));
    let submission = Resource::new(
        move || (id.get(), against.get(), added.get(), updated.get()),
        |(id, against, ..)| get_submission(id, against),
    );
    view! {
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {move || Suspend::new(async move {
                match submission.await {
                    Err(e) => view! { <crate::ui::layout::PageError error=e testid="submission-error"/> }.into_any(),
                    Ok(v) => view! { <SubmissionBody view=v add=add update=update/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SubmissionBody(
    view: SubmissionView,
    add: ServerAction<AddReviewComment>,
    update: ServerAction<UpdateReviewComment>,
) -> impl IntoView {
    let locale = use_locale();
    let s = move || es(locale);
    let add_error = action_error(add, locale);
    let update_error = action_error(update, locale);
    let sum = view.summary.clone();
    let lines: Vec<String> = view.code.lines().map(str::to_string).collect();
    let comments = StoredValue::new(view.comments.clone());
    let can_review = view.can_review;
    let sub_id = StoredValue::new(sum.id.clone());
    view! {
        <Title text=format!("{} · {}", locale.get_untracked().strings().exercises.submission_title, view.lesson_title)/>
        <article class="submission" data-testid="submission" data-passed=sum.passed.to_string() data-total=sum.total.to_string()>
            <p class="crumbs"><a href=format!("/lessons/{}", view.lesson_id) data-testid="back-to-exercise">{move || s().back_to_exercise} ": " {view.lesson_title.clone()}</a></p>
            <h1>{move || s().submission_title}</h1>
            <p class="meta">
                <span>{move || s().by} " " {view.learner_name.clone()}</span> " · "
                <span>{short_time(&sum.created_at)}</span> " · "
                <strong data-testid="submission-score">{move || s().score} " " {sum.passed} " / " {sum.total}</strong>
            </p>
            <h2>{move || s().results}</h2>
            <ul class="test-results" data-testid="submission-results">
                {view.results.clone().into_iter().map(|r| view! { <ResultItem result=r/> }).collect_view()}
            </ul>
            {(view.mine && sum.passed < sum.total).then(|| view! {
                <p><a class="button" href=format!("/forum/ask?submission={}", sum.id) data-testid="ask-for-help">{move || s().ask_for_help}</a></p>
            })}
            <h2>{move || s().code}</h2>
            <FormMessage error=update_error testid="update-comment"/>
            <ol class="code-lines" data-testid="code-lines" tabindex="0">
                {lines.iter().enumerate().map(|(i, line)| {
                    let n = (i + 1) as u32;
                    let here: Vec<CommentView> = comments.get_value().into_iter().filter(|c| c.line == n).collect();
                    view! {
                        <li id=format!("line-{n}") data-line=n.to_string()>
                            <pre><code>{if line.is_empty() { " ".to_string() } else { line.clone() }}</code></pre>
                            {(!here.is_empty()).then(|| view! {
                                <div class="line-comments">
                                    {here.into_iter().map(|c| view! { <Comment comment=c can_review=can_review update=update/> }).collect_view()}
                                </div>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ol>
            {can_review.then(|| view! {
                <ActionForm action=add attr:class="form add-comment" attr:data-testid="comment-form">
                    <h3>{move || s().add_comment}</h3>
                    <input type="hidden" name="submission_id" value=sub_id.get_value()/>
                    <label>{move || s().line} " "
                        <input type="number" name="line" min="1" max=lines.len().max(1).to_string() value="1" required data-testid="comment-line"/>
                    </label>
                    <label>{move || s().comment_body}
                        <textarea name="body" rows="3" required maxlength="5000" data-testid="comment-body"></textarea>
                    </label>
                    <FormMessage error=add_error testid="comment"/>
                    <button type="submit" class="button primary" data-testid="comment-submit">{move || s().post_comment}</button>
                </ActionForm>
            })}
            {(view.attempts.len() > 1).then(|| view! {
            <h2>{move || s().attempts}</h2>
                <form method="get" class="form inline-form compare-form" data-testid="compare-form">
                    <label>{move || s().compare} " "
                        <select name="against" data-testid="compare-select">
                            {view.attempts.iter().filter(|a| a.id != sum.id).map(|a| view! {
                                <option value=a.id.clone()>{short_time(&a.created_at)} " · " {a.passed} "/" {a.total}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <button type="submit" class="button" data-testid="compare-go">{move || s().compare_go}</button>
                </form>
            })}
            {view.diff.clone().map(|(_, diff)| view! {
                <h3>{move || s().diff_title}</h3>
                <pre tabindex="0" class="diff" data-testid="diff">
                    {diff.into_iter().map(|d| match d {
                        DiffLine::Same(t) => view! { <span class="same">"  " {t} "\n"</span> }.into_any(),
                        DiffLine::Removed(t) => view! { <del class="removed">"- " {t} "\n"</del> }.into_any(),
                        DiffLine::Added(t) => view! { <ins class="added">"+ " {t} "\n"</ins> }.into_any(),
                    }).collect_view()}
                </pre>
            })}
        </article>
    }
}

#[component]
fn Comment(
    comment: CommentView,
    can_review: bool,
    update: ServerAction<UpdateReviewComment>,
) -> impl IntoView {
    let locale = use_locale();
    let s = move || es(locale);
    let resolved = comment.resolved;
    let id = StoredValue::new(comment.id.clone());
    let body = StoredValue::new(comment.body.clone());
    view! {
        <div class="comment" class:resolved=resolved data-testid="comment" data-resolved=resolved.to_string()>
            <p class="meta"><strong>{comment.author_name.clone()}</strong> " · " {short_time(&comment.created_at)}
                {resolved.then(|| view! { " · " <span class="pill">{move || s().resolved}</span> })}
            </p>
            <div class="markdown" inner_html=comment.body_html.clone()></div>
            {can_review.then(|| view! {
                <ActionForm action=update attr:class="inline-form">
                    <input type="hidden" name="comment_id" value=id.get_value()/>
                    <input type="hidden" name="body" value=""/>
                    {(!resolved).then(|| view! { <input type="hidden" name="resolved" value="on"/> })}
                    <button type="submit" class="button subtle" data-testid="resolve">
                        {move || if resolved { s().reopen } else { s().resolve }}
                    </button>
                </ActionForm>
            })}
            {comment.mine.then(|| view! {
                <details class="edit-comment"><summary>{move || s().save_edit}</summary>
                    <ActionForm action=update attr:class="form">
                        <input type="hidden" name="comment_id" value=id.get_value()/>
                        {resolved.then(|| view! { <input type="hidden" name="resolved" value="on"/> })}
                        <textarea name="body" rows="3" maxlength="5000" data-testid="edit-body">{body.get_value()}</textarea>
                        <button type="submit" class="button" data-testid="edit-save">{move || s().save_edit}</button>
                    </ActionForm>
                </details>
            })}
        </div>
    }
}

/// `/lessons/:id/exercise`: authors write the exercise as TOML; Validate runs the reference
/// solution in the server grader; saving is refused unless it passes every test.
#[component]
pub fn ExerciseEditPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || es(locale);
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let draft = Resource::new(move || id.get(), get_exercise_draft);
    view! {
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {move || Suspend::new(async move {
                match draft.await {
                    Err(e) => view! { <crate::ui::layout::PageError error=e testid="exercise-edit-error"/> }.into_any(),
                    Ok(d) => view! {
                        <Title text=format!("{} · {}", locale.get_untracked().strings().exercises.author_title, d.lesson_title)/>
                        <article class="exercise-edit" data-testid="exercise-edit">
                            <p class="crumbs"><a href=format!("/lessons/{}", d.lesson_id)>{d.lesson_title.clone()}</a></p>
                            <h1>{move || s().author_title}</h1>
                            <p class="muted">{move || s().author_help}</p>
                            {d.validated_at.clone().map(|t| view! { <p class="muted">{move || s().validated_at} ": " {short_time(&t)}</p> })}
                            <ExerciseValidator lesson_id=d.lesson_id.clone() toml=d.toml.clone()/>
                        </article>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
