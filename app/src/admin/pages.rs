//! Admin pages: plain server-rendered HTML with GET forms for searching and filtering and
//! plain forms for changes, so they work before (or without) any JavaScript. Each page asks
//! its server function, which answers 403 to anyone but an admin.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    accounts::{api::SetUserRole, model::Role, pages::RequireUser},
    admin::{
        api::{EndUserSession, SuspendUser, UnsuspendUser, admin_user, audit_log, search_users},
        model::{AUDIT_KINDS, AuditItem},
        text::AdminStrings,
    },
    i18n::{Locale, use_locale},
    ui::{
        form::{FormMessage, action_error},
        layout::{PageError, loading},
    },
};

fn ad(locale: RwSignal<Locale>) -> &'static AdminStrings {
    locale.get().strings().admin
}

fn page_number(raw: Option<String>) -> u32 {
    raw.and_then(|p| p.parse::<u32>().ok()).unwrap_or(0)
}

/// Where the admin pages lead to each other.
fn admin_links(locale: RwSignal<Locale>) -> impl IntoView {
    let s = move || ad(locale);
    view! {
        <p class="muted small admin-links">
            <a href="/admin" data-testid="admin-home-link">{move || s().all_users}</a>
            " · " <a href="/admin/audit" data-testid="audit-link">{move || s().audit_title}</a>
            " · " <a href="/admin/mentor-applications" data-testid="applications-link">{move || locale.get().strings().apply.queue_title}</a>
            " · " <a href="/admin/legal" data-testid="legal-link">{move || locale.get().strings().privacy.legal_admin_title}</a>
            " · " <a href="/admin/analytics" data-testid="analytics-link">{move || locale.get().strings().progress.analytics}</a>
        </p>
    }
}

/// `/admin`: find people by name, address and role.
#[component]
pub fn AdminPage() -> impl IntoView {
    view! { <RequireUser next="/admin" signed_in=|_| view! { <UserSearchView/> }/> }
}

#[component]
fn UserSearchView() -> impl IntoView {
    let locale = use_locale();
    let s = move || ad(locale);
    let query = use_query_map();
    let found = Resource::new(
        move || {
            let q = query.read();
            (
                q.get("q").unwrap_or_default(),
                q.get("role").unwrap_or_default(),
                page_number(q.get("page")),
            )
        },
        |(q, role, page)| search_users(q, role, page),
    );
    view! {
        <Title text=locale.get_untracked().strings().admin_title/>
        <h1>{move || locale.get().strings().admin_title}</h1>
        {admin_links(locale)}
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let r = match found.await {
                    Ok(r) => r,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                let q = r.query.clone();
                view! {
                    <h2>{move || s().find_people}</h2>
                    <form method="get" action="/admin" class="filters" role="search" data-testid="user-search">
                        <label>{move || s().search_label}
                            <input type="search" name="q" value=q.q.clone() maxlength="100" data-testid="user-q"/></label>
                        <label>{move || s().role_label}
                            <select name="role" data-testid="user-role">
                                <option value="">{move || s().any_role}</option>
                                {Role::ALL.into_iter().map(|role| view! {
                                    <option value=role.key() selected=q.role == Some(role)>{move || role.label(locale.get().strings())}</option>
                                }).collect_view()}
                            </select></label>
                        <button type="submit" class="button" data-testid="user-search-submit">{move || s().search}</button>
                    </form>
                    {if r.users.is_empty() {
                        view! { <p class="muted" data-testid="no-users">{move || s().no_users}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="user-list" data-testid="user-list">
                                {r.users.into_iter().map(|u| view! {
                                    <li class="user-row" data-testid="user-row" data-user=u.id.clone()>
                                        <div>
                                            <a href=format!("/admin/users/{}", u.id) data-testid="user-link"><strong>{u.display_name.clone()}</strong></a>
                                            <span class="muted">" " {u.email.clone()}</span>
                                            {u.suspended.then(|| view! { " " <span class="badge warn" data-testid="suspended-badge">{move || s().suspended_badge}</span> })}
                                        </div>
                                        <div class="muted small">
                                            {u.roles.iter().map(|r| r.label(locale.get_untracked().strings())).collect::<Vec<_>>().join(", ")}
                                            " · " {move || s().joined} " " {u.joined.clone()}
                                        </div>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                    <p class="actions">
                        {(q.page > 0).then(|| view! { <a class="button subtle" href=q.href(q.page - 1)>{move || s().previous_page}</a> })}
                        {r.more.then(|| view! { <a class="button subtle" href=q.href(q.page + 1) data-testid="users-next">{move || s().next_page}</a> })}
                    </p>
                }.into_any()
            })}
        </Suspense>
    }
}

/// One audit entry as a list item.
fn audit_entry(e: AuditItem, locale: RwSignal<Locale>) -> impl IntoView {
    let s = move || ad(locale);
    let person = |p: Option<crate::admin::model::PersonRef>| {
        p.map(|p| view! { <a href=format!("/admin/users/{}", p.id)>{p.name}</a> })
    };
    view! {
        <li class="audit-entry" data-testid="audit-entry" data-kind=e.kind.clone()>
            <strong>{e.what.clone()}</strong> " "
            {person(e.user)}
            {e.actor.map(|a| view! { " · " {move || s().by} " " <a href=format!("/admin/users/{}", a.id)>{a.name}</a> })}
            <div class="muted small">
                <time datetime=e.at_iso.clone()>{e.at.clone()}</time>
                {e.email.map(|m| view! { " · " {m} })}
                {e.address.map(|ip| view! { " · " {move || s().from_address} " " {ip} })}
                {e.detail.map(|d| view! { " · " {d} })}
            </div>
        </li>
    }
}

/// `/admin/users/<id>`: one person's roles, status, sessions, recent audit entries,
/// courses and mentorships, with the forms that change them.
#[component]
pub fn AdminUserPage() -> impl IntoView {
    view! { <RequireUser next="/admin" signed_in=|_| view! { <UserDetailView/> }/> }
}

#[component]
fn UserDetailView() -> impl IntoView {
    let locale = use_locale();
    let s = move || ad(locale);
    let params = use_params_map();
    let set_role = ServerAction::<SetUserRole>::new();
    let suspend = ServerAction::<SuspendUser>::new();
    let unsuspend = ServerAction::<UnsuspendUser>::new();
    let end = ServerAction::<EndUserSession>::new();
    let role_error = action_error(set_role, locale);
    let suspend_error = action_error(suspend, locale);
    let unsuspend_error = action_error(unsuspend, locale);
    let end_error = action_error(end, locale);
    let user = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                set_role.version().get()
                    + suspend.version().get()
                    + unsuspend.version().get()
                    + end.version().get(),
            )
        },
        |(id, _)| admin_user(id),
    );
    view! {
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let u = match user.await {
                    Ok(u) => u,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                let id = u.id.clone();
                let none = move || view! { <p class="muted">{move || s().none}</p> };
                view! {
                    <Title text=u.display_name.clone()/>
                    {admin_links(locale)}
                    <h1 data-testid="admin-user-name">{u.display_name.clone()}</h1>
                    <p class="muted">{u.email.clone()} " · "
                        {if u.email_verified { s().email_confirmed } else { s().email_unconfirmed }}
                        " · " {move || s().joined} " " {u.joined.clone()}</p>

                    <section class="panel">
                        <h2>{move || s().status}</h2>
                        {let id = id.clone(); match u.suspended.clone() {
                            Some(susp) => view! {
                                <p class="alert alert-error" data-testid="suspension">
                                    <strong>{move || s().suspended_badge}</strong> " · " {move || s().suspended_since} " " {susp.since.clone()} ": " {susp.reason.clone()}
                                </p>
                                <ActionForm action=unsuspend attr:class="inline-form">
                                    <input type="hidden" name="user_id" value=id.clone()/>
                                    <button type="submit" class="button" data-testid="unsuspend">{move || s().unsuspend}</button>
                                </ActionForm>
                                <FormMessage error=unsuspend_error testid="unsuspend"/>
                            }.into_any(),
                            None if u.is_self => view! { <p data-testid="status-active">{move || s().active}</p> <p class="muted">{move || s().is_self}</p> }.into_any(),
                            None => view! {
                                <p data-testid="status-active">{move || s().active}</p>
                                <ActionForm action=suspend attr:class="form">
                                    <input type="hidden" name="user_id" value=id.clone()/>
                                    <label for="suspend-reason">{move || s().reason_label}</label>
                                    <textarea id="suspend-reason" name="reason" rows="2" maxlength="500" required data-testid="suspend-reason"></textarea>
                                    <button type="submit" class="button danger" data-testid="suspend">{move || s().suspend}</button>
                                </ActionForm>
                                <FormMessage error=suspend_error testid="suspend"/>
                            }.into_any(),
                        }}
                    </section>

                    <section class="panel">
                        <h2>{move || s().roles}</h2>
                        <div class="role-buttons" data-testid="admin-roles">
                            {Role::ALL.into_iter().map(|role| {
                                let id = id.clone();
                                let has = u.roles.contains(&role);
                                view! {
                                    <ActionForm action=set_role attr:class="inline-form">
                                        <input type="hidden" name="user_id" value=id.clone()/>
                                        <input type="hidden" name="role" value=role.key()/>
                                        <input type="hidden" name="granted" value=(!has).to_string()/>
                                        <button type="submit" class=if has { "chip on" } else { "chip" } aria-pressed=has.to_string() data-testid=format!("role-{}", role.key())>
                                            {move || role.label(locale.get().strings())}
                                        </button>
                                    </ActionForm>
                                }
                            }).collect_view()}
                        </div>
                        <FormMessage error=role_error testid="role"/>
                    </section>

                    <section class="panel">
                        <h2>{move || s().sessions}</h2>
                        {if u.sessions.is_empty() {
                            view! { <p class="muted" data-testid="no-sessions">{move || s().no_sessions}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="user-list" data-testid="sessions">
                                    {u.sessions.into_iter().map(|sess| {
                                        let id = id.clone();
                                        let key = sess.id.clone();
                                        let marker = sess.id.clone();
                                        view! {
                                        <li class="user-row" data-testid="session" data-session=marker>
                                            <div class="small">
                                                {move || s().signed_in} " " {sess.started.clone()} " · " {move || s().last_seen} " " {sess.last_seen.clone()}
                                                {sess.address.clone().map(|ip| view! { " · " {ip} })}
                                                {sess.device.clone().map(|d| view! { <div class="muted">{d}</div> })}
                                            </div>
                                            <ActionForm action=end attr:class="inline-form">
                                                <input type="hidden" name="user_id" value=id.clone()/>
                                                <input type="hidden" name="session" value=key/>
                                                <button type="submit" class="button small" data-testid="end-session">{move || s().end_session}</button>
                                            </ActionForm>
                                        </li>
                                    }}).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        <FormMessage error=end_error testid="end-session"/>
                    </section>

                    <section class="panel">
                        <h2>{move || s().enrolled}</h2>
                        {if u.enrolled.is_empty() { none().into_any() } else { view! {
                            <ul data-testid="enrolled">{u.enrolled.into_iter().map(|c| view! { <li><a href=format!("/courses/{}", c.slug)>{c.title}</a></li> }).collect_view()}</ul>
                        }.into_any() }}
                        <h2>{move || s().authored}</h2>
                        {if u.authored.is_empty() { none().into_any() } else { view! {
                            <ul data-testid="authored">{u.authored.into_iter().map(|c| view! { <li><a href=format!("/courses/{}", c.slug)>{c.title}</a></li> }).collect_view()}</ul>
                        }.into_any() }}
                        <h2>{move || s().mentorships}</h2>
                        {if u.mentorships.is_empty() { none().into_any() } else { view! {
                            <ul data-testid="mentorships">{u.mentorships.into_iter().map(|m| view! {
                                <li>
                                    {move || if m.as_mentor { s().mentor_of } else { s().mentored_by }} " "
                                    <a href=format!("/admin/users/{}", m.other_id)>{m.other_name.clone()}</a>
                                    <span class="muted small">" · " {m.started.clone()} {(!m.active).then(|| view! { " · " {move || s().ended} })}</span>
                                </li>
                            }).collect_view()}</ul>
                        }.into_any() }}
                    </section>

                    <section class="panel">
                        <h2>{move || s().recent_audit}</h2>
                        {if u.audit.is_empty() { none().into_any() } else { view! {
                            <ul class="audit-list" data-testid="user-audit">{u.audit.into_iter().map(|e| audit_entry(e, locale)).collect_view()}</ul>
                        }.into_any() }}
                        <p><a href=format!("/admin/audit?person={}", u.id) data-testid="user-audit-all">{move || s().all_entries}</a></p>
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// `/admin/audit`: the audit log, newest first, filtered by kind and person.
#[component]
pub fn AuditLogPage() -> impl IntoView {
    view! { <RequireUser next="/admin/audit" signed_in=|_| view! { <AuditLogView/> }/> }
}

#[component]
fn AuditLogView() -> impl IntoView {
    let locale = use_locale();
    let s = move || ad(locale);
    let query = use_query_map();
    let log = Resource::new(
        move || {
            let q = query.read();
            (
                q.get("kind").unwrap_or_default(),
                q.get("person").unwrap_or_default(),
                page_number(q.get("page")),
            )
        },
        |(kind, person, page)| audit_log(kind, person, page),
    );
    view! {
        <Title text=locale.get_untracked().strings().admin.audit_title/>
        {admin_links(locale)}
        <h1>{move || s().audit_title}</h1>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let r = match log.await {
                    Ok(r) => r,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                let q = r.query.clone();
                view! {
                    <form method="get" action="/admin/audit" class="filters" data-testid="audit-filters">
                        <label>{move || s().kind_label}
                            <select name="kind" data-testid="audit-kind">
                                <option value="">{move || s().any_kind}</option>
                                {AUDIT_KINDS.into_iter().map(|k| view! {
                                    <option value=k selected=q.kind.as_deref() == Some(k)>{move || s().kind(k)}</option>
                                }).collect_view()}
                            </select></label>
                        <label>{move || s().person_label}
                            <input name="person" value=q.person.clone() maxlength="254" data-testid="audit-person"/></label>
                        <button type="submit" class="button" data-testid="audit-submit">{move || s().show}</button>
                    </form>
                    {if r.entries.is_empty() {
                        view! { <p class="muted" data-testid="no-entries">{move || s().no_entries}</p> }.into_any()
                    } else {
                        view! { <ul class="audit-list" data-testid="audit-list">{r.entries.into_iter().map(|e| audit_entry(e, locale)).collect_view()}</ul> }.into_any()
                    }}
                    <p class="actions">
                        {(q.page > 0).then(|| view! { <a class="button subtle" href=q.href(q.page - 1)>{move || s().previous_page}</a> })}
                        {r.more.then(|| view! { <a class="button subtle" href=q.href(q.page + 1) data-testid="audit-next">{move || s().next_page}</a> })}
                    </p>
                }.into_any()
            })}
        </Suspense>
    }
}
