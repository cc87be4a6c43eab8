//! Room pages: "my rooms" (with a form to open one), and the live room: video tiles, call
//! controls, chat and the participant list. The server renders the room with its latest chat
//! and working forms; the call and live chat start when the WASM hydrates (`call.rs`).

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    accounts::model::Capabilities,
    i18n::{Locale, use_locale},
    rooms::{
        api::{
            CreateRoom, InviteToRoom, RemoveFromRoom, SetRoomOpen, WithdrawInvite, get_room,
            my_rooms,
        },
        model::{
            ChatMessage, ChatPiece, MediaState, MemberView, Quality, QualityLevel, RoomAccess,
            RoomState, RoomView, chat_pieces, close,
        },
        text::RoomStrings,
    },
    ui::form::{FormMessage, action_error, successes},
};

fn rs(locale: RwSignal<Locale>) -> &'static RoomStrings {
    locale.get().strings().rooms
}

/// The room socket's state, as the page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conn {
    Connecting,
    Live,
    Reconnecting,
    Offline,
    /// Closed by the server for good, with its close code.
    Ended(u16),
}

impl Conn {
    fn key(self) -> &'static str {
        match self {
            Conn::Connecting => "connecting",
            Conn::Live => "live",
            Conn::Reconnecting => "reconnecting",
            Conn::Offline => "offline",
            Conn::Ended(_) => "ended",
        }
    }
}

/// Another participant's video tile.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteTile {
    pub peer_id: String,
    pub name: String,
    pub host: bool,
    pub media: MediaState,
    pub quality: Quality,
}

/// A chat message typed here and not yet acknowledged (or refused, with the reason).
#[derive(Clone, Debug, PartialEq)]
pub struct PendingChat {
    pub key: String,
    pub body: String,
    pub error: Option<String>,
}

/// Everything the call code changes on the page.
#[derive(Clone, Copy)]
pub struct CallUi {
    pub conn: RwSignal<Conn>,
    pub in_call: RwSignal<bool>,
    pub joining: RwSignal<bool>,
    pub media: RwSignal<MediaState>,
    pub can_share: RwSignal<bool>,
    pub remotes: RwSignal<Vec<RemoteTile>>,
    /// Users connected to the room now (in the call or only chatting).
    pub present: RwSignal<Vec<String>>,
    pub chat: RwSignal<BTreeMap<u64, ChatMessage>>,
    pub pending: RwSignal<Vec<PendingChat>>,
    pub more_before: RwSignal<bool>,
    pub need_tap: RwSignal<bool>,
    pub notice: RwSignal<Option<String>>,
    pub mics: RwSignal<Vec<(String, String)>>,
    pub cameras: RwSignal<Vec<(String, String)>>,
    pub me: StoredValue<String>,
    pub locale: RwSignal<Locale>,
    pub code: crate::rooms::code::pages::CodeUi,
}

/// `/rooms`: the rooms I am in, and (for mentors) a form to open one.
#[component]
pub fn RoomsPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || rs(locale);
    let create = ServerAction::<CreateRoom>::new();
    let create_error = action_error(create, locale);
    let rooms = Resource::new(|| (), |_| my_rooms());
    let user = crate::accounts::pages::use_user().0;
    view! {
        <Title text=locale.get_untracked().strings().rooms.rooms_title/>
        <h1>{move || s().rooms_title}</h1>
        <p class="lead">{move || s().rooms_lead}</p>
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {move || Suspend::new(async move {
                let can_host = matches!(user.await, Ok(Some(ref u)) if u.roles.can_mentor());
                let list = rooms.await;
                view! {
                    {match list {
                        Err(e) => view! { <crate::ui::layout::PageError error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="muted" data-testid="no-rooms">{move || s().no_rooms}</p> }.into_any(),
                        Ok(list) => view! {
                            <ul class="room-list" data-testid="room-list">
                                {list.into_iter().map(|r| {
                                    let closed = r.state == RoomState::Closed;
                                    view! {
                                        <li data-testid="room-item">
                                            <a href=format!("/rooms/{}", r.id)>{r.title.clone()}</a>
                                            " " <span class="badge" class:muted=closed>{move || if closed { s().state_closed } else { s().state_open }}</span>
                                            <span class="muted">" " {move || s().hosted_by} " " {r.host_name.clone()}
                                                {(r.present > 0).then(|| view! { " · " {r.present} " " {move || s().in_call_now} })}
                                            </span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                    }}
                    <Show when=move || can_host>
                        <section class="panel">
                            <h2>{move || s().new_room}</h2>
                            <ActionForm action=create attr:class="stack" attr:data-testid="new-room-form">
                                <label for="room-title">{move || s().room_title_label}</label>
                                <input id="room-title" name="title" required maxlength="120" data-testid="room-title"/>
                                <FormMessage error=create_error/>
                                <button type="submit" class="button" data-testid="create-room">{move || s().create_room}</button>
                            </ActionForm>
                        </section>
                    </Show>
                }
            })}
        </Suspense>
    }
}

pub use crate::ui::layout::respond_with;

/// `/rooms/:id`: the live room for its participants; a refusal in words for anyone else.
#[component]
pub fn RoomPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || rs(locale);
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let room = Resource::new(id, get_room);
    view! {
        <Suspense fallback=move || view! { <p class="muted">{move || locale.get().strings().loading}</p> }>
            {move || Suspend::new(async move {
                match room.await {
                    Ok(RoomAccess::Member(mut view)) => {
                        view.code.python = Some(crate::exercises::model::PythonFiles::of_site());
                        view! {
                            <Title text=view.title.clone()/>
                            <crate::ui::editor::EditorPreload language=view.code.language.key() shared=true/>
                            <LiveRoom room=*view/>
                        }.into_any()
                    }
                    Ok(RoomAccess::NotInvited) => {
                        respond_with(403);
                        view! {
                            <Title text=locale.get_untracked().strings().rooms.not_invited_title/>
                            <section class="panel center" data-testid="room-refused" role="alert">
                                <h1>{move || s().not_invited_title}</h1>
                                <p>{move || s().not_invited_lead}</p>
                                <a class="button" href="/rooms">{move || s().rooms_title}</a>
                            </section>
                        }.into_any()
                    }
                    Err(crate::error::AppError::Unauthenticated) => {
                        respond_with(401);
                        view! {
                            <section class="panel center" data-testid="room-sign-in" role="alert">
                                <p>{move || s().sign_in_lead}</p>
                                <a class="button" href="/signin">{move || locale.get().strings().nav_sign_in}</a>
                            </section>
                        }.into_any()
                    }
                    Err(e) => {
                        respond_with(e.status_code());
                        view! { <p class="form-error" role="alert" data-testid="room-error">{e.message(locale.get())}</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// The room: an island of the room chunk (a plain, never-called component in the other
/// chunks' builds).
#[cfg_attr(any(feature = "ssr", feature = "chunk-room"), island)]
#[cfg_attr(not(any(feature = "ssr", feature = "chunk-room")), component)]
pub fn LiveRoom(room: RoomView) -> impl IntoView {
    let locale = use_locale();
    let s = move || rs(locale);
    let chat: BTreeMap<u64, ChatMessage> = room.recent.iter().map(|m| (m.seq, m.clone())).collect();
    let ui = CallUi {
        conn: RwSignal::new(Conn::Connecting),
        in_call: RwSignal::new(false),
        joining: RwSignal::new(false),
        media: RwSignal::new(MediaState::default()),
        can_share: RwSignal::new(false),
        remotes: RwSignal::new(Vec::new()),
        present: RwSignal::new(Vec::new()),
        chat: RwSignal::new(chat),
        pending: RwSignal::new(Vec::new()),
        more_before: RwSignal::new(room.more_before),
        need_tap: RwSignal::new(false),
        notice: RwSignal::new(None),
        mics: RwSignal::new(Vec::new()),
        cameras: RwSignal::new(Vec::new()),
        me: StoredValue::new(room.me.clone()),
        locale,
        code: crate::rooms::code::pages::CodeUi::new(&room.code),
    };
    let open = room.state == RoomState::Open;
    let hydrated = RwSignal::new(false);
    let chat_open = RwSignal::new(false);
    let _room_id = room.id.clone();
    Effect::new(move |started: Option<()>| {
        if started.is_none() {
            hydrated.set(true);
            #[cfg(feature = "hydrate")]
            if open {
                super::call::start(_room_id.clone(), ui);
            }
        }
    });
    on_cleanup(move || {
        #[cfg(feature = "hydrate")]
        super::call::stop();
    });
    let status_text = move || match ui.conn.get() {
        Conn::Connecting => s().connecting,
        Conn::Live => s().connected,
        Conn::Reconnecting => s().reconnecting,
        Conn::Offline => s().offline,
        Conn::Ended(close::ROOM_CLOSED) => s().ended_closed,
        Conn::Ended(close::REMOVED) => s().ended_removed,
        Conn::Ended(close::REPLACED) => s().ended_replaced,
        Conn::Ended(close::ROOM_FULL) => s().ended_full,
        Conn::Ended(_) => s().ended_policy,
    };
    let title = room.title.clone();
    let my_name = room
        .members
        .iter()
        .find(|m| m.user_id == room.me)
        .map(|m| m.name.clone())
        .unwrap_or_default();
    view! {
        <section class="room" data-testid="room" data-room=room.id.clone()
            data-conn=move || ui.conn.get().key() data-in-call=move || ui.in_call.get().to_string()>
            <header class="room-head">
                <h1>{title}</h1>
                <span class="badge" data-testid="room-state">{move || if open { s().state_open } else { s().state_closed }}</span>
                <p class="room-status" role="status" data-testid="room-status">
                    {move || if !open { s().closed_lead } else if hydrated.get() { status_text() } else { s().needs_js }}
                </p>
            </header>
            // Before the WASM runs the chat stays in the page flow (the drawer needs its button).
            <div class="room-body" class:chat-open=move || chat_open.get() class:live=move || hydrated.get()>
                <Show when=move || open>
                    <Stage ui chat_open/>
                </Show>
                <ChatPanel ui room_id=room.id.clone() form_key=room.form_key.clone() open/>
            </div>
            <crate::rooms::code::pages::SharedCode room_id=room.id.clone() code=room.code.clone()
                ui=ui.code live=Signal::derive(move || ui.conn.get() == Conn::Live) hydrated
                my_name=my_name/>
            <People room=room.clone() ui/>
        </section>
    }
}

/// The videos and the call controls.
#[component]
fn Stage(ui: CallUi, chat_open: RwSignal<bool>) -> impl IntoView {
    let locale = use_locale();
    let s = move || rs(locale);
    let toggle = move |what: &'static str| {
        #[cfg(feature = "hydrate")]
        super::call::toggle(what);
        let _ = what;
    };
    view! {
        <div class="stage" data-testid="stage">
            <div class="tiles" data-count=move || ui.remotes.with(Vec::len).to_string()>
                <For each=move || ui.remotes.get() key=|t| t.peer_id.clone() let(tile)>
                    <RemoteVideo ui peer_id=tile.peer_id.clone() name=tile.name.clone()/>
                </For>
                <Show when=move || ui.remotes.with(Vec::is_empty)>
                    <p class="stage-empty muted" data-testid="stage-empty">{move || s().waiting}</p>
                </Show>
                <figure class="tile self-view" class:hidden=move || !ui.in_call.get()>
                    <video id="self-video" data-testid="self-video" autoplay=true playsinline=true
                        muted=true prop:muted=true aria-label=move || s().you></video>
                    <figcaption>{move || s().you}
                        {move || (!ui.media.get().audio && ui.in_call.get()).then(|| view! { <span class="badge warn">{s().muted}</span> })}
                    </figcaption>
                </figure>
            </div>
            <Show when=move || ui.notice.get().is_some()>
                <p class="form-error" role="alert" data-testid="call-notice">{move || ui.notice.get()}</p>
            </Show>
            <div class="controls" role="toolbar" aria-label=move || s().controls_label>
                <Show when=move || !ui.in_call.get()
                    fallback=move || view! {
                        <button type="button" class="button round" data-testid="toggle-mic"
                            aria-pressed=move || ui.media.get().audio.to_string()
                            on:click=move |_| toggle("audio")>
                            <span aria-hidden="true">{move || if ui.media.get().audio { "🎙" } else { "🔇" }}</span>
                            <span class="control-label">{move || s().mic}</span>
                        </button>
                        <button type="button" class="button round" data-testid="toggle-camera"
                            aria-pressed=move || ui.media.get().video.to_string()
                            on:click=move |_| toggle("video")>
                            <span aria-hidden="true">{move || if ui.media.get().video { "📷" } else { "🚫" }}</span>
                            <span class="control-label">{move || s().camera}</span>
                        </button>
                        <Show when=move || ui.can_share.get()>
                            <button type="button" class="button round" data-testid="toggle-screen"
                                aria-pressed=move || ui.media.get().screen.to_string()
                                on:click=move |_| toggle("screen")>
                                <span aria-hidden="true">"🖥"</span>
                                <span class="control-label">{move || if ui.media.get().screen { s().stop_share } else { s().share_screen }}</span>
                            </button>
                        </Show>
                        <button type="button" class="button round danger" data-testid="call-leave"
                            on:click=move |_| toggle("leave")>
                            <span class="control-label">{move || s().leave_call}</span>
                        </button>
                    }>
                    <button type="button" class="button" data-testid="call-join"
                        disabled=move || ui.joining.get() || !matches!(ui.conn.get(), Conn::Live)
                        on:click=move |_| toggle("join")>
                        {move || if ui.joining.get() { s().joining } else { s().join_call }}
                    </button>
                </Show>
                <Show when=move || ui.need_tap.get()>
                    <button type="button" class="button" data-testid="tap-to-play" on:click=move |_| toggle("play")>
                        {move || s().tap_to_play}
                    </button>
                </Show>
                <button type="button" class="button subtle chat-toggle" data-testid="chat-toggle"
                    aria-controls="room-chat" aria-expanded=move || chat_open.get().to_string()
                    on:click=move |_| chat_open.update(|o| *o = !*o)>
                    {move || s().show_chat}
                </button>
                <Show when=move || ui.in_call.get() && (ui.mics.with(|m| m.len() > 1) || ui.cameras.with(|c| c.len() > 1))>
                    <details class="devices">
                        <summary>{move || s().devices}</summary>
                        <DeviceSelect label=s().microphone_label kind="audioinput" options=ui.mics/>
                        <DeviceSelect label=s().camera_label kind="videoinput" options=ui.cameras/>
                    </details>
                </Show>
            </div>
        </div>
    }
}

#[component]
fn DeviceSelect(
    label: &'static str,
    kind: &'static str,
    options: RwSignal<Vec<(String, String)>>,
) -> impl IntoView {
    let id = format!("device-{kind}");
    view! {
        <label for=id.clone()>{label}</label>
        <select id=id data-testid=format!("select-{kind}") on:change=move |ev| {
            let device = event_target_value(&ev);
            #[cfg(feature = "hydrate")]
            super::call::use_device(kind, device);
            let _ = device;
        }>
            {move || options.get().into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
        </select>
    }
}

#[component]
fn RemoteVideo(ui: CallUi, peer_id: String, name: String) -> impl IntoView {
    let locale = use_locale();
    let s = move || rs(locale);
    let tile = {
        let peer_id = peer_id.clone();
        Memo::new(move |_| {
            ui.remotes
                .with(|r| r.iter().find(|t| t.peer_id == peer_id).cloned())
        })
    };
    let media = move || tile.get().map(|t| t.media).unwrap_or_default();
    let quality = move || tile.get().map(|t| t.quality).unwrap_or_default();
    let quality_text = move || {
        let q = quality();
        let words = match q.level {
            QualityLevel::Unknown => s().quality_unknown,
            QualityLevel::Good => s().quality_good,
            QualityLevel::Fair => s().quality_fair,
            QualityLevel::Poor => s().quality_poor,
        };
        let mut figures = Vec::new();
        if let Some(rtt) = q.rtt_ms {
            figures.push(format!("{rtt} ms"));
        }
        if let Some(loss) = q.loss_pct {
            figures.push(format!("{loss:.1} % loss"));
        }
        if let Some(kbps) = q.kbps {
            figures.push(format!("{kbps} kbit/s"));
        }
        if figures.is_empty() {
            words.to_string()
        } else {
            format!("{words} ({})", figures.join(", "))
        }
    };
    view! {
        <figure class="tile remote" data-peer=peer_id.clone() data-testid="remote-tile">
            <video id=format!("remote-{peer_id}") data-testid="remote-video" data-peer=peer_id.clone()
                autoplay=true playsinline=true aria-label=name.clone()></video>
            <figcaption>
                <span class="who">{name}</span>
                {move || (!media().audio).then(|| view! { <span class="badge warn" data-testid="peer-muted">{s().muted}</span> })}
                {move || (!media().video && !media().screen).then(|| view! { <span class="badge" data-testid="peer-camera-off">{s().camera_off}</span> })}
                {move || media().screen.then(|| view! { <span class="badge" data-testid="peer-sharing">{s().sharing}</span> })}
                <span class="quality" data-testid="quality" data-level=move || format!("{:?}", quality().level).to_lowercase()
                    title=quality_text>
                    <span class="quality-bars" aria-hidden="true"></span>
                    <span class="visually-hidden">{quality_text}</span>
                </span>
            </figcaption>
        </figure>
    }
}

/// The chat: the server-rendered latest messages, live ones from the socket, and a form that
/// posts without JavaScript and goes over the socket with it.
#[component]
fn ChatPanel(ui: CallUi, room_id: String, form_key: String, open: bool) -> impl IntoView {
    let locale = use_locale();
    let s = move || rs(locale);
    let me = ui.me.get_value();
    let body = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        // With the socket up (or reconnecting), the message goes there and waits for its ack;
        // without WASM the form posts to `send_chat`.
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            let text = body.get_untracked();
            if !text.trim().is_empty() && super::call::send_chat(text) {
                body.set(String::new());
            }
        }
        let _ = ev;
    };
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            #[cfg(feature = "hydrate")]
            {
                let text = body.get_untracked();
                if !text.trim().is_empty() && super::call::send_chat(text) {
                    body.set(String::new());
                }
            }
        }
    };
    view! {
        <aside id="room-chat" class="chat" aria-label=move || s().chat>
            <h2>{move || s().chat}</h2>
            <Show when=move || ui.more_before.get()>
                <button type="button" class="link-button" data-testid="chat-older" on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    super::call::load_older();
                }>{move || s().older}</button>
            </Show>
            <ol class="messages" data-testid="chat-list" aria-live="polite" aria-relevant="additions">
                {
                    let me = me.clone();
                    move || {
                        let me = me.clone();
                        ui.chat.with(|c| c.values().cloned().collect::<Vec<_>>()).into_iter().map(move |m| {
                            let mine = m.author_id == me;
                            view! {
                                <li data-testid="chat-message" data-seq=m.seq.to_string() class:mine=mine>
                                    <span class="chat-meta"><b>{crate::i18n::person_name(&m.author_name, locale.get_untracked())}</b> " "
                                        <time datetime=m.at.clone()>{m.at.get(11..16).unwrap_or_default().to_string()}</time></span>
                                    <div class="chat-body">{render_pieces(&m.body)}</div>
                                </li>
                            }
                        }).collect_view()
                    }
                }
                <For each=move || ui.pending.get() key=|p| (p.key.clone(), p.error.clone()) let(p)>
                    <li class="pending" data-testid="chat-pending" data-key=p.key.clone()>
                        <div class="chat-body">{render_pieces(&p.body)}</div>
                        {match p.error.clone() {
                            None => view! { <span class="muted">{move || s().sending}</span> }.into_any(),
                            Some(e) => {
                                let key = p.key.clone();
                                view! {
                                    <span class="form-error">{move || s().not_sent} " " {e}</span>
                                    <button type="button" class="link-button" on:click=move |_| {
                                        let key = key.clone();
                                        ui.pending.update(|p| p.retain(|x| x.key != key));
                                        #[cfg(feature = "hydrate")]
                                        super::call::forget_pending();
                                    }>{move || s().discard}</button>
                                }.into_any()
                            }
                        }}
                    </li>
                </For>
            </ol>
            <Show when=move || ui.chat.with(BTreeMap::is_empty) && ui.pending.with(Vec::is_empty)>
                <p class="muted" data-testid="chat-empty">{move || s().no_messages}</p>
            </Show>
            <form method="post" action="/api/send_chat" class="chat-form" data-testid="chat-form" on:submit=submit>
                <input type="hidden" name="room" value=room_id/>
                <input type="hidden" name="key" value=form_key/>
                <label for="chat-input" class="visually-hidden">{move || s().message_label}</label>
                <textarea id="chat-input" name="body" rows="2" required maxlength="4000" data-testid="chat-input"
                    disabled=!open placeholder=move || s().message_label aria-describedby="chat-hint"
                    prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))
                    on:keydown=keydown></textarea>
                <button type="submit" class="button" data-testid="chat-send" disabled=!open>{move || s().send}</button>
                <p id="chat-hint" class="muted small">{move || s().chat_hint}</p>
            </form>
        </aside>
    }
}

/// Code spans and blocks as `<code>`, everything else as text nodes: nothing a message says
/// can become markup.
fn render_pieces(body: &str) -> impl IntoView + use<> {
    chat_pieces(body)
        .into_iter()
        .map(|p| match p {
            ChatPiece::Text(t) => view! { <span class="chat-text">{t}</span> }.into_any(),
            ChatPiece::Code(c) => view! { <code>{c}</code> }.into_any(),
            ChatPiece::Block { language, code } => view! {
                <pre tabindex="0" class="chat-code" data-language=language><code>{code}</code></pre>
            }
            .into_any(),
        })
        .collect_view()
}

/// Who is in the room, and the host's tools (all plain forms).
#[component]
fn People(room: RoomView, ui: CallUi) -> impl IntoView {
    let locale = use_locale();
    let s = move || rs(locale);
    let invite = ServerAction::<InviteToRoom>::new();
    let remove = ServerAction::<RemoveFromRoom>::new();
    let withdraw = ServerAction::<WithdrawInvite>::new();
    let set_open = ServerAction::<SetRoomOpen>::new();
    let invite_error = action_error(invite, locale);
    let remove_error = action_error(remove, locale);
    let withdraw_error = action_error(withdraw, locale);
    let invited = successes(invite);
    let changed = successes(set_open);
    let removed = successes(remove);
    let withdrawn = successes(withdraw);
    // Opening or closing the room reloads the page (the call starts or ends), as the form does
    // without JavaScript; inviting and removing only refresh the list, so a call goes on.
    Effect::new(move |prev: Option<u32>| {
        let now = changed.get();
        #[cfg(feature = "hydrate")]
        if prev.is_some_and(|p| p != now)
            && let Some(w) = web_sys::window()
        {
            let _ = w.location().reload();
        }
        let _ = prev;
        now
    });
    let members = RwSignal::new(room.members.clone());
    let list_room = room.id.clone();
    // Someone present whom the list does not name yet is a guest entering for the first time
    // (listed until now by the address they were invited at): the list is fetched again.
    let newcomers = RwSignal::new(0u32);
    Effect::new(move |_| {
        let unknown = ui.present.with(|present| {
            members.with_untracked(|listed| {
                present
                    .iter()
                    .any(|uid| !listed.iter().any(|m| &m.user_id == uid))
            })
        });
        if unknown {
            newcomers.update(|n| *n += 1);
        }
    });
    Effect::new(move |prev: Option<(u32, u32, u32)>| {
        let now = (
            invited.get(),
            removed.get() + withdrawn.get(),
            newcomers.get(),
        );
        if prev.is_some_and(|p| p != now) {
            let id = list_room.clone();
            leptos::task::spawn_local(async move {
                if let Ok(RoomAccess::Member(view)) = get_room(id).await {
                    members.set(view.members);
                }
            });
        }
        now
    });
    let open = room.state == RoomState::Open;
    let room_id = room.id.clone();
    let (invite_room, toggle_room) = (room.id.clone(), room.id.clone());
    let i_host = room.is_host;
    view! {
        <section class="panel room-people" data-testid="people">
            <h2>{move || s().people}</h2>
            <ul>
                <For each=move || members.get() key=|m| m.user_id.clone() let(m)>{{
                    let m: MemberView = m;
                    let room_id = room_id.clone();
                    let user = m.user_id.clone();
                    let is_host = i_host && !m.host;
                    // Live once the socket is up; what the server saw at render time before.
                    let here = {
                        let uid = m.user_id.clone();
                        let ssr = m.present;
                        Signal::derive(move || match ui.conn.get() {
                            Conn::Live => ui.me.with_value(|me| *me == uid) || ui.present.with(|p| p.contains(&uid)),
                            _ => ssr,
                        })
                    };
                    view! {
                        <li data-testid="member" data-user=m.user_id.clone() data-present=move || here.get().to_string()>
                            <span class="presence" class:here=here aria-hidden="true"></span>
                            {m.name.clone()}
                            {m.host.then(|| view! { " " <span class="badge">{move || s().host}</span> })}
                            <span class="visually-hidden">{move || if here.get() { s().present } else { s().away }}</span>
                            {match (is_host, m.invited.clone()) {
                                (false, _) => None,
                                // Not in yet: the invitation is withdrawn by its address.
                                (true, Some(address)) => Some(view! {
                                    <ActionForm action=withdraw attr:class="inline-form">
                                        <input type="hidden" name="room" value=room_id.clone()/>
                                        <input type="hidden" name="email" value=address/>
                                        <button type="submit" class="link-button" data-testid="remove-member">{move || s().remove}</button>
                                    </ActionForm>
                                }.into_any()),
                                (true, None) => Some(view! {
                                    <ActionForm action=remove attr:class="inline-form">
                                        <input type="hidden" name="room" value=room_id.clone()/>
                                        <input type="hidden" name="user" value=user.clone()/>
                                        <button type="submit" class="link-button" data-testid="remove-member">{move || s().remove}</button>
                                    </ActionForm>
                                }.into_any()),
                            }}
                        </li>
                    }
                }}</For>
            </ul>
            <FormMessage error=remove_error/>
            <FormMessage error=withdraw_error/>
            {room.is_host.then(|| view! {
                <p class="muted small">{move || s().copy_link_hint}</p>
                <ActionForm action=invite attr:class="stack" attr:data-testid="invite-form">
                    <input type="hidden" name="room" value=invite_room/>
                    <label for="invite-email">{move || s().invite_label}</label>
                    <input id="invite-email" type="email" name="email" required data-testid="invite-email"/>
                    <FormMessage error=invite_error/>
                    <Show when=move || { invited.get() > 0 && invite_error.get().is_none() }>
                        <p class="form-ok" role="status" data-testid="invited">{move || s().invited}</p>
                    </Show>
                    <button type="submit" class="button" data-testid="invite-submit">{move || s().invite}</button>
                </ActionForm>
                <ActionForm action=set_open attr:class="inline-form">
                    <input type="hidden" name="room" value=toggle_room/>
                    <input type="hidden" name="open" value=(!open).to_string()/>
                    <button type="submit" class="button subtle" data-testid="room-open-toggle">
                        {move || if open { s().close_room } else { s().reopen_room }}
                    </button>
                </ActionForm>
            })}
        </section>
    }
}
