//! **Run** in the browser: each visible test in a fresh Web Worker inside the sandboxed
//! `/sandbox/run` frame (opaque origin, no network), stopped at the test's time limit. What
//! comes back is untrusted data: it is read with this page's own `JSON` (the learner's code ran
//! in another realm and cannot have replaced it) and judged in Rust by the same rules as the
//! server. Advice only: the server's grade is the one that counts.

use crate::exercises::model::{Limits, Outcome, TestCase, TestRun};

/// A result that could not be read becomes a failure with these words.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn unreadable(message: &str) -> TestRun {
    TestRun {
        outcome: Outcome::Threw {
            message: message.into(),
        },
        console: String::new(),
        micros: 0,
    }
}

/// Parses what the sandbox sent for one test (JSON text made in the page's realm).
pub fn parse_run(json: &str) -> TestRun {
    if json.len() > crate::exercises::model::VALUE_CAP + crate::exercises::model::CONSOLE_CAP + 4096
    {
        return unreadable("the returned value is too large to compare");
    }
    serde_json::from_str(json)
        .unwrap_or_else(|_| unreadable("the sandbox sent an unreadable result"))
}

/// Loads the sandbox frame ahead of the first Run and has it start `tests` workers, so that
/// a Run finds them ready (and the frame starts fresh ones for the next Run).
#[cfg(feature = "hydrate")]
pub fn warm_up(tests: usize) {
    client::warm(tests);
}

/// Runs `tests` after `code` and calls `done` once with one [`TestRun`] per test, in order.
#[cfg(feature = "hydrate")]
pub fn run_in_browser(
    code: String,
    tests: Vec<TestCase>,
    limits: Limits,
    done: impl FnOnce(Vec<TestRun>) + 'static,
) {
    client::run(code, tests, limits, Box::new(done));
}

/// Where the first Python Run of a page is: downloading Pyodide (percent), starting the
/// interpreter, ready, or failed. Later Runs find it ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PythonLoad {
    Downloading(u8),
    Starting,
    Ready,
    Failed,
}

/// Runs `tests` after `code` in Python (Pyodide in the sandbox), one test after another in a
/// clean interpreter; `progress` hears how the first load goes; `done` as for JavaScript.
#[cfg(feature = "hydrate")]
pub fn run_python(
    code: String,
    tests: Vec<TestCase>,
    limits: Limits,
    files: crate::exercises::model::PythonFiles,
    progress: impl Fn(PythonLoad) + 'static,
    done: impl FnOnce(Vec<TestRun>) + 'static,
) {
    client::run_python(
        code,
        tests,
        limits,
        files,
        Box::new(progress),
        Box::new(done),
    );
}

#[cfg(not(feature = "hydrate"))]
pub fn run_python(
    _code: String,
    _tests: Vec<TestCase>,
    _limits: Limits,
    _files: crate::exercises::model::PythonFiles,
    _progress: impl Fn(PythonLoad) + 'static,
    _done: impl FnOnce(Vec<TestRun>) + 'static,
) {
}

#[cfg(not(feature = "hydrate"))]
pub fn run_in_browser(
    _code: String,
    _tests: Vec<TestCase>,
    _limits: Limits,
    _done: impl FnOnce(Vec<TestRun>) + 'static,
) {
}

#[cfg(feature = "hydrate")]
mod client {
    use std::{cell::RefCell, collections::HashMap, rc::Rc};

    use leptos::{
        prelude::*,
        wasm_bindgen::{JsCast, JsValue, closure::Closure},
        web_sys::js_sys::{JSON, Object, Reflect},
    };

    use super::{PythonLoad, parse_run, unreadable};
    use crate::exercises::model::{
        Limits, PYTHON_HARNESS, PythonFiles, TestCase, TestRun, test_expression, test_script,
        worker_js,
    };

    /// The worker that holds one Pyodide interpreter (see the file).
    const PY_WORKER_JS: &str = include_str!("py_worker.js");

    type Pending = HashMap<u32, Box<dyn FnOnce(TestRun)>>;
    type Done = Box<dyn FnOnce(Vec<TestRun>)>;
    type Progress = Rc<dyn Fn(PythonLoad)>;

    struct Sandbox {
        frame: web_sys::HtmlIFrameElement,
        ready: bool,
        queue: Vec<JsValue>,
        pending: Pending,
        next_id: u32,
        /// Pyodide's files were sent to this frame (it keeps them for its lifetime).
        python_sent: bool,
        python_ready: bool,
    }

    /// Pyodide's files once downloaded (kept for the page's lifetime, so a new frame or a
    /// new interpreter needs no network), or the Runs waiting for the download.
    enum PyFiles {
        None,
        Loading(Vec<Box<dyn FnOnce(Option<JsValue>)>>),
        Loaded(JsValue),
    }

    thread_local! {
        static SANDBOX: RefCell<Option<Sandbox>> = const { RefCell::new(None) };
        static PY_FILES: RefCell<PyFiles> = const { RefCell::new(PyFiles::None) };
        /// Told how the load goes: the latest Python Run's.
        static PY_PROGRESS: RefCell<Option<Progress>> = const { RefCell::new(None) };
    }

    fn python_progress(state: PythonLoad) {
        if let Some(p) = PY_PROGRESS.with(|p| p.borrow().clone()) {
            p(state);
        }
    }

    fn post(frame: &web_sys::HtmlIFrameElement, message: &JsValue) {
        if let Some(w) = frame.content_window() {
            // The frame's origin is opaque, so it cannot be named: the message carries only
            // code the viewer already has, and answers are matched by their source window.
            let _ = w.post_message(message, "*");
        }
    }

    /// The frame, created on first use (and again if a navigation removed it).
    pub fn ensure_frame() -> Option<()> {
        let present = SANDBOX.with(|s| {
            s.borrow()
                .as_ref()
                .is_some_and(|sb| sb.frame.is_connected())
        });
        if present {
            return Some(());
        }
        let document = web_sys::window()?.document()?;
        let frame: web_sys::HtmlIFrameElement =
            document.create_element("iframe").ok()?.dyn_into().ok()?;
        frame.set_attribute("sandbox", "allow-scripts").ok()?;
        frame.set_attribute("title", "code sandbox").ok()?;
        frame.set_attribute("aria-hidden", "true").ok()?;
        frame.set_attribute("data-testid", "run-sandbox").ok()?;
        frame.set_attribute("class", "run-sandbox").ok()?;
        frame.set_src("/sandbox/run");
        document.body()?.append_child(&frame).ok()?;
        let first = SANDBOX.with(|s| s.borrow().is_none());
        let pending = SANDBOX.with(|s| {
            s.borrow_mut()
                .take()
                .map(|old| old.pending)
                .unwrap_or_default()
        });
        SANDBOX.with(|s| {
            *s.borrow_mut() = Some(Sandbox {
                frame,
                ready: false,
                queue: Vec::new(),
                pending,
                next_id: 1,
                python_sent: false,
                python_ready: false,
            })
        });
        if first {
            listen();
        }
        Some(())
    }

    fn listen() {
        let on_message =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(|ev: web_sys::MessageEvent| {
                let from_frame = SANDBOX.with(|s| {
                    s.borrow().as_ref().is_some_and(|sb| {
                        match (sb.frame.content_window(), ev.source()) {
                            (Some(w), Some(src)) => JsValue::from(w) == JsValue::from(src),
                            _ => false,
                        }
                    })
                });
                if !from_frame {
                    return;
                }
                let data = ev.data();
                if let Ok(ready) = Reflect::get(&data, &"pythonReady".into())
                    && !ready.is_undefined()
                {
                    let ok = ready.is_truthy();
                    SANDBOX.with(|s| {
                        if let Some(sb) = s.borrow_mut().as_mut() {
                            sb.python_ready |= ok;
                        }
                    });
                    python_progress(if ok {
                        PythonLoad::Ready
                    } else {
                        PythonLoad::Failed
                    });
                    return;
                }
                if Reflect::get(&data, &"ready".into()).is_ok_and(|v| v.is_truthy()) {
                    let flushed = SANDBOX.with(|s| {
                        let mut s = s.borrow_mut();
                        let sb = s.as_mut()?;
                        sb.ready = true;
                        Some((sb.frame.clone(), std::mem::take(&mut sb.queue)))
                    });
                    if let Some((frame, queue)) = flushed {
                        for m in queue {
                            post(&frame, &m);
                        }
                    }
                    return;
                }
                let Some(id) = Reflect::get(&data, &"id".into())
                    .ok()
                    .and_then(|v| v.as_f64())
                else {
                    return;
                };
                let run = Reflect::get(&data, &"run".into())
                    .ok()
                    .and_then(|r| JSON::stringify(&r).ok())
                    .and_then(|s| s.as_string())
                    .map(|text| parse_run(&text))
                    .unwrap_or_else(|| unreadable("the sandbox sent an unreadable result"));
                let callback = SANDBOX.with(|s| {
                    s.borrow_mut()
                        .as_mut()
                        .and_then(|sb| sb.pending.remove(&(id as u32)))
                });
                if let Some(cb) = callback {
                    cb(run);
                }
            });
        if let Some(w) = web_sys::window() {
            let _ =
                w.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
        }
        // One listener for the page's lifetime.
        on_message.forget();
    }

    /// Posts to the frame now, or when it says it is ready.
    fn send(message: JsValue) {
        SANDBOX.with(|s| {
            let mut s = s.borrow_mut();
            if let Some(sb) = s.as_mut() {
                if sb.ready {
                    post(&sb.frame, &message);
                } else {
                    sb.queue.push(message);
                }
            }
        });
    }

    /// Asks the frame (once it is ready) to keep `count` workers started.
    pub fn warm(count: usize) {
        if ensure_frame().is_none() {
            return;
        }
        let message = Object::new();
        let _ = Reflect::set(&message, &"warm".into(), &JsValue::from_str(&worker_js()));
        let _ = Reflect::set(
            &message,
            &"count".into(),
            &JsValue::from(u32::try_from(count).unwrap_or(16)),
        );
        send(message.into());
    }

    /// A Run's results: one slot per test, and `done` called once all are filled.
    type Slots = Rc<RefCell<Vec<Option<TestRun>>>>;

    fn collect(n: usize, done: Done) -> (Slots, Rc<dyn Fn()>) {
        let results: Slots = Rc::new(RefCell::new(vec![None; n]));
        let done = RefCell::new(Some(done));
        let slots = results.clone();
        let finish = move || {
            let filled = slots.borrow().iter().all(Option::is_some);
            if filled && let Some(d) = done.borrow_mut().take() {
                let runs = slots
                    .borrow_mut()
                    .drain(..)
                    .map(|r| r.unwrap_or_else(|| unreadable("")))
                    .collect();
                d(runs);
            }
        };
        (results, Rc::new(finish))
    }

    /// A message id whose answer fills slot `i`.
    fn register(i: usize, results: &Slots, finish: &Rc<dyn Fn()>) -> Option<u32> {
        SANDBOX.with(|s| {
            let mut s = s.borrow_mut();
            let sb = s.as_mut()?;
            let id = sb.next_id;
            sb.next_id += 1;
            let (results, finish) = (results.clone(), finish.clone());
            sb.pending.insert(
                id,
                Box::new(move |run| {
                    results.borrow_mut()[i] = Some(run);
                    finish();
                }),
            );
            Some(id)
        })
    }

    /// A sandbox that never answers (blocked frame, browser without workers) still ends.
    fn give_up_after(results: Slots, finish: Rc<dyn Fn()>, millis: u64) {
        set_timeout(
            move || {
                for r in results.borrow_mut().iter_mut().filter(|r| r.is_none()) {
                    *r = Some(unreadable(
                        "the code sandbox did not answer; reload the page and try again",
                    ));
                }
                finish();
            },
            std::time::Duration::from_millis(millis),
        );
    }

    pub fn run(code: String, tests: Vec<TestCase>, limits: Limits, done: Done) {
        let n = tests.len();
        let (results, finish) = collect(n, done);
        if ensure_frame().is_none() || n == 0 {
            *results.borrow_mut() = (0..n)
                .map(|_| Some(unreadable("the code sandbox could not start")))
                .collect();
            finish();
            return;
        }
        let worker = worker_js();
        for (i, test) in tests.iter().enumerate() {
            let message = Object::new();
            let Some(id) = register(i, &results, &finish) else {
                continue;
            };
            let _ = Reflect::set(&message, &"id".into(), &JsValue::from(id));
            let script = test_script(&code, &test_expression(test));
            let _ = Reflect::set(&message, &"script".into(), &JsValue::from_str(&script));
            let _ = Reflect::set(
                &message,
                &"timeoutMs".into(),
                &JsValue::from(limits.test_ms),
            );
            let _ = Reflect::set(&message, &"worker".into(), &JsValue::from_str(&worker));
            send(message.into());
        }
        give_up_after(results, finish, u64::from(limits.test_ms) + 5_000);
    }

    /// Approximate sizes of Pyodide 0.25.1's files, only to weigh the progress bar.
    const PY_WEIGHTS: [(&str, f64); 5] = [
        ("wasm", 9_002_149.0),
        ("stdlib", 2_323_181.0),
        ("asm", 1_130_465.0),
        ("lock", 88_866.0),
        ("loader", 16_698.0),
    ];

    /// Downloads Pyodide's files (once per page) and calls `then` with them, or `None`.
    fn python_files(files: &PythonFiles, then: Box<dyn FnOnce(Option<JsValue>)>) {
        let start = PY_FILES.with(|f| {
            let mut f = f.borrow_mut();
            match &mut *f {
                PyFiles::Loaded(v) => {
                    let v = v.clone();
                    drop(f);
                    then(Some(v));
                    false
                }
                PyFiles::Loading(waiting) => {
                    waiting.push(then);
                    false
                }
                PyFiles::None => {
                    *f = PyFiles::Loading(vec![then]);
                    true
                }
            }
        });
        if !start {
            return;
        }
        let out = Object::new();
        let _ = Reflect::set(&out, &"harness".into(), &JsValue::from_str(PYTHON_HARNESS));
        let fractions = Rc::new(RefCell::new([0.0f64; 5]));
        let left = Rc::new(RefCell::new(PY_WEIGHTS.len()));
        let failed = Rc::new(RefCell::new(false));
        let finish = {
            let out = out.clone();
            move |ok: bool| {
                let result = ok.then(|| JsValue::from(out.clone()));
                let waiting = PY_FILES.with(|f| {
                    let mut f = f.borrow_mut();
                    let before = std::mem::replace(
                        &mut *f,
                        match &result {
                            Some(v) => PyFiles::Loaded(v.clone()),
                            None => PyFiles::None,
                        },
                    );
                    match before {
                        PyFiles::Loading(w) => w,
                        _ => Vec::new(),
                    }
                });
                for w in waiting {
                    w(result.clone());
                }
            }
        };
        let finish = Rc::new(RefCell::new(Some(finish)));
        for (i, (key, _)) in PY_WEIGHTS.iter().enumerate() {
            let url = match *key {
                "wasm" => &files.wasm,
                "stdlib" => &files.stdlib,
                "asm" => &files.asm,
                "lock" => &files.lock,
                _ => &files.loader,
            };
            let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
                if let Some(f) = finish.borrow_mut().take() {
                    f(false);
                }
                return;
            };
            let binary = matches!(*key, "wasm" | "stdlib");
            if xhr.open_with_async("GET", url, true).is_err() {
                if let Some(f) = finish.borrow_mut().take() {
                    f(false);
                }
                return;
            }
            xhr.set_response_type(if binary {
                web_sys::XmlHttpRequestResponseType::Arraybuffer
            } else {
                web_sys::XmlHttpRequestResponseType::Text
            });
            let fr = fractions.clone();
            gloo_events::EventListener::new(&xhr, "progress", move |e| {
                let Some(e) = e.dyn_ref::<web_sys::ProgressEvent>() else {
                    return;
                };
                if e.length_computable() && e.total() > 0.0 {
                    fr.borrow_mut()[i] = (e.loaded() / e.total()).min(1.0);
                    let total: f64 = PY_WEIGHTS.iter().map(|(_, w)| w).sum();
                    let done: f64 = PY_WEIGHTS
                        .iter()
                        .zip(fr.borrow().iter())
                        .map(|((_, w), f)| w * f)
                        .sum();
                    let percent = (done / total * 100.0).clamp(0.0, 99.0) as u8;
                    python_progress(PythonLoad::Downloading(percent));
                }
            })
            .forget();
            let (out, left, failed, finish, fr) = (
                out.clone(),
                left.clone(),
                failed.clone(),
                finish.clone(),
                fractions.clone(),
            );
            let request = xhr.clone();
            gloo_events::EventListener::new(&xhr, "loadend", move |_| {
                let ok = request.status().is_ok_and(|s| (200..300).contains(&s));
                if ok && let Ok(body) = request.response() {
                    let _ = Reflect::set(&out, &JsValue::from_str(key), &body);
                    fr.borrow_mut()[i] = 1.0;
                } else {
                    *failed.borrow_mut() = true;
                }
                *left.borrow_mut() -= 1;
                if *left.borrow() == 0
                    && let Some(f) = finish.borrow_mut().take()
                {
                    f(!*failed.borrow());
                }
            })
            .forget();
            let _ = xhr.send();
        }
        python_progress(PythonLoad::Downloading(0));
    }

    pub fn run_python(
        code: String,
        tests: Vec<TestCase>,
        limits: Limits,
        files: PythonFiles,
        progress: Box<dyn Fn(PythonLoad)>,
        done: Done,
    ) {
        let n = tests.len();
        if ensure_frame().is_none() || n == 0 {
            done(
                (0..n)
                    .map(|_| unreadable("the code sandbox could not start"))
                    .collect(),
            );
            return;
        }
        PY_PROGRESS.with(|p| *p.borrow_mut() = Some(Rc::from(progress)));
        let (send_files, ready) = SANDBOX.with(|s| {
            let mut s = s.borrow_mut();
            match s.as_mut() {
                Some(sb) => {
                    let first = !sb.python_sent;
                    sb.python_sent = true;
                    (first, sb.python_ready)
                }
                None => (false, false),
            }
        });
        if send_files {
            python_files(
                &files,
                Box::new(|loaded| match loaded {
                    Some(files) => {
                        python_progress(PythonLoad::Starting);
                        let python = Object::new();
                        let _ = Reflect::set(
                            &python,
                            &"worker".into(),
                            &JsValue::from_str(PY_WORKER_JS),
                        );
                        let _ = Reflect::set(&python, &"files".into(), &files);
                        let message = Object::new();
                        let _ = Reflect::set(&message, &"python".into(), &python);
                        send(message.into());
                    }
                    None => {
                        // The next Run downloads again.
                        SANDBOX.with(|s| {
                            if let Some(sb) = s.borrow_mut().as_mut() {
                                sb.python_sent = false;
                            }
                        });
                        python_progress(PythonLoad::Failed);
                    }
                }),
            );
        } else if ready {
            python_progress(PythonLoad::Ready);
        }
        let (results, finish) = collect(n, done);
        for (i, test) in tests.iter().enumerate() {
            let Some(id) = register(i, &results, &finish) else {
                continue;
            };
            let job = serde_json::json!({ "index": i, "code": code, "expression": test.call });
            let message = Object::new();
            let _ = Reflect::set(&message, &"id".into(), &JsValue::from(id));
            let _ = Reflect::set(&message, &"py".into(), &JsValue::from_str(&job.to_string()));
            let _ = Reflect::set(
                &message,
                &"timeoutMs".into(),
                &JsValue::from(limits.test_ms),
            );
            let _ = Reflect::set(&message, &"last".into(), &JsValue::from_bool(i + 1 == n));
            send(message.into());
        }
        // A first load may take minutes on a slow phone network. Later Runs need their tests'
        // time, one after another, plus the start of the fresh interpreter the frame makes
        // after every Run: about 2 s here, far longer on a busy phone, and after a Run that
        // timed out the page cannot know it is ready. This is only the net for a sandbox that
        // never answers, so a generous one costs a working Run nothing.
        let budget =
            u64::from(limits.test_ms) * n as u64 + 5_000 + if ready { 60_000 } else { 300_000 };
        give_up_after(results, finish, budget);
    }
}
