//! The shared editor in the browser: the JavaScript side (Yjs, y-codemirror.next, cursors;
//! `app/editor/src/collab.js`) is created here and wired to the room socket that
//! `rooms::call` owns: binary frames go to it, and it sends through the socket.

use std::cell::RefCell;

use leptos::{
    prelude::*,
    wasm_bindgen::{JsCast, closure::Closure, prelude::*},
};
use web_sys::js_sys;

#[wasm_bindgen(inline_js = "
function dark() { return !!(window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches); }
export function collab_mount(host, language, label, name, onReady, onPeers) {
  // The shared editor's Yjs code is a chunk of the editor build: createCollab is a Promise.
  import(document.getElementById('editor-bundle')?.href || '/editor/codemirror.js')
    .then((m) => host.isConnected ? m.createCollab(host, language, dark(), label, null, name) : null)
    .then((c) => {
      if (c && !host.isConnected) { c.destroy(); c = null; }
      if (!c) { onReady(null); return; }
      c.awareness.on('change', () => onPeers(c.peers()));
      host.__pairwiseCollab = c; // the browser tests and the latency benchmark read the text here
      onReady(c);
    }).catch((e) => { console.warn('shared editor unavailable', e); onReady(null); });
}
export function collab_connected(c, send) { c.connected(send); }
export function collab_disconnected(c) { c.disconnected(); }
export function collab_receive(c, bytes) {
  try { c.receive(bytes); } catch (e) { console.warn('shared editor: unreadable frame', e); }
}
export function collab_value(c) { return c.value(); }
export function collab_language(c, lang) { c.editor.setLanguage(lang); }
export function collab_destroy(c) { c.destroy(); }
export function replay_mount(host, steps, base, language, label, onReady) {
  import(document.getElementById('editor-bundle')?.href || '/editor/codemirror.js')
    .then((m) => host.isConnected ? m.createReplay(host, steps, base, language, dark(), label, null) : null)
    .then((r) => onReady(r && host.isConnected ? r : null))
    .catch((e) => { console.warn('replay unavailable', e); onReady(null); });
}
export function replay_seek(r, k) { r.seek(k); }
")]
extern "C" {
    fn collab_mount(
        host: &web_sys::HtmlElement,
        language: &str,
        label: &str,
        name: &str,
        on_ready: &JsValue,
        on_peers: &JsValue,
    );
    fn collab_connected(c: &JsValue, send: &JsValue);
    fn collab_disconnected(c: &JsValue);
    fn collab_receive(c: &JsValue, bytes: &js_sys::Uint8Array);
    fn collab_value(c: &JsValue) -> String;
    fn collab_language(c: &JsValue, lang: &str);
    fn collab_destroy(c: &JsValue);
    fn replay_mount(
        host: &web_sys::HtmlElement,
        steps: &JsValue,
        base: Option<String>,
        language: &str,
        label: &str,
        on_ready: &JsValue,
    );
    fn replay_seek(r: &JsValue, k: u32);
}

struct Mounted {
    collab: JsValue,
    /// Sends one frame on the room's current socket (kept alive while mounted).
    send: Closure<dyn Fn(js_sys::Uint8Array)>,
    _peers: Closure<dyn Fn(JsValue)>,
}

thread_local! {
    static COLLAB: RefCell<Option<Mounted>> = const { RefCell::new(None) };
}

/// Creates the shared editor in `host`; `peers` follows who else is editing. Once it is
/// ready, it syncs at once if the room socket is already open.
pub fn mount(
    host: web_sys::HtmlElement,
    language: &str,
    label: &str,
    name: &str,
    peers: RwSignal<Vec<String>>,
    on_ready: impl FnOnce(bool) + 'static,
) {
    unmount();
    let on_peers = Closure::<dyn Fn(JsValue)>::new(move |list: JsValue| {
        let names: Vec<String> = js_sys::Array::from(&list)
            .iter()
            .filter_map(|v| v.as_string())
            .collect();
        let _ = peers.try_set(names);
    });
    let peers_fn: JsValue = on_peers.as_ref().clone();
    let mut on_peers = Some(on_peers);
    let ready = Closure::once_into_js(move |collab: JsValue| {
        if collab.is_null() || collab.is_undefined() {
            on_ready(false);
            return;
        }
        let send = Closure::<dyn Fn(js_sys::Uint8Array)>::new(|bytes: js_sys::Uint8Array| {
            crate::rooms::call::send_binary(&bytes);
        });
        let Some(peers_closure) = on_peers.take() else {
            return;
        };
        COLLAB.with(|c| {
            *c.borrow_mut() = Some(Mounted {
                collab,
                send,
                _peers: peers_closure,
            })
        });
        if crate::rooms::call::is_open() {
            connected();
        }
        on_ready(true);
    });
    collab_mount(&host, language, label, name, &ready, &peers_fn);
}

pub fn unmount() {
    if let Some(m) = COLLAB.with(|c| c.borrow_mut().take()) {
        collab_destroy(&m.collab);
    }
}

/// The room socket opened (or reopened): sync both ways, publish my cursor.
pub fn connected() {
    COLLAB.with(|c| {
        if let Some(m) = c.borrow().as_ref() {
            collab_connected(&m.collab, m.send.as_ref().unchecked_ref());
        }
    });
}

pub fn disconnected() {
    COLLAB.with(|c| {
        if let Some(m) = c.borrow().as_ref() {
            collab_disconnected(&m.collab);
        }
    });
}

/// A binary frame from the room socket.
pub fn receive(bytes: &js_sys::Uint8Array) {
    // Cloned out first: handling a frame may send one, which must not find COLLAB borrowed.
    let collab = COLLAB.with(|c| c.borrow().as_ref().map(|m| m.collab.clone()));
    if let Some(collab) = collab {
        collab_receive(&collab, bytes);
    }
}

/// The shared text now (`None` before the editor has loaded).
pub fn value() -> Option<String> {
    let collab = COLLAB.with(|c| c.borrow().as_ref().map(|m| m.collab.clone()));
    collab.map(|c| collab_value(&c))
}

pub fn set_language(lang: &str) {
    let collab = COLLAB.with(|c| c.borrow().as_ref().map(|m| m.collab.clone()));
    if let Some(c) = collab {
        collab_language(&c, lang);
    }
}

/// Mounts the replay's read-only editor over `steps` (JSON-able); `ready` gets a handle.
pub fn mount_replay(
    host: web_sys::HtmlElement,
    steps: &[crate::rooms::code::model::ReplayStep],
    base: Option<String>,
    language: &str,
    label: &str,
    ready: impl FnOnce(Option<ReplayHandle>) + 'static,
) {
    let list = js_sys::Array::new();
    for s in steps {
        let o = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&o, &"update".into(), &JsValue::from_str(&s.update));
        list.push(&o);
    }
    let on_ready = Closure::once_into_js(move |r: JsValue| {
        ready((!r.is_null() && !r.is_undefined()).then_some(ReplayHandle(r)));
    });
    replay_mount(&host, &list, base, language, label, &on_ready);
}

/// The replay's JavaScript object.
#[derive(Clone)]
pub struct ReplayHandle(JsValue);

impl ReplayHandle {
    pub fn seek(&self, k: u32) {
        replay_seek(&self.0, k);
    }
}
