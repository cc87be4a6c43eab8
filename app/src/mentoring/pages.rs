//! Mentoring pages. Every form is a plain form first (it works before the WASM loads and
//! without JavaScript); times are shown in the reader's own zone, named on the page, with the
//! exact instant in `<time datetime>`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    accounts::model::Capabilities,
    i18n::{Locale, use_locale},
    mentoring::{
        api::{
            AnswerRequest, BookSession, CancelSession, EndMentorship, PostQuestion, RateSession,
            RescheduleSession, RotateCalendarFeed, SaveMentorSettings, SendRequest,
            WithdrawRequest, find_mentors, get_booking, get_mentorship, get_request,
            mentor_directory, mentor_page, mentoring_home, my_mentor_settings, needs_defaults,
            reschedule_options,
        },
        model::{BookingView, MentorCard, PostView, RequestState, RequestView, SESSION_LENGTHS},
        text::MentoringStrings,
    },
    ui::{
        form::{FormMessage, action_error, successes},
        layout::loading,
    },
};

fn ms(locale: RwSignal<Locale>) -> &'static MentoringStrings {
    locale.get().strings().mentoring
}

fn error_view(e: &crate::error::AppError, locale: RwSignal<Locale>) -> AnyView {
    let msg = e.message(locale.get_untracked());
    view! { <p class="form-error" role="alert" data-testid="page-error">{msg}</p> }.into_any()
}

fn stars_text(rating: Option<(f64, u32)>, locale: RwSignal<Locale>) -> String {
    match rating {
        Some((avg, n)) => format!("{avg:.1}★ · {n} {}", ms(locale).rated_sessions),
        None => ms(locale).no_ratings.to_string(),
    }
}

fn skills_line(card: &MentorCard) -> String {
    card.skills
        .iter()
        .map(|s| format!("{} ({})", s.name, s.level.key()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn mentor_card(
    card: MentorCard,
    locale: RwSignal<Locale>,
    send: Option<SendForm>,
) -> impl IntoView {
    let s = move || ms(locale);
    let href = format!("/mentors/{}", card.id);
    let skills = skills_line(&card);
    let rating = stars_text(card.rating, locale);
    let languages = card.languages.join(", ");
    let score = card.score.map(|x| format!("{:.0}%", x * 100.0));
    view! {
        <li class="mentor-card panel" data-testid="mentor-card" data-mentor=card.id.clone()>
            <h3><a href=href>{card.name.clone()}</a></h3>
            {(!card.headline.is_empty()).then(|| view! { <p class="lead">{card.headline.clone()}</p> })}
            {(!card.reasons.is_empty()).then(|| view! {
                <p class="reasons" data-testid="match-reasons">{score.clone()} " · " {card.reasons.clone()}</p>
            })}
            <p class="muted small">{skills}</p>
            <p class="muted small">{languages} " · " {card.timezone.clone()} " · " {rating}
                " · " {card.free_places} " " {move || s().places_free}</p>
            {send.map(|f| view! { <SendRequestForm form=f mentor=card.id.clone()/> })}
        </li>
    }
}

/// `/mentors`: the directory, with filters that work as a plain GET form.
#[component]
pub fn MentorsPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || ms(locale);
    let q = use_query_map();
    let get = move |k: &str| q.read().get(k).unwrap_or_default();
    // For the form's initial values (read once; the resource above tracks changes).
    let now = move |k: &str| q.read_untracked().get(k).unwrap_or_default();
    let filters = move || (get("skill"), get("language"), get("day"), get("min_rating"));
    let list = Resource::new(filters, |(a, b, c, d)| mentor_directory(a, b, c, d));
    let user = crate::accounts::pages::use_user().0;
    let days = [
        ("Mon", "day_mon"),
        ("Tue", "day_tue"),
        ("Wed", "day_wed"),
        ("Thu", "day_thu"),
        ("Fri", "day_fri"),
        ("Sat", "day_sat"),
        ("Sun", "day_sun"),
    ];
    view! {
        <Title text=locale.get_untracked().strings().mentoring.mentors_title/>
        <h1>{move || s().mentors_title}</h1>
        <p class="lead">{move || s().mentors_lead}</p>
        <p class="actions">
            <a class="button primary" href="/mentors/find" data-testid="find-mentor">{move || s().find_title}</a>
            <a class="button" href="/mentoring">{move || s().home_title}</a>
            <Suspense>{move || Suspend::new(async move {
                matches!(user.await, Ok(Some(ref u)) if u.roles.can_mentor())
                    .then(|| view! { <a class="button subtle" href="/mentoring/profile" data-testid="mentor-settings-link">{move || s().settings_title}</a> })
            })}</Suspense>
        </p>
        <form method="get" action="/mentors" class="filters" data-testid="mentor-filters">
            <label>{move || s().filter_skill} <input name="skill" value=now("skill") data-testid="filter-skill"/></label>
            <label>{move || s().filter_language} <input name="language" value=now("language") placeholder="en, zh…" data-testid="filter-language"/></label>
            <label>{move || s().filter_day}
                <select name="day" data-testid="filter-day">
                    <option value="">{move || s().any_day}</option>
                    {days.into_iter().map(|(v, key)| {
                        let selected = now("day") == v;
                        view! { <option value=v selected=selected>{move || s().day_name(key)}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>{move || s().filter_rating}
                <select name="min_rating" data-testid="filter-rating">
                    <option value="">{move || s().any_rating}</option>
                    {["4.5", "4", "3"].into_iter().map(|v| {
                        let selected = now("min_rating") == v;
                        view! { <option value=v selected=selected>{format!("{v}★+")}</option> }
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="button">{move || s().filter_apply}</button>
        </form>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => error_view(&e, locale),
                    Ok(cards) if cards.is_empty() => view! { <p class="muted" data-testid="no-mentors">{move || s().no_mentors}</p> }.into_any(),
                    Ok(cards) => view! {
                        <ul class="mentor-list" data-testid="mentor-list">
                            {cards.into_iter().map(|c| mentor_card(c, locale, None)).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The learner's needs, carried by each "send request" form on the results.
#[derive(Clone)]
struct SendForm {
    goals: String,
    skills: String,
    languages: String,
    windows: String,
    timezone: String,
    action: ServerAction<SendRequest>,
}

#[component]
fn SendRequestForm(form: SendForm, mentor: String) -> impl IntoView {
    let locale = use_locale();
    let s = move || ms(locale);
    view! {
        <ActionForm action=form.action attr:class="inline-form" attr:data-testid="send-request-form">
            <input type="hidden" name="mentor" value=mentor/>
            <input type="hidden" name="goals" value=form.goals/>
            <input type="hidden" name="skills" value=form.skills/>
            <input type="hidden" name="languages" value=form.languages/>
            <input type="hidden" name="windows" value=form.windows/>
            <input type="hidden" name="timezone" value=form.timezone/>
            <button type="submit" class="button primary" data-testid="send-request">{move || s().send_request}</button>
        </ActionForm>
    }
}

/// `/mentors/find`: what the learner wants (a GET form, prefilled from their profile), the
/// ranked mentors with their reasons, and a request form on each.
#[component]
pub fn FindMentorsPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || ms(locale);
    let q = use_query_map();
    let get = move |k: &str| q.read().get(k).unwrap_or_default();
    let defaults = Resource::new(move || get("again"), needs_defaults);
    let searched = move || !get("skills").trim().is_empty() || !get("windows").trim().is_empty();
    let results = Resource::new(
        move || {
            (
                get("skills"),
                get("languages"),
                get("windows"),
                get("timezone"),
                get("exclude"),
            )
        },
        move |(a, b, c, d, e)| async move {
            if a.trim().is_empty() && c.trim().is_empty() {
                Ok(None)
            } else {
                find_mentors(a, b, c, d, e).await.map(Some)
            }
        },
    );
    let send = ServerAction::<SendRequest>::new();
    let send_error = action_error(send, locale);
    view! {
        <Title text=locale.get_untracked().strings().mentoring.find_title/>
        <h1>{move || s().find_title}</h1>
        <p class="lead">{move || s().find_lead}</p>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let d = match defaults.await {
                    Ok(d) => d,
                    Err(e) => return error_view(&e, locale),
                };
                let val = move |k: &str, fallback: &str| {
                    let v = get(k);
                    if searched() { v } else { fallback.to_string() }
                };
                let exclude = d.exclude.clone().unwrap_or_default();
                view! {
                    {d.exclude.is_some().then(|| view! { <p class="alert" data-testid="again-note">{move || s().again_note}</p> })}
                    <form method="get" action="/mentors/find" class="stack panel" data-testid="find-form">
                        <input type="hidden" name="exclude" value=exclude/>
                        <label for="find-goals">{move || s().goals_label}</label>
                        <textarea id="find-goals" name="goals" rows="3" maxlength="2000" data-testid="input-goals">{val("goals", &d.goals)}</textarea>
                        <label for="find-skills">{move || s().skills_label}</label>
                        <textarea id="find-skills" name="skills" rows="3" data-testid="input-skills" aria-describedby="find-skills-hint">{val("skills", &d.skills)}</textarea>
                        <p class="hint" id="find-skills-hint">{move || s().skills_hint}</p>
                        <label for="find-languages">{move || s().languages_label}</label>
                        <input id="find-languages" name="languages" value=val("languages", &d.languages) data-testid="input-languages"/>
                        <label for="find-windows">{move || s().windows_label}</label>
                        <textarea id="find-windows" name="windows" rows="4" data-testid="input-windows" aria-describedby="find-windows-hint">{val("windows", &d.windows)}</textarea>
                        <p class="hint" id="find-windows-hint">{move || s().windows_hint}</p>
                        <label for="find-timezone">{move || s().timezone_label}</label>
                        <input id="find-timezone" name="timezone" value=val("timezone", &d.timezone) data-testid="input-timezone"/>
                        <button type="submit" class="button primary" data-testid="find-submit">{move || s().find_submit}</button>
                    </form>
                }.into_any()
            })}
        </Suspense>
        <FormMessage error=send_error testid="send"/>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let form = SendForm {
                    goals: get("goals"),
                    skills: get("skills"),
                    languages: get("languages"),
                    windows: get("windows"),
                    timezone: get("timezone"),
                    action: send,
                };
                match results.await {
                    Ok(None) => ().into_any(),
                    Err(e) => error_view(&e, locale),
                    Ok(Some(cards)) if cards.is_empty() => view! { <p class="muted" data-testid="no-matches">{move || s().no_matches}</p> }.into_any(),
                    Ok(Some(cards)) => view! {
                        <h2>{move || s().ranked_title}</h2>
                        <ol class="mentor-list" data-testid="ranked-mentors">
                            {cards.into_iter().map(|c| mentor_card(c, locale, Some(form.clone()))).collect_view()}
                        </ol>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/mentors/:id`: a mentor's profile with their weekly times in the reader's zone.
#[component]
pub fn MentorPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || ms(locale);
    let params = use_params_map();
    let page = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        mentor_page,
    );
    view! {
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let p = match page.await {
                    Ok(p) => p,
                    Err(e) => {
                        crate::rooms::pages::respond_with(e.status_code());
                        return error_view(&e, locale);
                    }
                };
                let rating = stars_text(p.card.rating, locale);
                view! {
                    <Title text=p.card.name.clone()/>
                    <h1 data-testid="mentor-name">{p.card.name.clone()}</h1>
                    {(!p.card.headline.is_empty()).then(|| view! { <p class="lead">{p.card.headline.clone()}</p> })}
                    <p>{rating} " · " {p.card.languages.join(", ")} " · " {p.card.free_places} " " {move || s().places_free}
                        {p.card.paused.then(|| view! { " · " <span class="badge">{move || s().paused_badge}</span> })}</p>
                    {(!p.bio.is_empty()).then(|| view! { <p class="bio">{p.bio.clone()}</p> })}
                    <h2>{move || s().skills_heading}</h2>
                    <p>{skills_line(&p.card)}</p>
                    <h2>{move || s().availability_heading}</h2>
                    <p class="muted">{move || s().times_in} " " <strong data-testid="viewer-zone">{p.viewer_zone.clone()}</strong>
                        " · " {p.session_minutes} " " {move || s().minutes_per_session}</p>
                    <ul class="windows" data-testid="mentor-windows">
                        {p.windows_local.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}
                    </ul>
                    {match (p.mentorship.clone(), p.is_self) {
                        (Some(m), _) => view! { <a class="button primary" href=format!("/mentorships/{m}")>{move || s().book_title}</a> }.into_any(),
                        (None, false) => view! { <a class="button primary" href="/mentors/find" data-testid="request-mentoring">{move || s().find_title}</a> }.into_any(),
                        (None, true) => view! { <a class="button" href="/mentoring/profile">{move || s().settings_title}</a> }.into_any(),
                    }}
                }.into_any()
            })}
        </Suspense>
    }
}

/// `/mentoring/profile`: a mentor's own settings.
#[component]
pub fn MentorSettingsPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || ms(locale);
    let save = ServerAction::<SaveMentorSettings>::new();
    let saved = successes(save);
    let error = action_error(save, locale);
    let current = Resource::new(move || saved.get(), |_| my_mentor_settings());
    let ok = Signal::derive(move || (saved.get() > 0).then(|| ms(locale).saved));
    view! {
        <Title text=locale.get_untracked().strings().mentoring.settings_title/>
        <h1>{move || s().settings_title}</h1>
        <p class="lead">{move || s().settings_lead}</p>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let v = match current.await {
                    Ok(v) => v,
                    Err(e) => {
                        crate::rooms::pages::respond_with(e.status_code());
                        return error_view(&e, locale);
                    }
                };
                view! {
                    {(!v.has_skills).then(|| view! { <p class="alert" data-testid="no-skills-note">{move || s().no_skills_note} " " <a href="/profile">{move || s().edit_profile}</a></p> })}
                    <ActionForm action=save attr:class="stack panel" attr:data-testid="mentor-settings-form">
                        <label for="ms-headline">{move || s().headline_label}</label>
                        <input id="ms-headline" name="headline" maxlength="120" value=v.headline.clone() data-testid="input-headline"/>
                        <label for="ms-capacity">{move || s().capacity_label}</label>
                        <input id="ms-capacity" name="capacity" type="number" min="1" max="50" value=v.capacity.to_string() data-testid="input-capacity"/>
                        <label for="ms-length">{move || s().session_length_label}</label>
                        <select id="ms-length" name="session_minutes" data-testid="input-session-minutes">
                            {SESSION_LENGTHS.into_iter().map(|m| view! {
                                <option value=m.to_string() selected=m == v.session_minutes>{m} " min"</option>
                            }).collect_view()}
                        </select>
                        <label for="ms-windows">{move || s().mentor_windows_label} " (" {v.timezone.clone()} ")"</label>
                        <textarea id="ms-windows" name="windows" rows="6" data-testid="input-windows" aria-describedby="ms-windows-hint">{v.windows.clone()}</textarea>
                        <p class="hint" id="ms-windows-hint">{move || s().windows_hint} " " {move || s().zone_from_profile}</p>
                        <label class="check"><input type="checkbox" name="paused" value="on" checked=v.paused data-testid="input-paused"/> {move || s().paused_label}</label>
                        <p class="hint">{move || s().paused_hint}</p>
                        <FormMessage error=error success=ok testid="settings"/>
                        <button type="submit" class="button primary" data-testid="save-settings">{move || s().save}</button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}

fn state_text(state: RequestState, locale: RwSignal<Locale>) -> &'static str {
    let s = ms(locale);
    match state {
        RequestState::Sent => s.state_sent,
        RequestState::Viewed => s.state_viewed,
        RequestState::Accepted => s.state_accepted,
        RequestState::Declined => s.state_declined,
        RequestState::Expired => s.state_expired,
        RequestState::Withdrawn => s.state_withdrawn,
    }
}

fn request_item(r: RequestView, locale: RwSignal<Locale>) -> impl IntoView {
    let s = move || ms(locale);
    let other = if r.for_me {
        r.learner_name.clone()
    } else {
        r.mentor_name.clone()
    };
    let waited = r
        .state
        .is_open()
        .then(|| format!("{} {} h", ms(locale).waiting, r.waited_hours));
    view! {
        <li data-testid="request-item" data-state=r.state.key()>
            <a href=format!("/requests/{}", r.id)>{other}</a>
            " " <span class="badge">{state_text(r.state, locale)}</span>
            {waited.map(|w| view! { " " <span class="muted" data-testid="waited">{w}</span> })}
            {r.mentorship.clone().map(|m| view! { " · " <a href=format!("/mentorships/{m}")>{move || s().open_mentorship}</a> })}
        </li>
    }
}

fn time_tag(b: &BookingView) -> impl IntoView + use<> {
    view! { <time datetime=b.start.clone() data-testid="session-time">{b.label.clone()}</time> }
}

/// `/mentoring`: requests both ways, mentorships, upcoming sessions and the calendar feed.
#[component]
pub fn MentoringPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || ms(locale);
    let withdraw = ServerAction::<WithdrawRequest>::new();
    let rotate = ServerAction::<RotateCalendarFeed>::new();
    let done = Memo::new(move |_| successes(withdraw).get() + successes(rotate).get());
    let home = Resource::new(move || done.get(), |_| mentoring_home());
    let q = use_query_map();
    let sent_note = move || q.read().get("sent").is_some();
    let ended_note = move || q.read().get("ended").is_some();
    // A feed address just made (its secret is shown this once; only its hash is kept).
    let fresh_feed = move || {
        q.read_untracked().get("feed").filter(|t| {
            (20..=64).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric())
        })
    };
    view! {
        <Title text=locale.get_untracked().strings().mentoring.home_title/>
        <h1>{move || s().home_title}</h1>
        <Show when=sent_note>
            <p class="alert alert-ok" data-testid="request-sent">{move || s().request_sent}</p>
        </Show>
        <Show when=ended_note>
            <p class="alert alert-ok" data-testid="mentorship-ended">{move || s().ended}</p>
        </Show>
        <p class="actions">
            <a class="button primary" href="/mentors/find">{move || s().find_title}</a>
            <a class="button" href="/mentors">{move || s().mentors_title}</a>
            <a class="button subtle" href="/mentoring/apply" data-testid="become-mentor">{move || locale.get().strings().apply.become_mentor}</a>
        </p>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let h = match home.await {
                    Ok(h) => h,
                    Err(e) => {
                        crate::rooms::pages::respond_with(e.status_code());
                        return error_view(&e, locale);
                    }
                };
                view! {
                    {h.is_mentor.then(|| view! {
                        <section>
                            <h2>{move || s().received_title}</h2>
                            <p><a href="/mentoring/profile">{move || s().settings_title}</a>
                                " · " <a href="/progress/mentees" data-testid="mentees-progress-link">{move || locale.get().strings().progress.mentor_title}</a></p>
                            {if h.received.is_empty() {
                                view! { <p class="muted">{move || s().no_requests}</p> }.into_any()
                            } else {
                                view! { <ul class="request-list" data-testid="received-requests">
                                    {h.received.clone().into_iter().map(|r| request_item(r, locale)).collect_view()}
                                </ul> }.into_any()
                            }}
                        </section>
                    })}
                    <section>
                        <h2>{move || s().sent_title}</h2>
                        {if h.sent.is_empty() {
                            view! { <p class="muted">{move || s().no_requests}</p> }.into_any()
                        } else {
                            view! { <ul class="request-list" data-testid="sent-requests">
                                {h.sent.into_iter().map(|r| {
                                    let open = r.state.is_open();
                                    let id = r.id.clone();
                                    view! {
                                        {request_item(r, locale)}
                                        {open.then(|| view! {
                                            <ActionForm action=withdraw attr:class="inline-form">
                                                <input type="hidden" name="id" value=id/>
                                                <button type="submit" class="button subtle small" data-testid="withdraw">{move || s().withdraw}</button>
                                            </ActionForm>
                                        })}
                                    }
                                }).collect_view()}
                            </ul> }.into_any()
                        }}
                    </section>
                    <section>
                        <h2>{move || s().mentorships_title}</h2>
                        {if h.mentorships.is_empty() {
                            view! { <p class="muted">{move || s().no_mentorships}</p> }.into_any()
                        } else {
                            view! { <ul data-testid="mentorships">
                                {h.mentorships.into_iter().map(|m| view! {
                                    <li data-testid="mentorship-item">
                                        <a href=format!("/mentorships/{}", m.id)>{m.other_name.clone()}</a>
                                        " " <span class="muted">{move || if m.viewer_is_mentor { s().your_mentee } else { s().your_mentor }}</span>
                                        {m.next_session.clone().map(|n| view! { " · " {move || s().next_session} " " {n.clone()} })}
                                    </li>
                                }).collect_view()}
                            </ul> }.into_any()
                        }}
                    </section>
                    <section>
                        <h2>{move || s().upcoming_title}</h2>
                        {if h.upcoming.is_empty() {
                            view! { <p class="muted">{move || s().no_sessions}</p> }.into_any()
                        } else {
                            view! { <ul data-testid="upcoming-sessions">
                                {h.upcoming.into_iter().map(|b| view! {
                                    <li><a href=format!("/bookings/{}", b.id)>{time_tag(&b)}</a>
                                        " · " {if b.viewer_is_mentor { b.learner_name.clone() } else { b.mentor_name.clone() }}</li>
                                }).collect_view()}
                            </ul> }.into_any()
                        }}
                    </section>
                    <section class="panel" id="calendar">
                        <h2>{move || s().calendar_title}</h2>
                        <p class="muted">{move || s().calendar_lead}</p>
                        {match fresh_feed() {
                            Some(token) => view! {
                                <p><input readonly value=format!("{}{token}.ics", h.calendar_base) class="wide" aria-label=move || s().calendar_title data-testid="calendar-feed"/></p>
                                <p class="hint">{move || s().calendar_once}</p>
                            }.into_any(),
                            None => h.has_calendar_feed.then(|| view! {
                                <p class="hint" data-testid="calendar-feed-set">{move || s().calendar_set}</p>
                            }).into_any(),
                        }}
                        <ActionForm action=rotate attr:class="inline-form">
                            <button type="submit" class="button subtle" data-testid="rotate-feed">
                                {move || if h.has_calendar_feed { s().calendar_rotate } else { s().calendar_create }}
                            </button>
                        </ActionForm>
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// `/requests/:id`: one request; its mentor answers here.
#[component]
pub fn RequestPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || ms(locale);
    let params = use_params_map();
    let answer = ServerAction::<AnswerRequest>::new();
    let withdraw = ServerAction::<WithdrawRequest>::new();
    let answer_error = action_error(answer, locale);
    let withdraw_error = action_error(withdraw, locale);
    let done = Memo::new(move |_| successes(answer).get() + successes(withdraw).get());
    let req = Resource::new(
        move || (params.read().get("id").unwrap_or_default(), done.get()),
        |(id, _)| get_request(id),
    );
    view! {
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let r = match req.await {
                    Ok(r) => r,
                    Err(e) => {
                        crate::rooms::pages::respond_with(e.status_code());
                        return error_view(&e, locale);
                    }
                };
                let open = r.state.is_open();
                let (id_accept, id_decline, id_withdraw, id_again) =
                    (r.id.clone(), r.id.clone(), r.id.clone(), r.id.clone());
                let skills = r.skills.iter().map(|k| format!("{} ({})", k.name, k.level.key())).collect::<Vec<_>>().join(", ");
                let title = format!("{} → {}", r.learner_name, r.mentor_name);
                view! {
                    <Title text=title.clone()/>
                    <h1>{title}</h1>
                    <p><span class="badge" data-testid="request-state" data-state=r.state.key()>{state_text(r.state, locale)}</span>
                        " " <span class="muted">{move || s().sent_at} " " {r.created_at.clone()}
                        {open.then(|| view! { " · " {move || s().expires_at} " " {r.expires_at.clone()} })}</span></p>
                    {(!r.reasons.is_empty()).then(|| view! { <p class="reasons">{r.reasons.clone()}</p> })}
                    <h2>{move || s().goals_label}</h2>
                    <p class="bio" data-testid="request-goals">{r.goals.clone()}</p>
                    <p><strong>{move || s().skills_heading}</strong> " " {skills}</p>
                    <p><strong>{move || s().languages_label}</strong> " " {r.languages.join(", ")}</p>
                    <p><strong>{move || s().their_times}</strong></p>
                    <ul class="windows">{r.windows_local.iter().map(|w| view! { <li>{w.clone()}</li> }).collect_view()}</ul>
                    {r.message.clone().map(|m| view! { <p class="alert" data-testid="request-message">{m}</p> })}
                    {(r.for_me && r.state == RequestState::Sent).then(|| view! { <MarkSeen id=r.id.clone()/> })}
                    {(r.for_me && open).then(|| view! {
                        <section class="panel">
                            <ActionForm action=answer attr:class="stack" attr:data-testid="accept-form">
                                <input type="hidden" name="id" value=id_accept/>
                                <input type="hidden" name="accept" value="true"/>
                                <button type="submit" class="button primary" data-testid="accept-request">{move || s().accept}</button>
                            </ActionForm>
                            <ActionForm action=answer attr:class="stack" attr:data-testid="decline-form">
                                <input type="hidden" name="id" value=id_decline/>
                                <input type="hidden" name="accept" value="false"/>
                                <label for="decline-message">{move || s().decline_message_label}</label>
                                <textarea id="decline-message" name="message" rows="2" maxlength="1000"></textarea>
                                <button type="submit" class="button" data-testid="decline-request">{move || s().decline}</button>
                            </ActionForm>
                            <FormMessage error=answer_error testid="answer"/>
                        </section>
                    })}
                    {(!r.for_me && open).then(|| view! {
                        <ActionForm action=withdraw attr:class="inline-form">
                            <input type="hidden" name="id" value=id_withdraw/>
                            <button type="submit" class="button subtle" data-testid="withdraw">{move || s().withdraw}</button>
                        </ActionForm>
                        <FormMessage error=withdraw_error testid="withdraw"/>
                    })}
                    {(!r.for_me && matches!(r.state, RequestState::Declined | RequestState::Expired)).then(|| view! {
                        <a class="button primary" href=format!("/mentors/find?again={id_again}") data-testid="find-again">{move || s().find_again}</a>
                    })}
                    {r.mentorship.clone().map(|m| view! { <a class="button primary" href=format!("/mentorships/{m}") data-testid="open-mentorship">{move || s().open_mentorship}</a> })}
                }.into_any()
            })}
        </Suspense>
    }
}

fn post_item(
    p: PostView,
    mentorship: String,
    reply: ServerAction<PostQuestion>,
    helpful: ServerAction<crate::progress::api::MarkHelpful>,
    locale: RwSignal<Locale>,
) -> impl IntoView {
    let s = move || ms(locale);
    view! {
        <li class="post" data-testid="question">
            <p class="muted small">{p.author_name.clone()} " · " {p.at.clone()}</p>
            <div class="markdown" inner_html=p.body_html.clone()></div>
            <ul class="replies">
                {p.replies.into_iter().map(|r| view! {
                    <li class="post reply" data-testid="answer">
                        <p class="muted small">{r.author_name.clone()} " · " {r.at.clone()}
                            {r.helpful.then(|| view! { " · " <span class="badge" data-testid="helpful-badge">{move || locale.get().strings().progress.marked_helpful}</span> })}
                        </p>
                        <div class="markdown" inner_html=r.body_html.clone()></div>
                        {r.can_mark_helpful.then(|| view! {
                            <ActionForm action=helpful attr:class="inline-form">
                                <input type="hidden" name="post" value=r.id.clone()/>
                                <button type="submit" class="button small subtle" data-testid="mark-helpful">{move || locale.get().strings().progress.helpful}</button>
                            </ActionForm>
                        })}
                    </li>
                }).collect_view()}
            </ul>
            <ActionForm action=reply attr:class="stack reply-form">
                <input type="hidden" name="mentorship" value=mentorship/>
                <input type="hidden" name="parent" value=p.id.clone()/>
                <label class="visually-hidden" for=format!("reply-{}", p.id)>{move || s().reply}</label>
                <textarea id=format!("reply-{}", p.id) name="body" rows="2" maxlength="4000" data-testid="reply-body"></textarea>
                <button type="submit" class="button small" data-testid="reply-submit">{move || s().reply}</button>
            </ActionForm>
        </li>
    }
}

/// `/mentorships/:id`: book a session (the learner), past and coming sessions, questions.
#[component]
pub fn MentorshipPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || ms(locale);
    let params = use_params_map();
    let book = ServerAction::<BookSession>::new();
    let ask = ServerAction::<PostQuestion>::new();
    let helpful = ServerAction::<crate::progress::api::MarkHelpful>::new();
    let end = ServerAction::<EndMentorship>::new();
    let book_error = action_error(book, locale);
    let ask_error = action_error(ask, locale);
    let end_error = action_error(end, locale);
    let asked = successes(ask);
    let marked = successes(helpful);
    let done = Memo::new(move |_| asked.get() + marked.get());
    let page = Resource::new(
        move || (params.read().get("id").unwrap_or_default(), done.get()),
        |(id, _)| get_mentorship(id),
    );
    view! {
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let m = match page.await {
                    Ok(m) => m,
                    Err(e) => {
                        crate::rooms::pages::respond_with(e.status_code());
                        return error_view(&e, locale);
                    }
                };
                let title = format!("{} · {}", m.mentor_name, m.learner_name);
                let mut days: Vec<(String, Vec<(String, String)>)> = Vec::new();
                for slot in &m.slots {
                    let (day, time) = slot.label.rsplit_once(", ").map(|(d, t)| (d.to_string(), t.to_string())).unwrap_or_default();
                    match days.last_mut() {
                        Some((d, list)) if *d == day => list.push((slot.start.clone(), time)),
                        _ => days.push((day, vec![(slot.start.clone(), time)])),
                    }
                }
                let learner = !m.viewer_is_mentor;
                let active = m.active;
                let (id, id_book, id_ask, id_end) = (m.id.clone(), m.id.clone(), m.id.clone(), m.id.clone());
                view! {
                    <Title text=title.clone()/>
                    <h1>{title}</h1>
                    <p class="muted">{move || s().times_in} " " <strong data-testid="viewer-zone">{m.zone.clone()}</strong>
                        " · " {m.session_minutes} " " {move || s().minutes_per_session}
                        " · " <a href="/profile">{move || s().change_zone}</a></p>
                    <ZoneCheck zone=m.zone.clone()/>
                    {(!active).then(|| view! { <p class="alert" data-testid="mentorship-ended">{move || s().ended}</p> })}
                    {(learner && active).then(|| view! {
                        <section class="panel">
                            <h2>{move || s().book_title}</h2>
                            {if days.is_empty() {
                                view! { <p class="muted" data-testid="no-slots">{move || s().no_slots}</p> }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=book attr:class="stack" attr:data-testid="book-form">
                                        <input type="hidden" name="mentorship" value=id_book/>
                                        <div class="slot-days">
                                            {days.into_iter().take(7).map(|(day, times)| view! {
                                                <fieldset class="slot-day">
                                                    <legend>{day}</legend>
                                                    {times.into_iter().map(|(start, time)| view! {
                                                        <label class="slot"><input type="radio" name="start" value=start.clone() required data-testid="slot"/>
                                                            <time datetime=start>{time}</time></label>
                                                    }).collect_view()}
                                                </fieldset>
                                            }).collect_view()}
                                        </div>
                                        <FormMessage error=book_error testid="book"/>
                                        <button type="submit" class="button primary" data-testid="book-submit">{move || s().book_submit}</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                        </section>
                    })}
                    <section>
                        <h2>{move || s().sessions_title}</h2>
                        {if m.bookings.is_empty() {
                            view! { <p class="muted">{move || s().no_sessions}</p> }.into_any()
                        } else {
                            view! { <ul data-testid="mentorship-sessions">
                                {m.bookings.into_iter().map(|b| view! {
                                    <li><a href=format!("/bookings/{}", b.id)>{time_tag(&b)}</a>
                                        {b.cancelled.then(|| view! { " " <span class="badge muted">{move || s().cancelled}</span> })}</li>
                                }).collect_view()}
                            </ul> }.into_any()
                        }}
                    </section>
                    <section id="questions">
                        <h2>{move || s().questions_title}</h2>
                        <ul class="posts" data-testid="questions">
                            {m.posts.into_iter().map(|p| post_item(p, id.clone(), ask, helpful, locale)).collect_view()}
                        </ul>
                        <ActionForm action=ask attr:class="stack" attr:data-testid="ask-form">
                            <input type="hidden" name="mentorship" value=id_ask/>
                            <label for="ask-body">{move || s().ask_label}</label>
                            <textarea id="ask-body" name="body" rows="3" maxlength="4000" data-testid="ask-body"></textarea>
                            <p class="hint">{move || s().markdown_hint}</p>
                            <FormMessage error=ask_error testid="ask"/>
                            <button type="submit" class="button" data-testid="ask-submit">{move || s().ask_submit}</button>
                        </ActionForm>
                    </section>
                    {active.then(|| view! {
                        <section class="panel">
                            <h2>{move || s().end_title}</h2>
                            <p class="hint">{move || if learner { s().end_hint_learner } else { s().end_hint_mentor }}</p>
                            <ActionForm action=end attr:class="stack" attr:data-testid="end-form">
                                <input type="hidden" name="mentorship" value=id_end/>
                                <FormMessage error=end_error testid="end"/>
                                <button type="submit" class="button danger" data-testid="end-submit">{move || s().end_submit}</button>
                            </ActionForm>
                        </section>
                    })}
                }.into_any()
            })}
        </Suspense>
    }
}

/// After hydration: tells the server the mentor has opened the request (loading the page
/// changes nothing by itself). An island in the small chunk; `data-seen` is for the tests.
#[island]
pub fn MarkSeen(id: String) -> impl IntoView {
    let seen = RwSignal::new(false);
    Effect::new(move |_| {
        let id = id.clone();
        leptos::task::spawn_local(async move {
            if crate::mentoring::api::mark_request_viewed(id).await.is_ok() {
                seen.set(true);
            }
        });
    });
    view! { <span hidden data-testid="request-seen" data-seen=move || seen.get().to_string()></span> }
}

/// After hydration: says so when the browser's zone differs from the profile's, so nobody
/// turns up an hour late after moving or travelling. An island in the small chunk.
#[island]
pub fn ZoneCheck(zone: String) -> impl IntoView {
    let locale = use_locale();
    let browser = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let opts = web_sys::js_sys::Intl::DateTimeFormat::new(
                &web_sys::js_sys::Array::new(),
                &web_sys::js_sys::Object::new(),
            )
            .resolved_options();
            if let Ok(tz) = web_sys::js_sys::Reflect::get(&opts, &"timeZone".into())
                && let Some(tz) = tz.as_string()
            {
                browser.set(Some(tz));
            }
        }
    });
    view! {
        {move || browser.get().filter(|b| *b != zone).map(|b| view! {
            <p class="alert" data-testid="zone-mismatch">{ms(locale).zone_mismatch} " " {b}</p>
        })}
    }
}

/// `/bookings/:id`: one session: its time, the room link at start time, the calendar file,
/// cancel and move (within the notice), and the rating afterwards.
#[component]
pub fn BookingPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || ms(locale);
    let params = use_params_map();
    let cancel = ServerAction::<CancelSession>::new();
    let move_to = ServerAction::<RescheduleSession>::new();
    let rate = ServerAction::<RateSession>::new();
    let errors = [
        action_error(cancel, locale),
        action_error(move_to, locale),
        action_error(rate, locale),
    ];
    let done = Memo::new(move |_| {
        successes(cancel).get() + successes(move_to).get() + successes(rate).get()
    });
    let id = move || params.read().get("id").unwrap_or_default();
    let booking = Resource::new(move || (id(), done.get()), |(id, _)| get_booking(id));
    let options = Resource::new(move || (id(), done.get()), |(id, _)| reschedule_options(id));
    view! {
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let b = match booking.await {
                    Ok(b) => b,
                    Err(e) => {
                        crate::rooms::pages::respond_with(e.status_code());
                        return error_view(&e, locale);
                    }
                };
                let other = if b.viewer_is_mentor { b.learner_name.clone() } else { b.mentor_name.clone() };
                let opts = options.await.unwrap_or_default();
                let rated = b.my_feedback.is_some();
                let (id_move, id_cancel, id_rate) = (b.id.clone(), b.id.clone(), b.id.clone());
                let title = format!("{} · {}", other, b.label);
                view! {
                    <Title text=title.clone()/>
                    <h1>{move || s().session_with} " " {other.clone()}</h1>
                    <p class="lead">{time_tag(&b)} " " <span class="muted">"(" {b.zone.clone()} ")"</span>
                        {b.cancelled.then(|| view! { " " <span class="badge" data-testid="cancelled">{move || s().cancelled}</span> })}</p>
                    <ZoneCheck zone=b.zone.clone()/>
                    {(!b.cancelled).then(|| view! {
                        <p class="actions">
                            {if b.join_open {
                                view! { <a class="button primary" href=format!("/rooms/{}", b.room) data-testid="join-room">{move || s().join_room}</a> }.into_any()
                            } else if b.ended {
                                view! { <span class="muted">{move || s().session_over}</span> }.into_any()
                            } else {
                                view! { <span class="muted" data-testid="room-later">{move || s().room_opens}</span> }.into_any()
                            }}
                            <a class="button subtle" href=format!("/bookings/{}/ics", b.id) download="session.ics" data-testid="ics">{move || s().add_to_calendar}</a>
                        </p>
                    })}
                    {b.can_change.then(|| view! {
                        <section class="panel">
                            <h2>{move || s().change_title}</h2>
                            {(!b.viewer_is_mentor && !opts.is_empty()).then(|| view! {
                                <ActionForm action=move_to attr:class="stack" attr:data-testid="reschedule-form">
                                    <input type="hidden" name="id" value=id_move/>
                                    <label for="move-start">{move || s().move_to}</label>
                                    <select id="move-start" name="start" data-testid="reschedule-start">
                                        {opts.iter().take(200).map(|o| view! { <option value=o.start.clone()>{o.label.clone()}</option> }).collect_view()}
                                    </select>
                                    <button type="submit" class="button" data-testid="reschedule-submit">{move || s().move_submit}</button>
                                </ActionForm>
                            })}
                            <ActionForm action=cancel attr:class="inline-form">
                                <input type="hidden" name="id" value=id_cancel/>
                                <button type="submit" class="button danger" data-testid="cancel-session">{move || s().cancel_session}</button>
                            </ActionForm>
                        </section>
                    })}
                    {(!b.can_change && !b.cancelled && !b.started).then(|| view! { <p class="muted small">{move || s().notice_passed}</p> })}
                    {errors.into_iter().map(|e| view! { <FormMessage error=e testid="booking"/> }).collect_view()}
                    {(b.started && !b.cancelled && !rated).then(|| view! {
                        <section class="panel">
                            <h2>{move || s().rate_title}</h2>
                            <ActionForm action=rate attr:class="stack" attr:data-testid="rate-form">
                                <input type="hidden" name="id" value=id_rate/>
                                <fieldset class="stars">
                                    <legend>{move || s().stars_label}</legend>
                                    {(1..=5).map(|n| view! {
                                        <label class="star"><input type="radio" name="stars" value=n.to_string() required data-testid=format!("stars-{n}")/> {n} "★"</label>
                                    }).collect_view()}
                                </fieldset>
                                <label for="rate-comment">{move || s().comment_label}</label>
                                <textarea id="rate-comment" name="comment" rows="3" maxlength="2000" data-testid="rate-comment"></textarea>
                                <button type="submit" class="button primary" data-testid="rate-submit">{move || s().rate_submit}</button>
                            </ActionForm>
                        </section>
                    })}
                    {b.my_feedback.clone().map(|f| view! {
                        <p data-testid="my-feedback">{move || s().you_rated} " " {f.stars} "★ " {f.comment.clone()}</p>
                    })}
                    {b.their_feedback.clone().map(|f| view! {
                        <p data-testid="their-feedback">{f.author_name.clone()} " " {move || s().rated_you} " " {f.stars} "★ " {f.comment.clone()}</p>
                    })}
                    <p><a href=format!("/mentorships/{}", b.mentorship)>{move || s().open_mentorship}</a></p>
                }.into_any()
            })}
        </Suspense>
    }
}

impl MentoringStrings {
    pub fn day_name(&self, key: &str) -> &'static str {
        match key {
            "day_mon" => self.day_mon,
            "day_tue" => self.day_tue,
            "day_wed" => self.day_wed,
            "day_thu" => self.day_thu,
            "day_fri" => self.day_fri,
            "day_sat" => self.day_sat,
            _ => self.day_sun,
        }
    }
}
