//! Server-side state shared by every request (server only).

use std::{sync::Arc, time::Duration};

use surrealdb::{Surreal, engine::any::Any};

use crate::accounts::model::DemoAccount;

/// The one database handle type: the same code runs embedded, in memory and against a server.
pub type Db = Surreal<Any>;

/// Settings the accounts code needs; the server's full configuration stays in `server`.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub session_idle: Duration,
    pub session_absolute: Duration,
    /// TLS mode: `Secure` and the `__Host-` prefix on cookies.
    pub secure_cookies: bool,
    pub public_origin: String,
}

/// The time, injectable so tests can move it (session expiry, rate-limit windows).
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> chrono::DateTime<chrono::Utc>;
}

#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

/// Everything a request handler may need, provided to Leptos as context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub auth: Arc<AuthSettings>,
    pub hasher: crate::accounts::password::Hasher,
    pub clock: Arc<dyn Clock>,
    /// Demo accounts to show on the home page (empty unless demo mode is on).
    pub demo_accounts: Arc<Vec<DemoAccount>>,
}

impl AppState {
    /// The state of the current request.
    pub fn get() -> Result<AppState, crate::error::AppError> {
        leptos::prelude::use_context::<AppState>().ok_or_else(|| {
            tracing::error!("AppState missing from the Leptos context");
            crate::error::AppError::Internal
        })
    }
}
