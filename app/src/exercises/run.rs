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

    use super::{parse_run, unreadable};
    use crate::exercises::model::{
        Limits, TestCase, TestRun, test_expression, test_script, worker_js,
    };

    type Pending = HashMap<u32, Box<dyn FnOnce(TestRun)>>;
    type Done = Box<dyn FnOnce(Vec<TestRun>)>;

    struct Sandbox {
        frame: web_sys::HtmlIFrameElement,
        ready: bool,
        queue: Vec<JsValue>,
        pending: Pending,
        next_id: u32,
    }

    thread_local! {
        static SANDBOX: RefCell<Option<Sandbox>> = const { RefCell::new(None) };
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

    pub fn run(code: String, tests: Vec<TestCase>, limits: Limits, done: Done) {
        let n = tests.len();
        let results: Rc<RefCell<Vec<Option<TestRun>>>> = Rc::new(RefCell::new(vec![None; n]));
        let done: Rc<RefCell<Option<Done>>> = Rc::new(RefCell::new(Some(done)));
        let finish = {
            let results = results.clone();
            let done = done.clone();
            move || {
                let filled = results.borrow().iter().all(Option::is_some);
                if filled && let Some(d) = done.borrow_mut().take() {
                    let runs = results
                        .borrow_mut()
                        .drain(..)
                        .map(|r| r.unwrap_or_else(|| unreadable("")))
                        .collect();
                    d(runs);
                }
            }
        };
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
            let id = SANDBOX.with(|s| {
                let mut s = s.borrow_mut();
                let sb = s.as_mut()?;
                let id = sb.next_id;
                sb.next_id += 1;
                let results = results.clone();
                let finish = finish.clone();
                sb.pending.insert(
                    id,
                    Box::new(move |run| {
                        results.borrow_mut()[i] = Some(run);
                        finish();
                    }),
                );
                Some(id)
            });
            let Some(id) = id else { continue };
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
        // A sandbox that never answers (blocked frame, browser without workers) still ends.
        let results_late = results.clone();
        set_timeout(
            move || {
                for r in results_late.borrow_mut().iter_mut().filter(|r| r.is_none()) {
                    *r = Some(unreadable(
                        "the code sandbox did not answer; reload the page and try again",
                    ));
                }
                finish();
            },
            std::time::Duration::from_millis(u64::from(limits.test_ms) + 5_000),
        );
    }
}
