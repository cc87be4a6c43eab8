//! Progress pages: the learner's dashboard (their own, or a mentee's for their mentor), the
//! mentor's dashboard, the leaderboards and the admin's analytics with the score weights.
//! Charts are SVG rendered on the server with a text alternative and a table of their numbers;
//! the range picker is a GET form (it works without JavaScript) that the hydrated page turns
//! into an in-place update.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::{
    i18n::{Locale, use_locale},
    progress::{
        api::{
            SetCourseWeights, SetLeaderboardVisibility, analytics, leaderboard, learner_dashboard,
            mentor_dashboard,
        },
        model::{
            CourseScore, LearnerProgress, MentorProgress, Period, Point, Range, Suggestion, Why,
        },
        text::{ProgressStrings, badge_words, fill},
    },
    ui::{
        chart::{BarChart, ChartText, LineChart, Scale},
        form::{FormMessage, action_error, successes},
        layout::loading,
    },
};

fn ps(locale: RwSignal<Locale>) -> &'static ProgressStrings {
    locale.get().strings().progress
}

fn error_view(e: &crate::error::AppError, locale: RwSignal<Locale>) -> AnyView {
    crate::rooms::pages::respond_with(e.status_code());
    let msg = e.message(locale.get_untracked());
    view! { <p class="form-error" role="alert" data-testid="page-error">{msg}</p> }.into_any()
}

fn chart_text(
    s: &'static ProgressStrings,
    id: String,
    title: String,
    desc: String,
    weekly: bool,
) -> ChartText {
    ChartText {
        id,
        title,
        desc,
        label_heading: if weekly { s.col_week } else { s.col_day },
        value_heading: s.col_value,
        show_numbers: s.data_table,
    }
}

/// The "last N days" picker: a GET form to `path`; with JavaScript the page updates in place.
#[component]
fn RangePicker(
    path: String,
    days: u32,
    #[prop(optional)] extra: Option<(&'static str, String)>,
) -> impl IntoView {
    let locale = use_locale();
    let s = move || ps(locale);
    let navigate = use_navigate();
    let action = path.clone();
    let extra_field = extra.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        // Without the WASM the form submits as a plain GET; with it, the page navigates in
        // place and the charts re-render from the new data.
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            let Ok(data) = web_sys::FormData::new_with_form(&form) else {
                return;
            };
            let days = data.get("days").as_string().unwrap_or_default();
            ev.prevent_default();
            let mut url = format!("{path}?days={days}");
            if let Some((k, v)) = &extra {
                url.push_str(&format!("&{k}={v}"));
            }
            navigate(&url, Default::default());
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&ev, &navigate, &path, &extra);
    };
    view! {
        <form method="get" action=action class="filters range-picker" on:submit=on_submit data-testid="range-picker">
            {extra_field.map(|(k, v)| view! { <input type="hidden" name=k value=v/> })}
            <label>{move || s().range} " "
                <select name="days" data-testid="range-days">
                    {Range::CHOICES.into_iter().map(|d| view! {
                        <option value=d.to_string() selected=d == days>{d} " " {move || s().days}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="button">{move || s().apply}</button>
        </form>
    }
}

fn why_text(s: &'static ProgressStrings, why: &Why) -> String {
    match why {
        Why::AlsoTook { title, learners } => fill(
            s.why_also_took,
            &[("{n}", &learners.to_string()), ("{t}", title)],
        ),
        Why::Popular { learners } => fill(s.why_popular, &[("{n}", &learners.to_string())]),
        Why::Skill { skill } => fill(s.why_skill, &[("{s}", skill)]),
        Why::RatedByLikeYou { learners, stars } => fill(
            s.why_rated,
            &[
                ("{n}", &learners.to_string()),
                ("{x}", &format!("{stars:.1}")),
            ],
        ),
    }
}

#[component]
fn Suggestions(items: Vec<Suggestion>, testid: &'static str) -> impl IntoView {
    let locale = use_locale();
    view! {
        <ul class="suggestions" data-testid=testid>
            {items.into_iter().map(|it| {
                let why = it.why.clone();
                view! {
                    <li>
                        <a href=it.href>{it.title}</a>
                        <span class="muted reason">{move || why_text(ps(locale), &why)}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// One course's card: the score, its three parts, and the trend chart.
#[component]
fn CourseCard(c: CourseScore, index: usize) -> impl IntoView {
    let locale = use_locale();
    let s = ps(locale);
    let parts = [
        (
            s.watched,
            c.watched.1 > 0.0,
            format!(
                "{:.0} / {:.0} {}",
                c.watched.0 / 60.0,
                c.watched.1 / 60.0,
                s.minutes
            ),
            c.weights.0,
            c.effective[0],
            if c.watched.1 > 0.0 {
                c.watched.0 / c.watched.1
            } else {
                0.0
            },
        ),
        (
            s.tests,
            c.passed.1 > 0,
            format!("{} / {}", c.passed.0, c.passed.1),
            c.weights.1,
            c.effective[1],
            if c.passed.1 > 0 {
                f64::from(c.passed.0) / f64::from(c.passed.1)
            } else {
                0.0
            },
        ),
        (
            s.feedback,
            c.feedback.1 > 0.0,
            format!("{:.0} / {:.0} {}", c.feedback.0, c.feedback.1, s.stars),
            c.weights.2,
            c.effective[2],
            if c.feedback.1 > 0.0 {
                c.feedback.0 / c.feedback.1
            } else {
                0.0
            },
        ),
    ];
    let score = c
        .score
        .map_or_else(|| s.not_measured.to_string(), |v| Scale::Percent.format(v));
    let text = chart_text(
        s,
        format!("trend-{index}"),
        format!("{} — {}", s.trend, c.title),
        s.trend_desc.to_string(),
        false,
    );
    let has_trend = c.trend.len() > 1;
    view! {
        <article class="panel course-score" data-testid="course-score">
            <h2><a href=format!("/courses/{}", c.slug)>{c.title.clone()}</a></h2>
            <p class="score-big"><span class="muted">{s.score} " "</span><strong data-testid="score-value">{score}</strong></p>
            <dl class="score-parts">
                {parts.into_iter().map(|(label, measured, amount, weight, effective, ratio)| {
                    let detail = match effective {
                        Some(w) => format!("{} {:.2} → {:.2}", s.weight, weight, w),
                        None => s.dropped.to_string(),
                    };
                    view! {
                        <div class="score-part" class:dropped=!measured>
                            <dt>{label}</dt>
                            <dd>
                                <meter min="0" max="1" value=ratio aria-label=label></meter>
                                " " <span data-testid="part-amount">{amount}</span>
                                <span class="muted"> " · " {detail}</span>
                            </dd>
                        </div>
                    }
                }).collect_view()}
            </dl>
            {if has_trend {
                view! { <LineChart text=text points=c.trend.clone() scale=Scale::Percent/> }.into_any()
            } else {
                view! { <p class="muted">{s.trend_empty}</p> }.into_any()
            }}
        </article>
    }
}

/// Points, streak, badges and the leaderboard switch. `vis` belongs to the dashboard, which
/// reloads after it succeeds (so the switch shows the stored state).
#[component]
fn Engagement(d: LearnerProgress, vis: ServerAction<SetLeaderboardVisibility>) -> impl IntoView {
    let locale = use_locale();
    let s = ps(locale);
    let error = action_error(vis, locale);
    let hidden = d.leaderboard_opt_out;
    let text = chart_text(
        s,
        "points-by-week".into(),
        s.points_chart.to_string(),
        s.points_chart_desc.to_string(),
        true,
    );
    view! {
        <section class="panel" data-testid="engagement">
            <h2>{s.engagement}</h2>
            <div class="stats">
                <p><strong data-testid="points-total">{d.points_total}</strong> " " {s.points}</p>
                <p><strong data-testid="points-week">{d.points_week}</strong> " " {s.this_week}</p>
                <p><strong data-testid="weekly-streak">{d.weekly_streak}</strong> " " {s.streak_unit}</p>
            </div>
            <BarChart text=text points=d.points_by_week.clone() scale=Scale::Count/>
            <h3>{s.badges_heading}</h3>
            <ul class="badges" data-testid="badges">
                {d.badges.iter().map(|b| {
                    let (name, about) = badge_words(s, &b.key);
                    let earned = b.earned_on.clone();
                    let is_earned = earned.is_some();
                    view! {
                        <li class="badge-item" class:earned=is_earned data-badge=b.key.clone()>
                            <strong>{name}</strong> " "
                            <span class="muted">{about} " · "
                                {match earned {
                                    Some(day) => format!("{} {day}", s.earned_on),
                                    None => s.not_yet.to_string(),
                                }}
                            </span>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p><a href="/leaderboard" data-testid="leaderboard-link">{s.leaderboard}</a></p>
            // Only the learner's own switch: a mentor looking at a mentee must not flip their own.
            {d.own.then(|| view! {
                <ActionForm action=vis attr:class="inline-form" attr:data-testid="visibility-form">
                    {if hidden {
                        view! {
                            <p class="muted" data-testid="opted-out">{s.opted_out_note}</p>
                            <button type="submit" class="button subtle">{s.opt_in}</button>
                        }.into_any()
                    } else {
                        view! {
                            <input type="hidden" name="hide" value="yes"/>
                            <button type="submit" class="button subtle" data-testid="opt-out">{s.opt_out}</button>
                        }.into_any()
                    }}
                </ActionForm>
            })}
            <FormMessage error=error testid="visibility"/>
        </section>
    }
}

/// A learner's dashboard; `learner` empty for the reader's own.
#[component]
fn Dashboard(#[prop(into)] learner: Signal<String>, path: Signal<String>) -> impl IntoView {
    let locale = use_locale();
    let q = use_query_map();
    let days = move || q.read().get("days").unwrap_or_default();
    let vis = ServerAction::<SetLeaderboardVisibility>::new();
    let changed = successes(vis);
    let data = Resource::new(
        move || (learner.get(), days(), changed.get()),
        |(l, d, _)| learner_dashboard(l, d),
    );
    view! {
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let d = match data.await {
                    Ok(d) => d,
                    Err(e) => return error_view(&e, locale),
                };
                let s = ps(locale);
                let heading = if d.own { s.title.to_string() } else { format!("{} {}", s.title_of, d.name) };
                view! {
                    <h1 data-testid="dashboard-title">{heading}</h1>
                    <p class="lead">{s.lead}</p>
                    <RangePicker path=path.get_untracked() days=d.range_days/>
                    {if d.courses.is_empty() {
                        view! { <p class="empty" data-testid="no-courses">{s.no_courses} " " <a href="/courses">{s.browse}</a></p> }.into_any()
                    } else {
                        view! {
                            <div class="score-grid">
                                {d.courses.iter().cloned().enumerate().map(|(i, c)| view! { <CourseCard c=c index=i/> }).collect_view()}
                            </div>
                        }.into_any()
                    }}
                    <Engagement d=d.clone() vis=vis/>
                    {d.own.then(|| view! {
                        <section class="panel">
                            <h2>{s.recommended}</h2>
                            {if d.courses_next.is_empty() {
                                view! { <p class="muted">{s.no_recommendations}</p> }.into_any()
                            } else {
                                view! { <Suggestions items=d.courses_next.clone() testid="recommended-courses"/> }.into_any()
                            }}
                            <h2>{s.mentors_for_you}</h2>
                            {if d.mentors_next.is_empty() {
                                view! { <p class="muted">{s.no_mentor_recs} " " <a href="/mentors/find">{s.find_mentor}</a></p> }.into_any()
                            } else {
                                view! { <Suggestions items=d.mentors_next.clone() testid="recommended-mentors"/> }.into_any()
                            }}
                        </section>
                    })}
                }.into_any()
            })}
        </Suspense>
    }
}

/// `/progress`: the reader's own dashboard.
#[component]
pub fn ProgressPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <Title text=locale.get_untracked().strings().progress.title/>
        <section class="dashboard" data-testid="learner-dashboard">
            <Dashboard learner=Signal::derive(String::new) path=Signal::derive(|| "/progress".to_string())/>
        </section>
    }
}

/// `/progress/learners/:id`: a mentee's dashboard, for their mentor (or an admin).
#[component]
pub fn LearnerProgressPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_params_map();
    let id = Signal::derive(move || params.read().get("id").unwrap_or_default());
    view! {
        <Title text=locale.get_untracked().strings().progress.nav/>
        <section class="dashboard" data-testid="learner-dashboard">
            <Dashboard learner=id path=Signal::derive(move || format!("/progress/learners/{}", id.get()))/>
        </section>
    }
}

/// `/progress/mentees`: the mentor's dashboard.
#[component]
pub fn MentorProgressPage() -> impl IntoView {
    let locale = use_locale();
    let q = use_query_map();
    let data = Resource::new(
        move || q.read().get("days").unwrap_or_default(),
        mentor_dashboard,
    );
    view! {
        <Title text=locale.get_untracked().strings().progress.mentor_title/>
        <section class="dashboard" data-testid="mentor-dashboard">
            <Suspense fallback=move || loading(locale)>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => mentor_view(d, locale).into_any(),
                        Err(e) => error_view(&e, locale),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn mentor_view(d: MentorProgress, locale: RwSignal<Locale>) -> impl IntoView {
    let s = ps(locale);
    let changes: Vec<Point> = d
        .mentees
        .iter()
        .filter_map(|m| {
            Some(Point {
                label: m.name.clone(),
                value: m.change?,
            })
        })
        .collect();
    let sessions = chart_text(
        s,
        "sessions-by-week".into(),
        s.sessions_chart.to_string(),
        s.sessions_chart_desc.to_string(),
        true,
    );
    let mut change_text = chart_text(
        s,
        "mentee-changes".into(),
        s.mentees_chart.to_string(),
        s.mentees_chart_desc.to_string(),
        false,
    );
    change_text.label_heading = s.mentee;
    let fmt_change =
        |c: Option<f64>| c.map_or_else(|| "—".to_string(), |c| Scale::Change.format(c));
    view! {
        <h1>{s.mentor_title}</h1>
        <p class="lead">{s.mentor_lead}</p>
        <RangePicker path="/progress/mentees".into() days=d.range_days/>
        <div class="stats panel">
            <p><strong data-testid="average-change">{fmt_change(d.average_change)}</strong> " " {s.average_change}</p>
            <p><strong data-testid="mentor-rating">{d.rating.map_or_else(|| "—".into(), |r| format!("{r:.1}★"))}</strong>
                " " {s.rating} " (" {d.ratings} " " {s.ratings} ")"</p>
            <p><strong data-testid="sessions-held">{d.sessions_held}</strong> " " {s.sessions_held}</p>
        </div>
        <BarChart text=sessions points=d.sessions_by_week.clone() scale=Scale::Count/>
        {if d.mentees.is_empty() {
            view! { <p class="empty" data-testid="no-mentees">{s.no_mentees}</p> }.into_any()
        } else {
            view! {
                {(!changes.is_empty()).then(|| view! { <BarChart text=change_text points=changes scale=Scale::Change/> })}
                <ul class="mentees" data-testid="mentees">
                    {d.mentees.iter().cloned().enumerate().map(|(i, m)| {
                        let text = chart_text(
                            s,
                            format!("mentee-{i}"),
                            format!("{} — {}", s.trend, m.name),
                            s.mentee_trend_desc.to_string(),
                            false,
                        );
                        view! {
                            <li class="panel" data-testid="mentee">
                                <h2>{m.name.clone()}</h2>
                                <p>{s.score_now} ": " <strong>{m.score.map_or_else(|| s.not_measured.to_string(), |v| Scale::Percent.format(v))}</strong>
                                    " · " {s.change} ": " <strong>{fmt_change(m.change)}</strong></p>
                                {(m.trend.len() > 1).then(|| view! { <LineChart text=text points=m.trend.clone() scale=Scale::Percent/> })}
                                <a class="button" href=format!("/progress/learners/{}", m.learner) data-testid="view-mentee">{s.view}</a>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

/// `/leaderboard`: this week's or all time's top ten.
#[component]
pub fn LeaderboardPage() -> impl IntoView {
    let locale = use_locale();
    let q = use_query_map();
    let period = move || q.read().get("period").unwrap_or_default();
    let data = Resource::new(period, leaderboard);
    view! {
        <Title text=locale.get_untracked().strings().progress.leaderboard/>
        <section class="dashboard" data-testid="leaderboard">
            <h1>{move || ps(locale).leaderboard}</h1>
            <Suspense fallback=move || loading(locale)>
                {move || Suspend::new(async move {
                    let b = match data.await {
                        Ok(b) => b,
                        Err(e) => return error_view(&e, locale),
                    };
                    let s = ps(locale);
                    let tab = |p: Period, label: &'static str| {
                        let current = b.period == p;
                        view! {
                            <a href=format!("/leaderboard?period={}", p.as_str()) class="tab"
                                aria-current=if current { "page" } else { "false" }>{label}</a>
                        }
                    };
                    view! {
                        <nav class="tabs">{tab(Period::Week, s.week)} {tab(Period::AllTime, s.all_time)}</nav>
                        {b.opted_out.then(|| view! { <p class="muted">{s.opted_out_note}</p> })}
                        {if b.top.is_empty() {
                            view! { <p class="empty">{s.leaderboard_empty}</p> }.into_any()
                        } else {
                            view! {
                                <table class="leaderboard-table">
                                    <thead><tr><th scope="col">{s.rank}</th><th scope="col">{s.person}</th><th scope="col">{s.points}</th></tr></thead>
                                    <tbody>
                                        {b.top.iter().chain(b.me.iter()).map(|r| view! {
                                            <tr data-testid="leaderboard-row"><td>{r.rank}</td><td>{r.name.clone()}</td><td>{r.points}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            }.into_any()
                        }}
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}

/// `/admin/analytics`: platform analytics and each course's score weights.
#[component]
pub fn AnalyticsPage() -> impl IntoView {
    let locale = use_locale();
    let q = use_query_map();
    let save = ServerAction::<SetCourseWeights>::new();
    let saved = successes(save);
    let error = action_error(save, locale);
    let data = Resource::new(
        move || {
            (
                q.read().get("days").unwrap_or_default(),
                q.read().get("course").unwrap_or_default(),
                saved.get(),
            )
        },
        |(d, c, _)| analytics(d, c),
    );
    let ok = Signal::derive(move || (saved.get() > 0).then(|| ps(locale).saved));
    view! {
        <Title text=locale.get_untracked().strings().progress.analytics/>
        <section class="dashboard" data-testid="analytics">
            <h1>{move || ps(locale).analytics}</h1>
            <p class="lead">{move || ps(locale).analytics_lead}</p>
            <Suspense fallback=move || loading(locale)>
                {move || Suspend::new(async move {
                    let a = match data.await {
                        Ok(a) => a,
                        Err(e) => return error_view(&e, locale),
                    };
                    let s = ps(locale);
                    let charts = [
                        ("active-users", s.active_users, s.active_users_desc, a.active_users.clone()),
                        ("enrolments", s.enrolments, s.enrolments_desc, a.enrolments.clone()),
                        ("gradings", s.gradings, s.gradings_desc, a.gradings.clone()),
                        ("sessions", s.sessions, s.sessions_desc, a.sessions.clone()),
                    ];
                    let course_slug = a.funnel.as_ref().map(|f| f.slug.clone()).unwrap_or_default();
                    view! {
                        <RangePicker path="/admin/analytics".into() days=a.range_days
                            extra=("course", course_slug.clone())/>
                        <div class="chart-grid">
                            {charts.into_iter().map(|(id, title, desc, points)| {
                                let text = chart_text(s, id.into(), title.into(), desc.into(), false);
                                view! { <BarChart text=text points=points scale=Scale::Count/> }
                            }).collect_view()}
                        </div>
                        <section class="panel" data-testid="funnel">
                            <h2>{s.funnel}</h2>
                            <form method="get" action="/admin/analytics" class="filters">
                                <input type="hidden" name="days" value=a.range_days.to_string()/>
                                <label>{s.course} " "
                                    <select name="course" data-testid="funnel-course">
                                        {a.courses.iter().map(|c| view! {
                                            <option value=c.slug.clone() selected=c.slug == course_slug>{c.title.clone()}</option>
                                        }).collect_view()}
                                    </select>
                                </label>
                                <button type="submit" class="button">{s.apply}</button>
                            </form>
                            {match a.funnel.clone() {
                                None => view! { <p class="muted">{s.no_courses_admin}</p> }.into_any(),
                                Some(f) => {
                                    let mut text = chart_text(
                                        s,
                                        "funnel-chart".into(),
                                        format!("{} — {} ({} {})", s.funnel, f.title, f.enrolled, s.enrolled),
                                        s.funnel_desc.to_string(),
                                        false,
                                    );
                                    text.label_heading = s.course;
                                    view! { <BarChart text=text points=f.lessons scale=Scale::Count/> }.into_any()
                                }
                            }}
                        </section>
                        <section class="panel" data-testid="weights">
                            <h2>{s.weights_title}</h2>
                            <p class="muted">{s.weights_lead}</p>
                            <FormMessage error=error success=ok testid="weights"/>
                            <ul class="weights-list">
                                {a.courses.clone().into_iter().map(|c| {
                                    let num = |v: f64| format!("{v}");
                                    view! {
                                        <li data-testid="weights-row" data-course=c.slug.clone()>
                                            <ActionForm action=save attr:class="weights-form">
                                                <input type="hidden" name="course" value=c.course.clone()/>
                                                <strong>{c.title.clone()}</strong>
                                                <span class="muted">" (" {if c.custom { s.custom } else { s.defaults }} ")"</span>
                                                <label>{s.alpha} <input name="watched" inputmode="decimal" value=num(c.watched) size="4" data-testid="weight-watched"/></label>
                                                <label>{s.beta} <input name="passed" inputmode="decimal" value=num(c.passed) size="4" data-testid="weight-passed"/></label>
                                                <label>{s.gamma} <input name="feedback" inputmode="decimal" value=num(c.feedback) size="4" data-testid="weight-feedback"/></label>
                                                <button type="submit" class="button" data-testid="save-weights">{s.save}</button>
                                                <button type="submit" name="reset" value="yes" class="button subtle">{s.reset}</button>
                                            </ActionForm>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                    }.into_any()
                })}
            </Suspense>
        </section>
    }
}
