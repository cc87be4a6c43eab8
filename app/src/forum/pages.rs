//! Forum pages: server-rendered HTML with plain forms (posting, voting, accepting), so they
//! read and work on a phone before, or without, any JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    forum::{
        api::{
            AcceptAnswer, CreateSpace, CreateThread, EditPost, FollowThread, ModeratePost,
            MoveThread, PostReply, ReportPost, VotePost, forum_home, get_thread, help_draft,
            moderation_queue, post_source, search_forum, space_page,
        },
        islands::{DraftKeeper, SimilarQuestions},
        model::{PostView, Solved, Sort, SpaceRef, ThreadKind, ThreadSummary},
        text::ForumStrings,
    },
    i18n::{Locale, use_locale},
    ui::{
        form::{FormMessage, action_error},
        layout::{PageError, loading},
    },
};

fn fs(locale: RwSignal<Locale>) -> &'static ForumStrings {
    locale.get().strings().forum
}

/// The fields of a thread's form that a draft keeps.
fn thread_fields() -> Vec<String> {
    ["title", "body", "tags"].map(String::from).to_vec()
}

fn thread_item(t: ThreadSummary, locale: RwSignal<Locale>, show_space: bool) -> impl IntoView {
    let s = move || fs(locale);
    let href = format!("/forum/threads/{}", t.id);
    let space_href = t.space.href();
    view! {
        <li class="thread-item" data-testid="thread-item" data-thread=t.id.clone()>
            <div class="thread-counts" aria-hidden="true">
                <span class="count" title=move || s().score>{t.score}</span>
                <span class="count" class:solved=t.solved title=move || s().replies>{t.replies}</span>
            </div>
            <div class="thread-main">
                <a class="thread-title" href=href>{t.title.clone()}</a>
                <p class="muted small">
                    {t.solved.then(|| view! { <span class="badge ok" data-testid="solved-badge">{move || s().solved}</span> " " })}
                    {(t.kind == ThreadKind::Discussion).then(|| view! { <span class="badge">{move || s().kind_discussion}</span> " " })}
                    {t.locked.then(|| view! { <span class="badge muted">{move || s().locked}</span> " " })}
                    {t.hidden.then(|| view! { <span class="badge warn">{move || s().hidden}</span> " " })}
                    {t.score} " " {move || s().score} " · " {t.replies} " " {move || s().replies} " · "
                    {t.author.clone()} " · " <time datetime=t.asked_at.clone()>{t.asked.clone()}</time>
                    {t.waited.clone().map(|w| view! { " · " {move || s().waited} " " <span data-testid="waited">{w}</span> })}
                    {show_space.then(|| view! { " · " {move || s().in_space} " " <a href=space_href.clone()>{t.space_title.clone()}</a> })}
                </p>
                {(!t.tags.is_empty()).then(|| view! {
                    <p class="tags">{t.tags.iter().map(|tag| view! { <span class="tag">{tag.clone()}</span> " " }).collect_view()}</p>
                })}
            </div>
        </li>
    }
}

/// A search box (a plain GET form), within one space when `space` is given.
fn search_box(locale: RwSignal<Locale>, space: Option<SpaceRef>) -> impl IntoView {
    let s = move || fs(locale);
    view! {
        <form method="get" action="/forum/search" class="filters" role="search" data-testid="forum-search-box">
            <label for="forum-q" class="visually-hidden">{move || s().search_label}</label>
            <input id="forum-q" type="search" name="q" maxlength="200" placeholder=move || s().search_label data-testid="forum-q"/>
            {space.map(|sp| view! { <input type="hidden" name="space" value=sp.key()/> })}
            <button type="submit" class="button" data-testid="forum-search-submit">{move || s().search}</button>
        </form>
    }
}

/// `/forum`: spaces, what moved last, and for course authors what waits for an answer.
#[component]
pub fn ForumPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || fs(locale);
    let home = Resource::new(|| (), |_| forum_home());
    let create = ServerAction::<CreateSpace>::new();
    let create_error = action_error(create, locale);
    view! {
        <Title text=locale.get_untracked().strings().forum.title/>
        <h1>{move || s().title}</h1>
        <p class="lead">{move || s().lead}</p>
        {search_box(locale, None)}
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let h = match home.await {
                    Ok(h) => h,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                view! {
                    {(!h.waiting.is_empty()).then(|| view! {
                        <section class="panel" data-testid="waiting">
                            <h2>{move || s().waiting}</h2>
                            <ul class="thread-list">{h.waiting.into_iter().map(|t| thread_item(t, locale, true)).collect_view()}</ul>
                        </section>
                    })}
                    <section>
                        <h2>{move || s().spaces}</h2>
                        <ul class="space-list" data-testid="space-list">
                            {h.spaces.into_iter().map(|sp| view! {
                                <li class="space-item" data-testid="space-item">
                                    <a href=sp.space.href()>{sp.title.clone()}</a>
                                    <span class="muted small">" · " {sp.threads} " " {move || s().threads_count}</span>
                                    {(!sp.description.is_empty()).then(|| view! { <p class="muted small">{sp.description.clone()}</p> })}
                                </li>
                            }).collect_view()}
                        </ul>
                        {(!h.signed_in).then(|| view! { <p class="muted"><a href="/signin">{move || s().sign_in_to_post}</a></p> })}
                    </section>
                    <section>
                        <h2>{move || s().recent}</h2>
                        {if h.recent.is_empty() {
                            view! { <p class="muted">{move || s().no_threads}</p> }.into_any()
                        } else {
                            view! { <ul class="thread-list" data-testid="recent-threads">{h.recent.into_iter().map(|t| thread_item(t, locale, true)).collect_view()}</ul> }.into_any()
                        }}
                    </section>
                    {h.can_create_space.then(|| view! {
                        <p><a class="button" href="/forum/moderation" data-testid="moderation-link">{move || s().moderation}</a></p>
                        <section class="panel">
                            <h2>{move || s().new_space}</h2>
                            <ActionForm action=create attr:class="stack" attr:data-testid="space-form">
                                <label for="space-slug">{move || s().space_slug}</label>
                                <input id="space-slug" name="slug" required maxlength="80" pattern="[a-z0-9]+(-[a-z0-9]+)*" data-testid="space-slug"/>
                                <label for="space-title">{move || s().space_title}</label>
                                <input id="space-title" name="title" required maxlength="120" data-testid="space-title"/>
                                <label for="space-description">{move || s().space_description}</label>
                                <textarea id="space-description" name="description" rows="2" maxlength="2000"></textarea>
                                <FormMessage error=create_error testid="space"/>
                                <button type="submit" class="button" data-testid="space-submit">{move || s().create_space}</button>
                            </ActionForm>
                        </section>
                    })}
                }.into_any()
            })}
        </Suspense>
    }
}

/// `/forum/spaces/:slug`: a general space.
#[component]
pub fn GeneralSpacePage() -> impl IntoView {
    view! { <SpacePage course=false/> }
}

/// `/forum/courses/:slug`: a course's space.
#[component]
pub fn CourseSpacePage() -> impl IntoView {
    view! { <SpacePage course=true/> }
}

#[component]
fn SpacePage(course: bool) -> impl IntoView {
    let locale = use_locale();
    let s = move || fs(locale);
    let params = use_params_map();
    let query = use_query_map();
    let space = move || {
        let slug = params.read().get("slug").unwrap_or_default();
        if course {
            format!("courses/{slug}")
        } else {
            format!("spaces/{slug}")
        }
    };
    let page = Resource::new(
        move || {
            let q = query.read();
            (
                space(),
                q.get("sort").unwrap_or_default(),
                q.get("page")
                    .and_then(|p| p.parse::<u32>().ok())
                    .unwrap_or(0),
            )
        },
        |(space, sort, page)| space_page(space, sort, page),
    );
    let post = ServerAction::<CreateThread>::new();
    let post_error = action_error(post, locale);
    view! {
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let p = match page.await {
                    Ok(p) => p,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                let href = p.space.href();
                let sort_link = {
                    let href = href.clone();
                    move |sort: Sort| format!("{href}?sort={}", sort.key())
                };
                let page_link = {
                    let href = href.clone();
                    let sort = p.sort.key();
                    move |n: u32| format!("{href}?sort={sort}&page={n}")
                };
                let key = p.space.key();
                view! {
                    <Title text=p.title.clone()/>
                    <p class="muted small"><a href="/forum">{move || s().title}</a></p>
                    <h1>{p.title.clone()}</h1>
                    {(!p.description.is_empty()).then(|| view! { <p class="lead">{p.description.clone()}</p> })}
                    {search_box(locale, Some(p.space.clone()))}
                    <nav class="tabs" aria-label=move || s().sort_label>
                        {Sort::ALL.into_iter().map(|sort| {
                            let current = sort == p.sort;
                            let label = move || match sort {
                                Sort::Active => s().sort_active,
                                Sort::Votes => s().sort_votes,
                                Sort::Unanswered => s().sort_unanswered,
                            };
                            view! {
                                <a href=sort_link(sort) class="tab" class:current=current
                                    aria-current=if current { "page" } else { "false" }
                                    data-testid=format!("sort-{}", sort.key())>{label}</a>
                            }
                        }).collect_view()}
                    </nav>
                    {if p.threads.is_empty() {
                        view! { <p class="muted" data-testid="no-threads">{move || s().no_threads}</p> }.into_any()
                    } else {
                        view! { <ul class="thread-list" data-testid="thread-list">{p.threads.into_iter().map(|t| thread_item(t, locale, false)).collect_view()}</ul> }.into_any()
                    }}
                    <p class="actions">
                        {(p.page > 0).then(|| view! { <a class="button subtle" href=page_link(p.page - 1)>{move || s().previous_page}</a> })}
                        {p.more.then(|| view! { <a class="button subtle" href=page_link(p.page + 1) data-testid="next-page">{move || s().next_page}</a> })}
                    </p>
                    {if p.signed_in {
                        view! {
                            <section class="panel" id="new-thread">
                                <h2>{move || s().new_thread}</h2>
                                <ActionForm action=post attr:class="stack" attr:data-testid="thread-form">
                                    <input type="hidden" name="space" value=key/>
                                    <fieldset class="inline-choices">
                                        <legend>{move || s().kind_label}</legend>
                                        <label><input type="radio" name="kind" value="question" checked/> {move || s().kind_question}</label>
                                        <label><input type="radio" name="kind" value="discussion" data-testid="kind-discussion"/> {move || s().kind_discussion}</label>
                                    </fieldset>
                                    <label for="thread-title">{move || s().thread_title}</label>
                                    <input id="thread-title" name="title" required maxlength="150" data-testid="thread-title"/>
                                    <SimilarQuestions input="thread-title".to_string()/>
                                    <label for="thread-body">{move || s().body_label}</label>
                                    <textarea id="thread-body" name="body" rows="8" required maxlength="20000" data-testid="thread-body"></textarea>
                                    <label for="thread-tags">{move || s().tags_label}</label>
                                    <input id="thread-tags" name="tags" maxlength="160" data-testid="thread-tags"/>
                                    <DraftKeeper key=p.draft_key.clone() fields=thread_fields()/>
                                    <FormMessage error=post_error testid="thread"/>
                                    <button type="submit" class="button primary" data-testid="thread-submit">{move || s().post_thread}</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    } else {
                        view! { <p><a class="button" href="/signin" data-testid="sign-in-to-post">{move || s().sign_in_to_post}</a></p> }.into_any()
                    }}
                }.into_any()
            })}
        </Suspense>
    }
}

/// The vote buttons of one post: each a one-button form (a second press of the same button
/// takes the vote back).
fn vote_forms(
    p: &PostView,
    vote: ServerAction<VotePost>,
    locale: RwSignal<Locale>,
) -> impl IntoView + use<> {
    let s = move || fs(locale);
    let up = if p.my_vote == 1 { "none" } else { "up" };
    let down = if p.my_vote == -1 { "none" } else { "down" };
    let (id_up, id_down) = (p.id.clone(), p.id.clone());
    let can_vote = p.can_vote;
    let (up_on, down_on) = (p.my_vote == 1, p.my_vote == -1);
    view! {
        <div class="votes">
            {can_vote.then(|| view! {
                <ActionForm action=vote attr:class="inline-form">
                    <input type="hidden" name="id" value=id_up/>
                    <input type="hidden" name="vote" value=up/>
                    <button type="submit" class="button small subtle" aria-pressed=up_on.to_string()
                        data-testid="vote-up" title=move || if up_on { s().vote_undo } else { s().vote_up }>"▲"<span class="visually-hidden">{move || s().vote_up}</span></button>
                </ActionForm>
            })}
            <span class="score" data-testid="score">{p.score}</span>
            {can_vote.then(|| view! {
                <ActionForm action=vote attr:class="inline-form">
                    <input type="hidden" name="id" value=id_down/>
                    <input type="hidden" name="vote" value=down/>
                    <button type="submit" class="button small subtle" aria-pressed=down_on.to_string()
                        data-testid="vote-down" title=move || if down_on { s().vote_undo } else { s().vote_down }>"▼"<span class="visually-hidden">{move || s().vote_down}</span></button>
                </ActionForm>
            })}
        </div>
    }
}

/// The forms a post carries (each a plain form, so they work without JavaScript).
#[derive(Clone, Copy)]
struct PostActions {
    vote: ServerAction<VotePost>,
    accept: ServerAction<AcceptAnswer>,
    report: ServerAction<ReportPost>,
    moderate: ServerAction<ModeratePost>,
    moderator: bool,
}

fn post_block(
    p: PostView,
    thread: String,
    lesson: Option<String>,
    actions: PostActions,
    locale: RwSignal<Locale>,
    reply: bool,
) -> impl IntoView {
    let s = move || fs(locale);
    let anchor = if reply {
        format!("reply-{}", p.id)
    } else {
        "question".to_string()
    };
    let votes = vote_forms(&p, actions.vote, locale);
    let edit_href = format!("/forum/posts/{}/edit", p.id);
    let history_href = format!("/forum/posts/{}/edit#history", p.id);
    let accepted = p.accepted;
    let (id_report, id_hide, id_delete) = (p.id.clone(), p.id.clone(), p.id.clone());
    let hidden = p.hidden;
    view! {
        <article class="post forum-post" class:accepted=accepted id=anchor
            data-testid=if reply { "reply" } else { "opening-post" } data-post=p.id.clone()>
            {votes}
            <div class="post-main">
                {accepted.then(|| view! { <p class="badge ok" data-testid="accepted-badge">{move || s().accepted}</p> })}
                {(p.hidden && !p.deleted).then(|| view! { <p class="badge warn" data-testid="hidden-badge">{move || s().hidden}</p> })}
                {p.deleted.then(|| view! { <p class="badge warn" data-testid="deleted-badge">{move || s().deleted}</p> })}
                {p.removed_reason.clone().map(|r| view! { <p class="alert">{move || s().removed_because} " " {r}</p> })}
                <div class="markdown" inner_html=p.body_html.clone()></div>
                {lesson.filter(|_| p.code_blocks > 0).map(|lesson| {
                    let blocks = p.code_blocks;
                    let post = p.id.clone();
                    view! {
                        <p class="actions open-code">
                            {(0..blocks).map(|n| {
                                let href = format!("/lessons/{lesson}?answer={post}&block={n}#exercise");
                                let label = move || if blocks == 1 {
                                    s().open_in_exercise.to_string()
                                } else {
                                    s().open_block_in_exercise.replace("{n}", &(n + 1).to_string())
                                };
                                view! { <a class="button small" href=href data-testid="open-code">{label}</a> }
                            }).collect_view()}
                        </p>
                    }
                })}
                <p class="muted small">
                    {p.author.clone()} " (" {p.author_reputation} " " {move || s().reputation} ") · "
                    <time datetime=p.written_at.clone()>{p.written.clone()}</time>
                    {p.edited.then(|| view! { " · " <a href=history_href.clone() data-testid="edited">{move || s().edited}</a> })}
                    {p.can_edit.then(|| view! { " · " <a href=edit_href.clone() data-testid="edit-post">{move || s().edit}</a> })}
                </p>
                {(reply && p.can_accept).then(|| {
                    let (thread, id) = (thread.clone(), p.id.clone());
                    view! {
                        <ActionForm action=actions.accept attr:class="inline-form">
                            <input type="hidden" name="thread" value=thread/>
                            <input type="hidden" name="reply" value=if accepted { String::new() } else { id }/>
                            <button type="submit" class="button small" data-testid=if accepted { "unaccept" } else { "accept" }>
                                {move || if accepted { s().unaccept } else { s().accept }}
                            </button>
                        </ActionForm>
                    }
                })}
                {p.can_report.then(|| view! {
                    <details class="report">
                        <summary data-testid="report-open">{move || s().report}</summary>
                        <ActionForm action=actions.report attr:class="stack">
                            <input type="hidden" name="id" value=id_report/>
                            <label>{move || s().report_reason}
                                <textarea name="reason" rows="2" required maxlength="500" data-testid="report-reason"></textarea></label>
                            <button type="submit" class="button small" data-testid="report-submit">{move || s().report_submit}</button>
                        </ActionForm>
                    </details>
                })}
                {actions.moderator.then(|| view! {
                    <div class="moderation" data-testid="moderation">
                        <ActionForm action=actions.moderate attr:class="inline-form">
                            <input type="hidden" name="id" value=id_hide/>
                            <input type="hidden" name="action" value=if hidden { "restore" } else { "hide" }/>
                            <button type="submit" class="button small subtle" data-testid=if hidden { "restore-post" } else { "hide-post" }>
                                {move || if hidden { s().restore } else { s().hide }}
                            </button>
                        </ActionForm>
                        <details>
                            <summary>{move || s().delete}</summary>
                            <ActionForm action=actions.moderate attr:class="stack">
                                <input type="hidden" name="id" value=id_delete/>
                                <input type="hidden" name="action" value="delete"/>
                                <label>{move || s().delete_reason}
                                    <input name="reason" required maxlength="500" data-testid="delete-reason"/></label>
                                <button type="submit" class="button small danger" data-testid="delete-post">{move || s().delete}</button>
                            </ActionForm>
                        </details>
                    </div>
                })}
            </div>
        </article>
    }
}

/// `/forum/threads/:id`: the question or discussion, its answers, and the answer form.
#[component]
pub fn ThreadPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || fs(locale);
    let params = use_params_map();
    let vote = ServerAction::<VotePost>::new();
    let accept = ServerAction::<AcceptAnswer>::new();
    let reply = ServerAction::<PostReply>::new();
    let report = ServerAction::<ReportPost>::new();
    let moderate = ServerAction::<ModeratePost>::new();
    let relocate = ServerAction::<MoveThread>::new();
    let follow = ServerAction::<FollowThread>::new();
    let vote_error = action_error(vote, locale);
    let accept_error = action_error(accept, locale);
    let reply_error = action_error(reply, locale);
    let report_error = action_error(report, locale);
    let moderate_error = action_error(moderate, locale);
    let move_error = action_error(relocate, locale);
    let reported = crate::ui::form::succeeded(report);
    let thread = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_thread,
    );
    view! {
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let t = match thread.await {
                    Ok(t) => t,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                let id = t.id.clone();
                let replies = t.replies.len();
                let actions = PostActions { vote, accept, report, moderate, moderator: t.can_moderate };
                let (id_lock, id_move, locked) = (t.id.clone(), t.id.clone(), t.locked);
                let (id_follow, following) = (t.id.clone(), t.following);
                view! {
                    <Title text=t.title.clone()/>
                    <p class="muted small"><a href="/forum">{move || s().title}</a> " › "
                        <a href=t.space.href() data-testid="space-link">{t.space_title.clone()}</a></p>
                    <h1 data-testid="thread-title">{t.title.clone()}</h1>
                    {t.signed_in.then(|| view! {
                        <ActionForm action=follow attr:class="inline-form">
                            <input type="hidden" name="id" value=id_follow/>
                            <input type="hidden" name="follow" value=if following { "false" } else { "true" }/>
                            <button type="submit" class="button small subtle" aria-pressed=following.to_string()
                                title=move || s().following_hint data-testid=if following { "unfollow" } else { "follow" }>
                                {move || if following { s().unfollow } else { s().follow }}
                            </button>
                        </ActionForm>
                    })}
                    <p class="muted small">
                        {t.solved.then(|| view! { <span class="badge ok" data-testid="solved-badge">{move || s().solved}</span> " " })}
                        {t.locked.then(|| view! { <span class="badge muted" data-testid="locked-badge">{move || s().locked}</span> " " })}
                        {move || if t.kind == ThreadKind::Question { s().kind_question } else { s().kind_discussion }}
                        {t.tags.iter().map(|tag| view! { " " <span class="tag">{tag.clone()}</span> }).collect_view()}
                    </p>
                    <FormMessage error=vote_error testid="vote"/>
                    <FormMessage error=accept_error testid="accept"/>
                    <FormMessage error=report_error success=Signal::derive(move || reported.get().then(|| s().report_sent)) testid="report"/>
                    <FormMessage error=moderate_error testid="moderate"/>
                    <FormMessage error=move_error testid="move"/>
                    {t.can_moderate.then(|| view! {
                        <section class="panel moderation" data-testid="thread-moderation">
                            <ActionForm action=moderate attr:class="inline-form">
                                <input type="hidden" name="id" value=id_lock/>
                                <input type="hidden" name="action" value=if locked { "unlock" } else { "lock" }/>
                                <button type="submit" class="button small" data-testid=if locked { "unlock-thread" } else { "lock-thread" }>
                                    {move || if locked { s().unlock } else { s().lock }}
                                </button>
                            </ActionForm>
                            <ActionForm action=relocate attr:class="inline-form">
                                <input type="hidden" name="id" value=id_move/>
                                <label>{move || s().move_to} " "
                                    <select name="space" data-testid="move-space">
                                        {t.move_to.iter().map(|sp| view! { <option value=sp.space.key()>{sp.title.clone()}</option> }).collect_view()}
                                    </select></label>
                                <button type="submit" class="button small" data-testid="move-thread">{move || s().move_submit}</button>
                            </ActionForm>
                        </section>
                    })}
                    {post_block(t.post, id.clone(), t.lesson.clone(), actions, locale, false)}
                    <h2>{replies} " " {move || s().replies}</h2>
                    <div class="replies" data-testid="replies">
                        {t.replies.into_iter().map(|r| post_block(r, id.clone(), t.lesson.clone(), actions, locale, true)).collect_view()}
                    </div>
                    {if t.can_reply {
                        view! {
                            <section class="panel" id="answer">
                                <h2>{move || s().reply_title}</h2>
                                <ActionForm action=reply attr:class="stack" attr:data-testid="reply-form">
                                    <input type="hidden" name="thread" value=id.clone()/>
                                    <label for="reply-body" class="visually-hidden">{move || s().reply_title}</label>
                                    <textarea id="reply-body" name="body" rows="6" required maxlength="20000" data-testid="reply-body"></textarea>
                                    <DraftKeeper key=t.draft_key.clone() fields=vec!["body".to_string()]/>
                                    <p class="hint">{move || s().body_label}</p>
                                    <FormMessage error=reply_error testid="reply"/>
                                    <button type="submit" class="button primary" data-testid="reply-submit">{move || s().reply_submit}</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    } else if t.locked {
                        view! { <p class="alert" data-testid="reply-locked">{move || s().reply_locked}</p> }.into_any()
                    } else {
                        view! { <p><a class="button" href="/signin" data-testid="sign-in-to-post">{move || s().sign_in_to_post}</a></p> }.into_any()
                    }}
                }.into_any()
            })}
        </Suspense>
    }
}

/// `/forum/posts/:id/edit`: the author's form, and the post's edit history for anyone who
/// can see the post.
#[component]
pub fn EditPostPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || fs(locale);
    let params = use_params_map();
    let edit = ServerAction::<EditPost>::new();
    let edit_error = action_error(edit, locale);
    let source = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        post_source,
    );
    view! {
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let p = match source.await {
                    Ok(p) => p,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                let back = format!("/forum/threads/{}", p.thread);
                let title = format!("{} · {}", s().edit, p.thread_title);
                view! {
                    <Title text=title/>
                    <p class="muted small"><a href=back data-testid="back-to-thread">{move || s().back_to_thread}</a></p>
                    <h1>{p.thread_title.clone()}</h1>
                    {p.can_edit.then(|| view! {
                        <ActionForm action=edit attr:class="stack" attr:data-testid="edit-form">
                            <input type="hidden" name="id" value=p.id.clone()/>
                            {p.title.clone().map(|title| view! {
                                <label for="edit-title">{move || s().thread_title}</label>
                                <input id="edit-title" name="title" value=title required maxlength="150" data-testid="edit-title"/>
                            })}
                            <label for="edit-body">{move || s().body_label}</label>
                            <textarea id="edit-body" name="body" rows="10" required maxlength="20000" data-testid="edit-body">{p.body.clone()}</textarea>
                            <DraftKeeper key=p.draft_key.clone() fields=thread_fields()/>
                            {p.title.is_some().then(|| view! {
                                <label for="edit-tags">{move || s().tags_label}</label>
                                <input id="edit-tags" name="tags" value=p.tags.clone() maxlength="160"/>
                            })}
                            <FormMessage error=edit_error testid="edit"/>
                            <button type="submit" class="button primary" data-testid="edit-submit">{move || s().save_edit}</button>
                        </ActionForm>
                    })}
                    <section id="history">
                        <h2>{move || s().history}</h2>
                        {if p.revisions.is_empty() {
                            view! { <p class="muted">{move || s().no_history}</p> }.into_any()
                        } else {
                            view! {
                                <ol class="revisions" data-testid="revisions">
                                    {p.revisions.into_iter().map(|r| view! {
                                        <li class="panel" data-testid="revision">
                                            <p class="muted small">{move || s().replaced_on} " " {r.replaced.clone()} " · " {r.replaced_by.clone()}</p>
                                            {r.title.clone().map(|t| view! { <h3>{t}</h3> })}
                                            <div class="markdown" inner_html=r.body_html.clone()></div>
                                        </li>
                                    }).collect_view()}
                                </ol>
                            }.into_any()
                        }}
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// `/forum/search`: every thread the reader may see, searched and filtered by a plain GET
/// form, the matched words marked.
#[component]
pub fn SearchPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || fs(locale);
    let query = use_query_map();
    let results = Resource::new(
        move || {
            let q = query.read();
            let get = |k: &str| q.get(k).unwrap_or_default();
            (
                get("q"),
                get("space"),
                get("tag"),
                get("solved"),
                get("mine"),
                q.get("page")
                    .and_then(|p| p.parse::<u32>().ok())
                    .unwrap_or(0),
            )
        },
        |(q, space, tag, solved, mine, page)| search_forum(q, space, tag, solved, mine, page),
    );
    view! {
        <Title text=locale.get_untracked().strings().forum.search_results/>
        <p class="muted small"><a href="/forum">{move || s().title}</a></p>
        <h1>{move || s().search_results}</h1>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let r = match results.await {
                    Ok(r) => r,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                let q = r.query.clone();
                let space_key = q.space.as_ref().map(SpaceRef::key).unwrap_or_default();
                let next = {
                    let q = q.clone();
                    move |page: u32| q.href(page)
                };
                view! {
                    <form method="get" action="/forum/search" class="filters" role="search" data-testid="forum-search-form">
                        <label>{move || s().search_label}
                            <input type="search" name="q" value=q.q.clone() maxlength="200" data-testid="search-q"/></label>
                        <label>{move || s().filter_space}
                            <select name="space" data-testid="search-space">
                                <option value="">{move || s().any_space}</option>
                                {r.spaces.iter().map(|sp| {
                                    let key = sp.space.key();
                                    let selected = key == space_key;
                                    view! { <option value=key selected=selected>{sp.title.clone()}</option> }
                                }).collect_view()}
                            </select></label>
                        <label>{move || s().filter_tag}
                            <input name="tag" value=q.tag.clone().unwrap_or_default() maxlength="30" data-testid="search-tag"/></label>
                        <label>{move || s().filter_solved}
                            <select name="solved" data-testid="search-solved">
                                {Solved::ALL.into_iter().map(|v| {
                                    let label = move || match v {
                                        Solved::Any => s().any_state,
                                        Solved::Yes => s().solved_only,
                                        Solved::No => s().unsolved_only,
                                    };
                                    view! { <option value=v.key() selected=v == q.solved>{label}</option> }
                                }).collect_view()}
                            </select></label>
                        {r.signed_in.then(|| view! {
                            <label><input type="checkbox" name="mine" value="true" checked=q.mine data-testid="search-mine"/> {move || s().mine_only}</label>
                        })}
                        <button type="submit" class="button" data-testid="search-submit">{move || s().search}</button>
                    </form>
                    <p class="muted" data-testid="search-total">{r.total} " " {move || s().results_count}</p>
                    {if r.hits.is_empty() {
                        view! { <p class="muted" data-testid="no-results">{move || s().no_results}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="thread-list" data-testid="search-results">
                                {r.hits.into_iter().map(|h| {
                                    let t = h.thread;
                                    view! {
                                        <li class="thread-item" data-testid="search-hit" data-thread=t.id.clone()>
                                            <div class="thread-counts" aria-hidden="true">
                                                <span class="count">{t.score}</span>
                                                <span class="count" class:solved=t.solved>{t.replies}</span>
                                            </div>
                                            <div class="thread-main">
                                                <a class="thread-title" href=format!("/forum/threads/{}", t.id) inner_html=h.title_html></a>
                                                <p class="snippet" inner_html=h.snippet_html></p>
                                                <p class="muted small">
                                                    {t.solved.then(|| view! { <span class="badge ok">{move || s().solved}</span> " " })}
                                                    {t.author.clone()} " · " <time datetime=t.asked_at.clone()>{t.asked.clone()}</time>
                                                    " · " {move || s().in_space} " " <a href=t.space.href()>{t.space_title.clone()}</a>
                                                </p>
                                            </div>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                    <p class="actions">
                        {(q.page > 0).then(|| view! { <a class="button subtle" href=next(q.page - 1)>{move || s().previous_page}</a> })}
                        {r.more.then(|| view! { <a class="button subtle" href=next(q.page + 1) data-testid="next-page">{move || s().next_page}</a> })}
                    </p>
                }.into_any()
            })}
        </Suspense>
    }
}

/// `/forum/moderation`: the reported posts, for moderators.
#[component]
pub fn ModerationPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || fs(locale);
    let queue = Resource::new(|| (), |_| moderation_queue());
    view! {
        <Title text=locale.get_untracked().strings().forum.queue_title/>
        <p class="muted small"><a href="/forum">{move || s().title}</a></p>
        <h1>{move || s().queue_title}</h1>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let reports = match queue.await {
                    Ok(r) => r,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                if reports.is_empty() {
                    return view! { <p class="muted" data-testid="queue-empty">{move || s().queue_empty}</p> }.into_any();
                }
                view! {
                    <ul class="thread-list" data-testid="report-queue">
                        {reports.into_iter().map(|r| view! {
                            <li class="thread-item" data-testid="reported-post" data-post=r.post.clone()>
                                <div class="thread-main">
                                    <a class="thread-title" href=format!("/forum/threads/{}#reply-{}", r.thread, r.post)>{r.thread_title.clone()}</a>
                                    <p class="muted small">{r.author.clone()} " · " {r.reasons.len()} " " {move || s().reported_by}
                                        " · " {r.first_reported.clone()}
                                        {r.hidden.then(|| view! { " · " <span class="badge warn">{move || s().hidden}</span> })}</p>
                                    <p class="snippet">{r.excerpt.clone()}</p>
                                    <ul class="small">{r.reasons.iter().map(|why| view! { <li>{why.clone()}</li> }).collect_view()}</ul>
                                </div>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </Suspense>
    }
}

/// `/forum/ask?submission=…`: a question about a failing submission, prefilled, to read and
/// edit before posting in the course's space.
#[component]
pub fn AskPage() -> impl IntoView {
    let locale = use_locale();
    let s = move || fs(locale);
    let query = use_query_map();
    let post = ServerAction::<CreateThread>::new();
    let post_error = action_error(post, locale);
    let draft = Resource::new(
        move || query.read().get("submission").unwrap_or_default(),
        help_draft,
    );
    view! {
        <Title text=locale.get_untracked().strings().forum.ask_title/>
        <h1>{move || s().ask_title}</h1>
        <p class="lead">{move || s().ask_lead}</p>
        <Suspense fallback=move || loading(locale)>
            {move || Suspend::new(async move {
                let d = match draft.await {
                    Ok(d) => d,
                    Err(e) => return view! { <PageError error=e/> }.into_any(),
                };
                view! {
                    <p class="muted small">{move || s().in_space} " " <a href=d.space.href()>{d.space_title.clone()}</a></p>
                    <ActionForm action=post attr:class="stack" attr:data-testid="ask-form">
                        <input type="hidden" name="space" value=d.space.key()/>
                        <input type="hidden" name="kind" value="question"/>
                        <label for="ask-title">{move || s().thread_title}</label>
                        <input type="hidden" name="lesson" value=d.lesson.clone()/>
                        <input id="ask-title" name="title" value=d.title.clone() required maxlength="150" data-testid="thread-title"/>
                        <SimilarQuestions input="ask-title".to_string()/>
                        <label for="ask-body">{move || s().body_label}</label>
                        <textarea id="ask-body" name="body" rows="16" required maxlength="20000" data-testid="thread-body">{d.body.clone()}</textarea>
                        <label for="ask-tags">{move || s().tags_label}</label>
                        <input id="ask-tags" name="tags" value=d.tags.clone() maxlength="160" data-testid="thread-tags"/>
                        <DraftKeeper key=d.draft_key.clone() fields=thread_fields()/>
                        <FormMessage error=post_error testid="thread"/>
                        <button type="submit" class="button primary" data-testid="thread-submit">{move || s().post_thread}</button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}
