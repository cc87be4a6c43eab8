//! The notification link in the navigation with the unread count. After hydration the page
//! keeps one `/ws` socket open; the server sends the count at once and pushes a new one (and
//! the newest notification's words, announced politely) the moment something arrives.

use leptos::prelude::*;

use crate::realtime::NotificationBrief;

/// An island: signed-in pages that are otherwise plain HTML load the small WASM chunk for it.
#[island]
pub fn NotificationBell(label: String) -> impl IntoView {
    // The count arrives over the socket (first message after the welcome), so the server
    // and the hydrating client render the same markup: the link, with no count yet.
    let live = RwSignal::new(None::<u32>);
    let latest = RwSignal::new(None::<NotificationBrief>);
    #[cfg(feature = "hydrate")]
    {
        let socket = StoredValue::new_local(live::start(live, latest));
        on_cleanup(move || socket.with_value(live::stop));
    }
    view! {
        <a href="/notifications" data-testid="nav-notifications" class="bell">
            {label}
            {move || live.get().filter(|n| *n > 0).map(|n| view! {
                " " <span class="count" data-testid="unread-count">{n}</span>
            })}
        </a>
        <span class="visually-hidden" aria-live="polite" data-testid="live-notice">
            {move || latest.get().map(|n| n.text)}
        </span>
    }
}

#[cfg(feature = "hydrate")]
mod live {
    use std::{cell::RefCell, rc::Rc};

    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};
    use web_sys::{MessageEvent, WebSocket};

    use crate::realtime::{NotificationBrief, ServerMessage};

    #[derive(Default)]
    pub struct Conn {
        ws: Option<WebSocket>,
        stopped: bool,
        backoff_ms: i32,
    }

    pub type Shared = Rc<RefCell<Conn>>;

    pub fn start(
        unread: RwSignal<Option<u32>>,
        latest: RwSignal<Option<NotificationBrief>>,
    ) -> Shared {
        let conn: Shared = Rc::new(RefCell::new(Conn {
            backoff_ms: 1000,
            ..Default::default()
        }));
        connect(&conn, unread, latest);
        conn
    }

    pub fn stop(conn: &Shared) {
        let mut c = conn.borrow_mut();
        c.stopped = true;
        if let Some(ws) = c.ws.take() {
            ws.set_onmessage(None);
            ws.set_onclose(None);
            let _ = ws.close();
        }
    }

    fn connect(
        conn: &Shared,
        unread: RwSignal<Option<u32>>,
        latest: RwSignal<Option<NotificationBrief>>,
    ) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let (Ok(protocol), Ok(host)) = (location.protocol(), location.host()) else {
            return;
        };
        let scheme = if protocol == "https:" { "wss" } else { "ws" };
        let Ok(ws) = WebSocket::new(&format!("{scheme}://{host}/ws")) else {
            return;
        };
        let weak = Rc::downgrade(conn);
        let on_message = Closure::<dyn FnMut(JsValue)>::new(move |ev: JsValue| {
            let Some(text) = ev
                .dyn_ref::<MessageEvent>()
                .and_then(|m| m.data().as_string())
            else {
                return;
            };
            if let Some(c) = weak.upgrade() {
                c.borrow_mut().backoff_ms = 1000;
            }
            if let Ok(ServerMessage::Notifications {
                unread: n,
                latest: l,
            }) = serde_json::from_str::<ServerMessage>(&text)
            {
                unread.set(Some(n));
                if latest.get_untracked().as_ref().map(|x| &x.id) != l.as_ref().map(|x| &x.id) {
                    latest.set(l);
                }
            }
        });
        let weak = Rc::downgrade(conn);
        let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
            let Some(c) = weak.upgrade() else { return };
            let delay = {
                let mut b = c.borrow_mut();
                if b.stopped {
                    return;
                }
                b.ws = None;
                let d = b.backoff_ms;
                b.backoff_ms = (d * 2).min(30_000);
                d
            };
            // Signed out, or the server went away: try again later, more slowly each time.
            let again = Rc::downgrade(&c);
            let retry = Closure::once_into_js(move || {
                if let Some(c) = again.upgrade()
                    && !c.borrow().stopped
                {
                    connect(&c, unread, latest);
                }
            });
            if let Some(w) = web_sys::window() {
                let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                    retry.unchecked_ref(),
                    delay,
                );
            }
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        on_message.forget();
        on_close.forget();
        conn.borrow_mut().ws = Some(ws);
    }
}
