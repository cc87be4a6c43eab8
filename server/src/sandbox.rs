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
pub(crate) const SCRIPT: &str = r#"
'use strict';
addEventListener('message', (event) => {
  if (event.source !== parent) return;
  const { id, script, timeoutMs, worker } = event.data || {};
  if (typeof id !== 'number' || typeof worker !== 'string') return;
  const started = performance.now();
  const answer = (run) => parent.postMessage({ id, run }, '*');
  let w;
  try {
    const url = URL.createObjectURL(new Blob([worker], { type: 'text/javascript' }));
    w = new Worker(url);
    URL.revokeObjectURL(url);
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
