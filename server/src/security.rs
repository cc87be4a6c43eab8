//! Request guards and response headers that every route passes through.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::accounts::session::ClientAddr;
use app::error::AppError;
use app::ui::form::DONE_PARAM;
use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use rand::RngCore;

/// The CSP nonce of one response, shared with the Leptos renderer through request extensions.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

#[derive(Clone, Debug)]
pub struct SecurityConfig {
    /// Origins allowed to change state (`scheme://host:port`).
    pub allowed_origins: Vec<String>,
    pub hsts: bool,
}

/// An error response in the same JSON shape server functions use, with its status.
pub fn error_response(err: AppError) -> Response {
    let status =
        StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = (status, axum::Json(&err)).into_response();
    if let AppError::TooManyAttempts { retry_after_secs }
    | AppError::RateLimited { retry_after_secs } = err
        && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn changes_state(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Refuses state-changing requests sent by another site: the `Origin` header must be one of
/// ours; without it, `Sec-Fetch-Site` must say same-origin. Requests with neither come from
/// non-browser clients, which carry no ambient cookies of a victim, and pass.
pub async fn same_origin(
    State(cfg): State<Arc<SecurityConfig>>,
    req: Request,
    next: Next,
) -> Response {
    if changes_state(req.method()) && !is_same_origin(&cfg, req.headers()) {
        tracing::warn!(
            method = %req.method(),
            path = %req.uri().path(),
            origin = ?req.headers().get(header::ORIGIN),
            "cross-origin request refused"
        );
        return error_response(AppError::CrossOrigin);
    }
    next.run(req).await
}

pub fn is_same_origin(cfg: &SecurityConfig, headers: &axum::http::HeaderMap) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        return cfg.allowed_origins.iter().any(|o| o == origin);
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

/// Security headers on every response, with a fresh CSP nonce per response.
pub async fn headers(
    State(cfg): State<Arc<SecurityConfig>>,
    mut req: Request,
    next: Next,
) -> Response {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    let nonce = hex::encode(bytes);
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data: blob:; media-src 'self' blob: https:; \
         font-src 'self'; connect-src 'self'; worker-src 'self' blob:; frame-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    // A handler that sets its own policy (the code sandbox, framed by our own pages) keeps it.
    let own_policy = h.contains_key(header::CONTENT_SECURITY_POLICY);
    if !own_policy && let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    let fixed: [(HeaderName, &str); 6] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        // Same-origin only: no-JavaScript forms need the Referer to come back to their page.
        (header::REFERRER_POLICY, "same-origin"),
        (
            header::X_FRAME_OPTIONS,
            if own_policy { "SAMEORIGIN" } else { "DENY" },
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=()",
        ),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    // Pages are made for one request (a nonce, maybe a signed-in user's data): never reused
    // from a cache without asking, and never stored by a shared cache.
    let is_html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if is_html && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    if cfg.hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    res
}

/// Removes `done=` parameters from a URL's query (keeping its fragment).
fn without_done(url: &str) -> String {
    without_params(url, |k| k == DONE_PARAM)
}

/// Removes the query parameters whose names `drop` picks (keeping the fragment).
fn without_params(url: &str, drop: impl Fn(&str) -> bool) -> String {
    let (url, fragment) = match url.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (url, None),
    };
    let mut out = match url.split_once('?') {
        Some((base, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|kv| !kv.is_empty() && !kv.split('=').next().is_some_and(&drop))
                .collect();
            if kept.is_empty() {
                base.to_string()
            } else {
                format!("{base}?{}", kept.join("&"))
            }
        }
        None => url.to_string(),
    };
    if let Some(f) = fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// A form posted without JavaScript to a server function is redirected back to its page
/// (server_fn's form redirects): on success, this adds `done=<function>` to that address so
/// the page can say that it worked (see `app::ui::form::successes`). A function's own
/// redirect elsewhere, and error redirects (`__err=`), are left as they are, but lose a
/// stale `done`.
fn mark_done(location: &str, referer: Option<&str>, function: &str) -> String {
    let location_clean = without_done(location);
    // The page the form was on may itself be the answer to an earlier failed post (server_fn
    // puts `__err` and its kin in the address): it is still the same page.
    let page = |url: &str| -> String {
        without_params(url, |k| k == DONE_PARAM || k.starts_with("__"))
            .split('#')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    if location.contains("__err=") || referer.is_none_or(|r| page(r) != page(&location_clean)) {
        return location_clean;
    }
    let (base, fragment) = match location_clean.split_once('#') {
        Some((b, f)) => (b.to_string(), format!("#{f}")),
        None => (location_clean.clone(), String::new()),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{DONE_PARAM}={function}{fragment}")
}

/// Server functions answer errors with status 500 and the error in the body; this gives the
/// response the status the `AppError` asks for (422, 401, 403, 429...), with `Retry-After`.
/// Form posts that redirect back are marked `done` on success ([`mark_done`]).
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let function = req
        .uri()
        .path()
        .strip_prefix("/api/")
        .filter(|_| req.method() == Method::POST)
        .map(str::to_string);
    let referer = req
        .headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut res = next.run(req).await;
    if let Some(function) = function
        && res.status().is_redirection()
        && let Some(location) = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
        && let Ok(v) = HeaderValue::from_str(&mark_done(location, referer.as_deref(), &function))
    {
        res.headers_mut().insert(header::LOCATION, v);
    }
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res
            .headers()
            .contains_key(server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(err.status_code()).unwrap_or(parts.status);
        if let AppError::TooManyAttempts { retry_after_secs }
        | AppError::RateLimited { retry_after_secs } = err
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            parts.headers.insert(header::RETRY_AFTER, v);
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Token buckets per client address. An IPv6 client is counted by its /64 (one subscriber
/// usually holds a whole /64, and could otherwise start a fresh bucket per address).
#[derive(Debug)]
pub struct AddressLimiter {
    per_minute: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, TokenBucket>>,
}

/// Most addresses remembered at once: past this the full buckets are forgotten (they would
/// start full anyway), and if that is not enough the longest idle half.
const MAX_ADDRESSES: usize = 50_000;

impl AddressLimiter {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self {
            per_minute: f64::from(per_minute),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::default(),
        }
    }

    /// Takes one token for `ip`; on refusal, the seconds until one is available.
    pub fn take(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let key = bucket_key(ip);
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_ADDRESSES && !buckets.contains_key(&key) {
            let full_after =
                Duration::from_secs_f64(self.burst / (self.per_minute / 60.0).max(f64::EPSILON));
            buckets.retain(|_, bucket| now.duration_since(bucket.at) < full_after);
            if buckets.len() >= MAX_ADDRESSES {
                let mut idle: Vec<Instant> = buckets.values().map(|b| b.at).collect();
                idle.sort_unstable();
                let cut = idle[idle.len() / 2];
                buckets.retain(|_, bucket| bucket.at > cut);
            }
        }
        buckets
            .entry(key)
            .or_insert_with(|| TokenBucket::new(self.per_minute / 60.0, self.burst, now))
            .take(now)
    }

    pub fn len(&self) -> usize {
        self.buckets.lock().map_or(0, |b| b.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The two buckets of a client: state-changing requests, and read-only server functions
/// (which are POSTs too, but must never use up an honest user's writes).
#[derive(Debug)]
pub struct RateLimits {
    pub writes: AddressLimiter,
    pub reads: AddressLimiter,
}

/// Server functions that change nothing (they are POSTs like the rest). A test checks each is
/// a real endpoint, so a renamed one cannot silently fall back to the write bucket... or
/// the other way round.
pub const READ_ONLY_FUNCTIONS: &[&str] = &[
    "analytics",
    "current_user",
    "demo_accounts",
    "find_mentors",
    "get_booking",
    "get_course",
    "get_course_draft",
    "get_email_prefs",
    "get_exercise",
    "get_exercise_draft",
    "get_lesson_draft",
    "get_mentorship",
    "get_notifications",
    "get_profile",
    "get_request",
    "get_room",
    "get_submission",
    "leaderboard",
    "learner_dashboard",
    "list_users",
    "mentor_dashboard",
    "mentor_directory",
    "mentor_page",
    "mentoring_home",
    "my_courses",
    "my_mentor_settings",
    "my_rooms",
    "needs_defaults",
    "preview_markdown",
    "reschedule_options",
    "room_code",
    "room_replay",
    "search_courses",
];

fn is_read_only_call(path: &str) -> bool {
    path.strip_prefix("/api/")
        .is_some_and(|name| READ_ONLY_FUNCTIONS.contains(&name))
}

/// Same length or not, takes the same time: compares digests.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

// The token bucket lives beside the other shared limits in `app::state` (rooms keep one per
// participant); the server's limiters use it from there.
pub use app::state::TokenBucket;

pub async fn rate_limit(
    State(limits): State<Arc<RateLimits>>,
    req: Request,
    next: Next,
) -> Response {
    if changes_state(req.method())
        && let Some(ip) = ClientAddr::of(req.extensions())
    {
        let bucket = if is_read_only_call(req.uri().path()) {
            &limits.reads
        } else {
            &limits.writes
        };
        if let Err(retry_after_secs) = bucket.take(ip, Instant::now()) {
            return error_response(AppError::RateLimited { retry_after_secs });
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn cfg() -> SecurityConfig {
        SecurityConfig {
            allowed_origins: vec!["http://127.0.0.1:3000".into()],
            hsts: false,
        }
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_limiter_keeps_a_bounded_map_and_counts_an_ipv6_subscriber_once() {
        let l = AddressLimiter::new(60, 2);
        let now = Instant::now();
        // Addresses in one /64 share a bucket.
        assert!(l.take("2001:db8:1:2::1".parse().unwrap(), now).is_ok());
        assert!(l.take("2001:db8:1:2::ffff".parse().unwrap(), now).is_ok());
        assert!(
            l.take("2001:db8:1:2:abcd::9".parse().unwrap(), now)
                .is_err()
        );
        assert!(l.take("2001:db8:1:3::1".parse().unwrap(), now).is_ok());
        // A flood of fresh addresses, all still busy (not full): the map stays bounded.
        let l = AddressLimiter::new(1, 5);
        for i in 0..(MAX_ADDRESSES as u32 + 10_000) {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = l.take(ip, now + Duration::from_micros(u64::from(i)));
        }
        assert!(l.len() <= MAX_ADDRESSES, "{}", l.len());
    }

    #[test]
    fn read_only_functions_are_real_endpoints() {
        let paths: Vec<String> = server_fn::axum::server_fn_paths()
            .map(|(path, _)| path.to_string())
            .collect();
        for name in READ_ONLY_FUNCTIONS {
            assert!(
                paths.iter().any(|p| p == &format!("/api/{name}")),
                "{name} is not a server function"
            );
        }
        assert!(is_read_only_call("/api/current_user"));
        assert!(!is_read_only_call("/api/sign_in"));
    }

    #[test]
    fn only_our_origin_or_same_origin_fetches_may_change_state() {
        let c = cfg();
        assert!(is_same_origin(
            &c,
            &headers(&[("origin", "http://127.0.0.1:3000")])
        ));
        assert!(!is_same_origin(
            &c,
            &headers(&[("origin", "https://evil.example")])
        ));
        assert!(!is_same_origin(&c, &headers(&[("origin", "null")])));
        assert!(is_same_origin(
            &c,
            &headers(&[("sec-fetch-site", "same-origin")])
        ));
        assert!(!is_same_origin(
            &c,
            &headers(&[("sec-fetch-site", "cross-site")])
        ));
        assert!(!is_same_origin(
            &c,
            &headers(&[("sec-fetch-site", "same-site")])
        ));
        // An Origin header decides even if Sec-Fetch-Site disagrees.
        assert!(!is_same_origin(
            &c,
            &headers(&[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "same-origin")
            ])
        ));
    }

    #[test]
    fn a_form_redirected_back_after_success_is_marked_done_and_nothing_else_is() {
        let page = "http://127.0.0.1:3000/profile";
        assert_eq!(
            mark_done(page, Some(page), "update_profile"),
            "http://127.0.0.1:3000/profile?done=update_profile"
        );
        // A second save from the marked page: one mark, not two.
        let marked = "http://127.0.0.1:3000/profile?done=update_profile";
        assert_eq!(
            mark_done(marked, Some(marked), "update_profile"),
            "http://127.0.0.1:3000/profile?done=update_profile"
        );
        // An error after a success loses the stale mark.
        let failed = "http://127.0.0.1:3000/profile?done=update_profile&__err=x&__path=y";
        assert_eq!(
            mark_done(failed, Some(marked), "update_profile"),
            "http://127.0.0.1:3000/profile?__err=x&__path=y"
        );
        // A success right after a failed try on the same page (its address still carries the
        // failure) is marked too.
        let after_failure = "http://127.0.0.1:3000/profile?__err=x&__path=y";
        assert_eq!(
            mark_done(page, Some(after_failure), "request_email_change"),
            "http://127.0.0.1:3000/profile?done=request_email_change"
        );
        // The function's own redirect elsewhere stays as it is.
        assert_eq!(
            mark_done("/submissions/abc", Some(page), "submit_exercise"),
            "/submissions/abc"
        );
        // Other parameters and the fragment are kept.
        assert_eq!(
            mark_done(
                "/courses?tag=rust#list",
                Some("/courses?tag=rust"),
                "enrol_course"
            ),
            "/courses?tag=rust&done=enrol_course#list"
        );
    }

    #[test]
    fn the_write_limiter_allows_a_burst_then_refills_over_time() {
        let l = AddressLimiter::new(60, 3);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take(ip, t0).is_ok());
        }
        assert_eq!(l.take(ip, t0), Err(1));
        assert!(l.take(ip, t0 + Duration::from_secs(1)).is_ok());
        // Another address has its own bucket.
        assert!(l.take([10, 0, 0, 2].into(), t0).is_ok());
    }
}
