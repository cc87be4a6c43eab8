//! Builds the application: database, state, router and middleware. A library function, so
//! integration tests boot the real app on port 0 with a fresh in-memory database.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use app::{
    App,
    accounts::{password::Hasher, repo},
    db::Db,
    shell,
    state::{AppState, AuthSettings, Clock, SystemClock},
};
use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{StatusCode, Uri, header},
    middleware::{from_fn, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use tokio::net::TcpListener;
use tower_http::{
    CompressionLevel, catch_panic::CatchPanicLayer, compression::CompressionLayer,
    limit::RequestBodyLimitLayer, trace::TraceLayer,
};

use crate::{
    config::Config,
    course_files, db, demo,
    mail::Relay,
    metrics::{self, Metrics},
    realtime,
    security::{self, AddressLimiter, CspNonce, SecurityConfig},
    uploads,
};

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    addr: SocketAddr,
    grace: Duration,
    relay: Option<Relay>,
    jobs_interval: Duration,
    media_dir: std::path::PathBuf,
    /// The control socket `pairwise backup` asks for a backup through.
    control: std::path::PathBuf,
    backups: Option<crate::backup::Schedule>,
    /// On a database server other app servers may share the data: follow their changes
    /// (crate::cluster).
    shared_database: bool,
}

/// What a test or an operator may substitute; `Default` is the real thing.
#[derive(Default)]
pub struct Overrides {
    pub clock: Option<Arc<dyn Clock>>,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Overrides::default()).await
    }

    pub async fn build_with(config: Config, overrides: Overrides) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("listening on {}", config.addr))?;
        let addr = listener.local_addr()?;
        // Without an explicit public URL (development), the loopback names of the port we
        // actually bound are ours; with one, only its origin is.
        let allowed_origins = if config.public_url_set {
            vec![config.public_origin().to_string()]
        } else {
            let port = addr.port();
            vec![
                format!("http://127.0.0.1:{port}"),
                format!("http://localhost:{port}"),
                format!("http://[::1]:{port}"),
            ]
        };
        let public_origin = allowed_origins.first().cloned().unwrap_or_default();
        let state = build_state(&config, public_origin, overrides).await?;
        let router = router(&config, &state, addr, allowed_origins)?;
        let relay = match &config.mail {
            Some(mail) => Some(Relay::new(mail)?),
            None => {
                tracing::info!("PAIRWISE_SMTP_URL is not set: outgoing mail waits in the outbox");
                None
            }
        };
        Ok(Application {
            listener,
            router,
            state,
            addr,
            grace: config.shutdown_grace,
            jobs_interval: config.jobs_interval,
            relay,
            media_dir: config.media_dir(),
            control: crate::backup::control_path(&config.data_dir),
            backups: config.backups.clone(),
            shared_database: config.database.url.starts_with("ws://")
                || config.database.url.starts_with("wss://"),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes; then in-flight requests get the grace period to
    /// finish, and the database handle is dropped (SurrealKV flushes and closes).
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            router,
            state,
            grace,
            relay,
            jobs_interval,
            media_dir,
            control,
            backups,
            shared_database,
            ..
        } = self;
        let follower = shared_database.then(|| tokio::spawn(crate::cluster::follow(state.clone())));
        // `pairwise backup` reaches this server through the control socket (the embedded
        // database allows one process), and scheduled backups run beside the requests.
        let control_task = tokio::spawn(crate::backup::serve_control(
            state.db.clone(),
            media_dir.clone(),
            control.clone(),
        ));
        let backup_task = backups.map(|schedule| {
            tokio::spawn(crate::backup::run_schedule(
                state.db.clone(),
                media_dir,
                schedule,
            ))
        });
        let cleaner = tokio::spawn(expire_sessions(state.clone()));
        let jobs = tokio::spawn(mentoring_jobs(state.clone(), jobs_interval));
        let progress = tokio::spawn(progress_jobs(state.clone(), jobs_interval));
        let mailer = relay.map(|relay| tokio::spawn(relay.run(state.clone())));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let serve = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let mut server = tokio::spawn(async move { serve.await });
        let mut stop_rx = stop_rx;
        tokio::select! {
            done = &mut server => { done.context("server task")?.context("serving")?; }
            _ = stop_rx.changed() => {
                tracing::info!(grace_secs = grace.as_secs(), "shutting down: finishing in-flight requests");
                match tokio::time::timeout(grace, &mut server).await {
                    Ok(done) => { done.context("server task")?.context("serving")?; }
                    Err(_) => {
                        tracing::warn!("grace period over: dropping the remaining connections");
                        server.abort();
                    }
                }
            }
        }
        control_task.abort();
        let _ = std::fs::remove_file(&control);
        if let Some(task) = backup_task {
            task.abort();
        }
        cleaner.abort();
        if let Some(follower) = follower {
            follower.abort();
        }
        jobs.abort();
        progress.abort();
        if let Some(mailer) = mailer {
            mailer.abort();
        }
        close_db(state.db).await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Connects and migrates the database and assembles the shared state (and the demo accounts
/// in demo mode). Used by `serve` and by the CLI commands that act on accounts.
pub async fn build_state(
    config: &Config,
    public_origin: String,
    overrides: Overrides,
) -> anyhow::Result<AppState> {
    let (db, _) = db::open_and_migrate(&config.database).await?;
    let clock = overrides.clock.unwrap_or_else(|| Arc::new(SystemClock));
    let grader = Arc::new(crate::grading::GraderPool::new(
        match &config.grader {
            Some(path) => path.clone(),
            None => crate::grading::GraderPool::beside_current_exe()?,
        },
        config.python.clone(),
        config.grader_workers,
    ));
    let mut state = AppState {
        db,
        auth: Arc::new(AuthSettings {
            session_idle: config.session_idle,
            session_absolute: config.session_absolute,
            secure_cookies: config.secure_cookies,
            public_origin,
        }),
        hasher: Hasher::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
        sessions: Arc::default(),
        sign_in_turns: Arc::default(),
        clock,
        demo_accounts: Arc::new(Vec::new()),
        catalog: Arc::new(
            app::courses::index::CatalogIndex::new()
                .map_err(|e| anyhow::anyhow!("creating the catalog index: {e}"))?,
        ),
        forum: Arc::new(
            app::forum::index::ForumIndex::new()
                .map_err(|e| anyhow::anyhow!("creating the forum index: {e}"))?,
        ),
        grader: grader.clone(),
        grading_per_user: Arc::new(app::state::PerKeyLimit::new(config.grading_per_user)),
        rooms: Arc::new(app::rooms::hub::Hub::with_code_log(
            config.code_log_steps,
            config.code_log_bytes,
        )),
        mentoring: Arc::new(config.mentoring.clone()),
        notifier: Arc::new(app::state::Notifier::default()),
        live_sockets: Arc::new(app::state::LiveSockets::with_limit(config.max_sockets)),
        recommender: Arc::new(app::progress::service::Recommender::default()),
        awards: Arc::new(app::progress::service::AwardSync),
        retention: config.retention,
    };
    // An operator must hear when the kernel refuses part of the grader's confinement (a
    // container without user namespaces, say): learner code then has more reach.
    tokio::spawn(async move {
        match grader.check_confinement().await {
            Ok(warnings) if warnings.is_empty() => {
                tracing::info!("grader confinement: namespaces, empty root, seccomp, limits");
            }
            Ok(warnings) => {
                for warning in warnings {
                    tracing::warn!(%warning, "GRADER CONFINEMENT WEAKENED");
                }
            }
            Err(reason) => {
                tracing::error!(%reason, "the grader's confinement could not be checked")
            }
        }
    });
    if config.demo {
        state.demo_accounts = Arc::new(demo::ensure_demo_accounts(&state).await?);
        course_files::ensure_demo_courses(&state, &config.media_dir()).await?;
        demo::ensure_demo_forum(&state)
            .await
            .context("creating the demo forum")?;
    }
    let started = std::time::Instant::now();
    let courses = state
        .catalog
        .rebuild(&state.db)
        .await
        .map_err(|e| anyhow::anyhow!("building the catalog index: {e}"))?;
    tracing::info!(
        courses,
        ms = started.elapsed().as_millis() as u64,
        "catalog index built"
    );
    let started = std::time::Instant::now();
    let threads = state
        .forum
        .rebuild(&state.db)
        .await
        .map_err(|e| anyhow::anyhow!("building the forum index: {e}"))?;
    tracing::info!(
        threads,
        ms = started.elapsed().as_millis() as u64,
        "forum index built"
    );
    Ok(state)
}

/// Drops the last database handle and gives the embedded engine a moment to flush and close
/// (its shutdown runs on a background task).
pub async fn close_db(db: Db) {
    drop(db);
    tokio::time::sleep(Duration::from_millis(300)).await;
}

fn router(
    config: &Config,
    state: &AppState,
    addr: SocketAddr,
    allowed_origins: Vec<String>,
) -> anyhow::Result<Router> {
    let leptos_options = LeptosOptions::builder()
        .output_name("pairwise")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let routes = generate_route_list(App);
    // The compiled site (WASM chunks, JS, CSS, the editor bundle), served from memory under
    // content-hashed names; the pages link to those names.
    let assets = Arc::new(crate::assets::Assets::load(&config.site_root)?);
    let asset_urls = assets.urls();

    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            provide_context(asset_urls.clone());
            // Scripts Leptos writes carry this response's nonce, the one in its CSP header.
            if let Some(nonce) = use_context::<http::request::Parts>()
                .and_then(|p| p.extensions.get::<CspNonce>().map(|n| n.0.clone()))
            {
                provide_context(leptos::nonce::Nonce::from_value(nonce));
            }
        }
    };

    let metrics = Arc::new(Metrics::new());
    let security = Arc::new(SecurityConfig {
        allowed_origins,
        hsts: config.secure_cookies,
    });
    let limiter = Arc::new(security::RateLimits {
        writes: AddressLimiter::new(config.write_rate_per_minute, config.write_burst),
        reads: AddressLimiter::new(config.read_rate_per_minute, config.read_burst),
    });

    let ops = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz).with_state(state.db.clone()))
        .route(
            "/metrics",
            get(render_metrics).with_state((
                metrics.clone(),
                config
                    .metrics_token
                    .as_ref()
                    .map(|t| Arc::<str>::from(t.expose())),
            )),
        )
        .route("/sandbox/run", get(crate::sandbox::run_page))
        .route(
            "/bookings/{id}/ics",
            get(crate::calendar::booking_ics).with_state(state.clone()),
        )
        .route(
            "/calendar/{file}",
            get(crate::calendar::feed).with_state(state.clone()),
        );
    let live = Router::new()
        .route("/ws", get(realtime::upgrade))
        .with_state(realtime::LiveContext {
            state: state.clone(),
            security: security.clone(),
            idle: config.ws_idle,
        })
        .route("/rooms/{id}/ws", get(crate::rooms::upgrade))
        .with_state(crate::rooms::RoomContext {
            state: state.clone(),
            security: security.clone(),
            ice: Arc::new(config.ice.clone()),
        });

    let app = Router::new()
        .leptos_routes_with_context(&leptos_options, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback({
            let pages = file_and_error_handler_with_context::<LeptosOptions, _>(context, shell);
            move |uri: Uri, options: State<LeptosOptions>, req: Request| {
                let (assets, pages) = (assets.clone(), pages.clone());
                async move {
                    match assets.respond(req.method(), uri.path(), req.headers()) {
                        Some(res) => res,
                        None => pages(uri, options, req).await,
                    }
                }
            }
        })
        .with_state(leptos_options)
        .merge(ops)
        .merge(live)
        // A person's data, as one zip (see privacy::export).
        .route(
            "/account/export",
            post(crate::privacy::export).with_state(crate::privacy::ExportContext {
                state: state.clone(),
                media_dir: config.media_dir(),
                scratch_dir: config.data_dir.join("tmp"),
            }),
        )
        // Lesson videos and captions, for whoever may see their course (see uploads::media).
        .route(
            "/media/{name}",
            get(uploads::media).with_state(uploads::UploadContext {
                state: state.clone(),
                media_dir: config.media_dir(),
            }),
        )
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        // Uploads stream to disk with their own, larger cap (checked again while streaming).
        .merge(
            Router::new()
                .route("/upload/video/{lesson_id}", post(uploads::upload_video))
                .with_state(uploads::UploadContext {
                    state: state.clone(),
                    media_dir: config.media_dir(),
                })
                .layer(DefaultBodyLimit::max(
                    usize::try_from(course_files::VIDEO_MAX_BYTES).unwrap_or(usize::MAX)
                        + (1 << 20),
                )),
        )
        .layer(from_fn(security::server_fn_status))
        // A panic in a handler becomes a 500 in words, and the process keeps serving.
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| {
                tracing::error!("a request handler panicked");
                security::error_response(app::error::AppError::Internal)
            },
        ))
        // Inside the rate limits (a kept page counts like any other) and the security
        // headers (which make the nonce the kept page is given).
        .layer(from_fn_with_state(
            crate::page_cache::PageCache::new(state.catalog.clone()),
            crate::page_cache::serve,
        ))
        .layer(from_fn_with_state(limiter, security::rate_limit))
        .layer(from_fn_with_state(security.clone(), security::same_origin))
        .layer(from_fn_with_state(security, security::headers))
        // Who the client is, before anything that limits or records by address.
        .layer(from_fn_with_state(
            Arc::new(config.trusted_proxies.clone()),
            crate::proxy::resolve_client,
        ))
        // Pages and JSON are compressed on the fly for clients that accept it (static files
        // arrive already compressed, and keep their encoding).
        .layer(
            CompressionLayer::new()
                .br(true)
                .gzip(true)
                .quality(CompressionLevel::Precise(4)),
        )
        .layer(TraceLayer::new_for_http())
        .layer(from_fn_with_state(metrics, metrics::track));
    Ok(app)
}

async fn readyz(State(db): State<Db>) -> impl IntoResponse {
    let check = tokio::time::timeout(Duration::from_secs(2), db.query("RETURN 1")).await;
    match check {
        Ok(Ok(_)) => (StatusCode::OK, "ready"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

/// `/metrics` for a scraper holding the token (`PAIRWISE_METRICS_TOKEN`); anyone else, and
/// everyone when no token is set, finds nothing there.
async fn render_metrics(
    State((metrics, token)): State<(Arc<Metrics>, Option<Arc<str>>)>,
    headers: http::HeaderMap,
) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (token, presented) {
        (Some(token), Some(presented))
            if security::constant_time_eq(token.as_bytes(), presented.trim().as_bytes()) =>
        {
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                metrics.render(),
            )
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Expires mentoring requests, sends session reminders and mails notifications, every
/// `interval`. Each step is a conditional write, so several app servers can run it at once.
async fn mentoring_jobs(state: AppState, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = app::mentoring::jobs::run_once(&state).await {
            tracing::warn!(error = %e, "mentoring jobs failed; will retry");
        }
    }
}

/// Awards, daily score snapshots and the recommender's retraining, every `interval`, in a
/// task of their own: the once-a-day pass over every learner must not hold up a session
/// reminder. Each step is idempotent, so several app servers can run it at once.
async fn progress_jobs(state: AppState, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = app::progress::service::run_once(&state).await {
            tracing::warn!(error = %e, "progress jobs failed; will retry");
        }
    }
}

/// Deletes unusable sessions every hour, so the table only holds live ones.
/// Accounts whose address is not confirmed this long after sign-up are removed: an address
/// someone else typed is free again, and nothing unconfirmed lingers.
pub const UNVERIFIED_GRACE_DAYS: i64 = 7;

/// One pass of that clean-up (hourly, with the session clean-up).
pub async fn purge_unverified(state: &AppState) -> usize {
    let now = state.clock.now();
    let before = now - chrono::Duration::days(UNVERIFIED_GRACE_DAYS);
    let candidates = match repo::unconfirmed_before(&state.db, before).await {
        Ok(users) => users,
        Err(e) => {
            tracing::warn!(error = %e, "listing unconfirmed accounts failed; will retry");
            return 0;
        }
    };
    let mut gone = 0;
    for user in candidates {
        use app::privacy::repo::{Erasure, erase};
        // One confirmed (or given a role) meanwhile is refused inside the erasure and kept.
        if erase(&state.db, &user, Erasure::NeverConfirmed, now)
            .await
            .is_ok()
        {
            // A cached session must not outlive its account by even a few seconds.
            state.sessions.forget_user(&user);
            state.live_sockets.end(&user.0, app::state::EndSockets::All);
            gone += 1;
        }
    }
    if gone > 0 {
        tracing::info!(accounts = gone, "removed accounts never confirmed");
    }
    gone
}

async fn expire_sessions(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let now = state.clock.now();
        let idle = chrono::Duration::from_std(state.auth.session_idle)
            .unwrap_or(chrono::Duration::days(7));
        if let Err(e) = repo::delete_expired_sessions(&state.db, now, now - idle).await {
            tracing::warn!(error = %e, "session clean-up failed; will retry");
        }
        purge_unverified(&state).await;
        purge_expired(&state).await;
    }
}

/// One pass of the retention clean-up (hourly): what is older than the operator's retention
/// goes (see `app::privacy::retention`).
pub async fn purge_expired(state: &AppState) -> Option<app::privacy::repo::Purged> {
    match app::privacy::repo::purge_expired(&state.db, state.retention, state.clock.now()).await {
        Ok(purged) => {
            if purged != app::privacy::repo::Purged::default() {
                tracing::info!(?purged, "removed personal data past its retention");
            }
            Some(purged)
        }
        Err(e) => {
            tracing::warn!(error = %e, "retention clean-up failed; will retry");
            None
        }
    }
}
