//! Demo mode: on first start with an empty database, create one account per role. The
//! credentials are public on purpose (README and home page); never turn demo mode on for a
//! server that holds real people's data.

use anyhow::Context;
use app::{
    accounts::{
        model::{DemoAccount, Email, Password, Role},
        repo::{self, AuditEntry, AuditKind, NewUser},
    },
    state::AppState,
};

pub fn demo_accounts() -> Vec<(DemoAccount, &'static str, Vec<Role>)> {
    let account = |email: &str, password: &str, role| DemoAccount {
        email: email.into(),
        password: password.into(),
        role,
    };
    vec![
        (
            account(
                "learner@pairwise.test",
                "pairwise-learner-demo",
                Role::Learner,
            ),
            "Lin Learner",
            vec![Role::Learner],
        ),
        (
            account("mentor@pairwise.test", "pairwise-mentor-demo", Role::Mentor),
            "Maya Mentor",
            vec![Role::Learner, Role::Mentor],
        ),
        (
            account("admin@pairwise.test", "pairwise-admin-demo", Role::Admin),
            "Ada Admin",
            vec![Role::Admin],
        ),
    ]
}

/// Creates the demo accounts once per database; returns them for the home page.
pub async fn ensure_demo_accounts(state: &AppState) -> anyhow::Result<Vec<DemoAccount>> {
    let accounts = demo_accounts();
    let now = state.clock.now();
    let fresh = repo::count_users(&state.db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        == 0;
    if fresh
        && app::db::claim_once(&state.db, "demo_seeded", now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        for (account, name, roles) in &accounts {
            create_account(state, &account.email, name, &account.password, roles)
                .await
                .with_context(|| format!("creating demo account {}", account.email))?;
        }
        demo_mentoring(state)
            .await
            .context("creating the demo mentor's profile")?;
        tracing::info!("demo accounts created");
    }
    Ok(accounts.into_iter().map(|(a, _, _)| a).collect())
}

/// The demo mentor's skills, weekly hours and settings, so the ranking and booking have
/// someone to show on a fresh install.
async fn demo_mentoring(state: &AppState) -> anyhow::Result<()> {
    let words = |e: app::error::AppError| anyhow::anyhow!("{e}");
    let email = Email::parse("mentor@pairwise.test").map_err(|p| anyhow::anyhow!("{p:?}"))?;
    let Some((id, _)) = repo::credentials(&state.db, &email).await.map_err(words)? else {
        return Ok(());
    };
    let profile = app::accounts::model::ProfileUpdate::parse(
        "Maya Mentor",
        "Backend engineer for twelve years; I like helping people write their first real Rust service and reason about SQL.",
        "Rust: expert\nJavaScript: advanced\nSQL: advanced\nGit: advanced",
        "en, zh",
        "Europe/Berlin",
    )
    .map_err(|p| anyhow::anyhow!("{p:?}"))?;
    repo::update_profile(&state.db, &id, &profile, state.clock.now())
        .await
        .map_err(words)?;
    let settings = app::mentoring::model::MentorSettings::parse(
        "Rust, JavaScript and databases, from first steps to production",
        "20",
        "30",
        "mon 08:00-20:00\ntue 08:00-20:00\nwed 08:00-20:00\nthu 08:00-20:00\nfri 08:00-18:00\nsat 10:00-14:00",
        false,
    )
    .map_err(|p| anyhow::anyhow!("{p:?}"))?;
    app::mentoring::repo::save_mentor_settings(
        &state.db,
        &id.0,
        &settings,
        "",
        // Not paused: no request is declined, so this notice is never sent.
        &app::notify::model::Notice::MentorPaused {
            mentor: String::new(),
        },
        state.clock.now(),
    )
    .await
    .map_err(words)
}

/// A general space and a few threads in the demo course's space (one answered and accepted,
/// one still waiting for the course's mentor), once per database.
pub async fn ensure_demo_forum(state: &AppState) -> anyhow::Result<()> {
    use app::forum::{
        model::ThreadKind,
        repo::{self as forum, Place},
    };
    use app::notify::model::Notice;
    let words = |e: app::error::AppError| anyhow::anyhow!("{e}");
    let now = state.clock.now();
    let id_of = |email: &'static str| async move {
        let email = Email::parse(email).map_err(|p| anyhow::anyhow!("{p:?}"))?;
        Ok::<_, anyhow::Error>(
            repo::credentials(&state.db, &email)
                .await
                .map_err(words)?
                .map(|(id, _)| id),
        )
    };
    // A database that had people before demo mode was turned on has no demo accounts.
    let (Some(learner), Some(mentor), Some(admin)) = (
        id_of("learner@pairwise.test").await?,
        id_of("mentor@pairwise.test").await?,
        id_of("admin@pairwise.test").await?,
    ) else {
        return Ok(());
    };
    if !app::db::claim_once(&state.db, "demo_forum", now)
        .await
        .map_err(words)?
    {
        return Ok(());
    }
    forum::create_space(
        &state.db,
        "general",
        "General",
        "Learning, mentoring and anything else about programming.",
        &admin,
        now,
    )
    .await
    .map_err(words)?;
    let general = forum::space_by_slug(&state.db, "general")
        .await
        .map_err(words)?
        .context("the general space")?;
    let reply = |by: &str, title: &str| Notice::ForumReplied {
        by: by.into(),
        title: title.into(),
    };
    let title = "How do I get the most out of a mentoring session?";
    let t = forum::create_thread(
        &state.db,
        &Place::Space(general.id),
        &learner,
        forum::NewThread {
            kind: ThreadKind::Discussion,
            title,
            body: "I booked my first 30-minute session. What should I prepare so we do not spend it on setup?",
            tags: &["mentoring".into()],
            lesson: None,
        },
        now,
    )
    .await
    .map_err(words)?;
    forum::add_reply(
        &state.db,
        &t,
        &mentor,
        "Bring one concrete problem, with the code pushed somewhere we can both open, and write down what you tried. \
         Open it in a live room before the session starts, so the first minute is already about the code.",
        &reply("Maya Mentor", title),
        &[],
        &reply("Maya Mentor", title),
        now,
    )
    .await
    .map_err(words)?;

    let Some(course) = app::courses::repo::course_by_slug(&state.db, "javascript-foundations")
        .await
        .map_err(words)?
    else {
        return Ok(());
    };
    let title = "Why does [1, 2, 10].sort() put 10 before 2?";
    let t = forum::create_thread(
        &state.db,
        &Place::Course(course.id.clone()),
        &learner,
        forum::NewThread {
            kind: ThreadKind::Question,
            title,
            body: "```js\nconsole.log([1, 2, 10].sort()); // [1, 10, 2]\n```\n\nI expected `[1, 2, 10]`. Is `sort` broken?",
            tags: &["javascript".into(), "arrays".into()],
            lesson: None,
        },
        now,
    )
    .await
    .map_err(words)?;
    let answer = forum::add_reply(
        &state.db,
        &t,
        &mentor,
        "Without a compare function, `sort` compares the elements as **strings**, and `\"10\"` comes before `\"2\"`. \
         Pass one that compares numbers:\n\n```js\n[1, 2, 10].sort((a, b) => a - b); // [1, 2, 10]\n```",
        &reply("Maya Mentor", title),
        &[],
        &reply("Maya Mentor", title),
        now,
    )
    .await
    .map_err(words)?;
    forum::accept(
        &state.db,
        &t,
        Some(&answer),
        &Notice::ForumAccepted {
            by: "Lin Learner".into(),
            title: title.into(),
        },
        now,
    )
    .await
    .map_err(words)?;
    forum::create_thread(
        &state.db,
        &Place::Course(course.id),
        &learner,
        forum::NewThread {
            kind: ThreadKind::Question,
            title: "When should I use const instead of let?",
            body: "The lesson uses `const` almost everywhere. Is `let` ever the better choice?",
            tags: &["javascript".into()],
            lesson: None,
        },
        now,
    )
    .await
    .map_err(words)?;
    tracing::info!("demo forum created");
    Ok(())
}

/// Creates an account outside a web request (demo data, `pairwise admin create`).
pub async fn create_account(
    state: &AppState,
    email: &str,
    name: &str,
    password: &str,
    roles: &[Role],
) -> anyhow::Result<()> {
    let words = |p: app::error::Problem| anyhow::anyhow!("{}", app::error::AppError::from(p));
    let email = Email::parse(email).map_err(words)?;
    let name = app::accounts::model::DisplayName::parse(name).map_err(words)?;
    let password = Password::parse(password).map_err(words)?;
    app::accounts::password::refuse_common(&password).map_err(words)?;
    let hash = state
        .hasher
        .hash(&password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = state.clock.now();
    let user = repo::create_user(
        &state.db,
        NewUser {
            email: &email,
            display_name: name.as_str(),
            password_hash: &hash,
            roles,
        },
        now,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let entry = AuditEntry {
        user: Some(user),
        email: Some(email.as_str().into()),
        ..Default::default()
    };
    repo::audit(&state.db, AuditKind::AdminCreated, entry, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
