//! `/sandbox/run`: the page the browser's Run loads in an `<iframe sandbox="allow-scripts">`.
//!
//! Without `allow-same-origin` the frame has an opaque origin (its own policy says
//! `sandbox allow-scripts` too, so it is opaque however it is opened), so learner code can never call
//! Pairwise with the viewer's cookies; its own policy also forbids every connection
//! (`connect-src 'none'`), which the Web Workers it starts from `blob:` URLs inherit. Each test
//! runs in a fresh worker that is terminated on its time limit, so an endless loop stops there
//! and the page stays responsive. `'unsafe-eval'` is needed here (the worker evaluates the code)
//! and only here: the app's own pages keep their strict policy.

use axum::{
    Extension,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use crate::security::CspNonce;

pub async fn run_page(Extension(CspNonce(nonce)): Extension<CspNonce>) -> Response {
    let policy = format!(
        "default-src 'none'; script-src 'nonce-{nonce}' 'unsafe-eval'; worker-src blob:; \
         connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; \
         sandbox allow-scripts"
    );
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Pairwise code sandbox</title>\
         <script nonce=\"{nonce}\">{SCRIPT}</script>"
    );
    let mut res = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&policy) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Receives `{id, script, timeoutMs, worker}` from the parent page, runs it in a
/// fresh worker and answers `{id, run}`; only the parent window is listened to.
/// `{warm, count}` starts `count` workers of that source ahead of time: starting a worker is
/// most of a Run's time, so a Run takes ready ones (each still runs one test only and is then
/// terminated) and new ones start for the next Run once the last test of this one answered —
/// not while its tests still run, where booting fresh workers competes with them for the
/// phone's few cores.
pub(crate) const SCRIPT: &str = r#"
'use strict';
const pool = [];
let warmSource = null;
let warmCount = 0;
const spawn = (source) => {
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  try { return new Worker(url); } finally { URL.revokeObjectURL(url); }
};
let running = 0;
const refill = () => {
  while (running === 0 && warmSource !== null && pool.length < warmCount) {
    try { pool.push(spawn(warmSource)); } catch (e) { return; }
  }
};
// Python: the page sends Pyodide's files once ({python}); the frame compiles its WebAssembly
// once and keeps one interpreter loaded ahead in a worker. A Run's tests ({id, py}) go to it
// one after another; a test past its limit ends that worker (the rest continue in a fresh
// one), and after a Run's last test the used worker is replaced in the background, so every
// Run starts from a clean interpreter.
let python = null;
let pyWorker = null;
const pyQueue = [];
let pyBusy = false;
const pyStart = () => {
  const w = spawn(python.worker);
  const ready = new Promise((resolve) => {
    w.onmessage = (m) => resolve(m.data || {});
    w.onerror = (e) => { e.preventDefault(); resolve({ failed: e.message || 'Python could not start' }); };
  });
  ready.then((state) => parent.postMessage({ pythonReady: !state.failed, failed: state.failed }, '*'));
  w.postMessage({ init: python.files, module: python.module });
  return { w, ready };
};
const pyPump = () => {
  if (pyBusy || pyQueue.length === 0 || python === null) return;
  pyBusy = true;
  const job = pyQueue.shift();
  if (pyWorker === null) pyWorker = pyStart();
  const current = pyWorker;
  current.ready.then((state) => {
    const answer = (run) => {
      parent.postMessage({ id: job.id, run }, '*');
      pyBusy = false;
      pyPump();
    };
    if (state.failed) {
      current.w.terminate();
      pyWorker = null;
      answer({ outcome: { status: 'threw', message: 'Python could not start: ' + state.failed }, console: '', micros: 0 });
      return;
    }
    const started = performance.now();
    const timer = setTimeout(() => {
      current.w.terminate();
      pyWorker = pyStart();
      answer({ outcome: { status: 'timed_out' }, console: '', micros: Math.round((performance.now() - started) * 1000) });
    }, job.timeoutMs);
    current.w.onmessage = (m) => {
      clearTimeout(timer);
      if (job.last) {
        current.w.terminate();
        pyWorker = pyStart();
      }
      answer((m.data || {}).run);
    };
    current.w.postMessage({ job: job.py });
  });
};
addEventListener('message', (event) => {
  if (event.source !== parent) return;
  const data = event.data || {};
  if (data.python && typeof data.python.worker === 'string') {
    if (python !== null) return;
    const { wasm, ...files } = data.python.files;
    WebAssembly.compile(wasm).then((module) => {
      python = { worker: data.python.worker, files, module };
      pyWorker = pyStart();
      pyPump();
    }, (e) => parent.postMessage({ pythonReady: false, failed: String(e && e.message || e) }, '*'));
    return;
  }
  if (typeof data.py === 'string' && typeof data.id === 'number') {
    pyQueue.push({ id: data.id, py: data.py, timeoutMs: data.timeoutMs, last: !!data.last });
    pyPump();
    return;
  }
  if (typeof data.warm === 'string') {
    warmSource = data.warm;
    warmCount = Math.max(1, Math.min(16, data.count | 0));
    refill();
    return;
  }
  const { id, script, timeoutMs, worker } = data;
  if (typeof id !== 'number' || typeof worker !== 'string') return;
  const started = performance.now();
  let answered = false;
  const answer = (run) => {
    if (answered) return;
    answered = true;
    parent.postMessage({ id, run }, '*');
    running -= 1;
    setTimeout(refill, 0);
  };
  running += 1;
  let w;
  try {
    w = worker === warmSource && pool.length > 0 ? pool.shift() : spawn(worker);
  } catch (e) {
    answer({ outcome: { status: 'threw', message: 'the sandbox could not start: ' + e.message }, console: '', micros: 0 });
    return;
  }
  const timer = setTimeout(() => {
    w.terminate();
    answer({ outcome: { status: 'timed_out' }, console: '', micros: Math.round((performance.now() - started) * 1000) });
  }, timeoutMs);
  w.onmessage = (m) => { clearTimeout(timer); w.terminate(); answer(m.data); };
  w.onerror = (e) => {
    e.preventDefault();
    clearTimeout(timer);
    w.terminate();
    answer({ outcome: { status: 'threw', message: e.message || 'the code crashed' }, console: '', micros: 0 });
  };
  w.postMessage({ script });
});
parent.postMessage({ ready: true }, '*');
"#;
