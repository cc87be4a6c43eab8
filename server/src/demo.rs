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
        && repo::claim_once(&state.db, "demo_seeded", now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        for (account, name, roles) in &accounts {
            create_account(state, &account.email, name, &account.password, roles)
                .await
                .with_context(|| format!("creating demo account {}", account.email))?;
        }
        tracing::info!("demo accounts created");
    }
    Ok(accounts.into_iter().map(|(a, _, _)| a).collect())
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
