//! Health, readiness, metrics, the interface language, and demo mode.

use reqwest::StatusCode;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app_with(&[("PAIRWISE_METRICS_TOKEN", "scrape-me-please")]).await;
    let c = app.browser();
    assert_eq!(
        c.get(app.url("/healthz"))
            .send()
            .await
            .expect("sent")
            .text()
            .await
            .expect("text"),
        "ok"
    );
    let ready = c.get(app.url("/readyz")).send().await.expect("sent");
    assert_eq!(ready.status(), StatusCode::OK);
    c.get(app.url("/signin")).send().await.expect("sent");
    // Without the token (or with another) there is nothing to see.
    for auth in ["", "Bearer wrong-token", "Basic c2NyYXBlLW1lLXBsZWFzZQ=="] {
        let res = c
            .get(app.url("/metrics"))
            .header("authorization", auth)
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{auth}");
    }
    // An invented method is counted, but does not become a label of its own.
    reqwest::Client::new()
        .request(
            reqwest::Method::from_bytes(b"BREW").unwrap(),
            app.url("/signin"),
        )
        .send()
        .await
        .expect("sent");
    let metrics = c
        .get(app.url("/metrics"))
        .header("authorization", "Bearer scrape-me-please")
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains(
            "pairwise_http_requests_total{route=\"/signin\",method=\"GET\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("pairwise_http_request_duration_seconds_bucket{route=\"/signin\",method=\"GET\",le=\"+Inf\"} 1"));
    assert!(!metrics.contains("BREW"), "{metrics}");
    assert!(metrics.contains("method=\"other\""), "{metrics}");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_page_is_a_404_with_words() {
    let app = spawn_app().await;
    let res = app
        .browser()
        .get(app.url("/no/such/page"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.expect("html").contains("Page not found"));
    app.stop().await;
}

#[tokio::test]
async fn the_page_language_follows_accept_language_and_the_remembered_choice() {
    let app = spawn_app().await;
    let c = app.browser();
    let en = c
        .get(app.url("/signin"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("html");
    assert!(en.contains("<html lang=\"en\"") && en.contains("Sign in"));
    let zh = c
        .get(app.url("/signin"))
        .header("accept-language", "zh-CN,zh;q=0.9,en;q=0.5")
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("html");
    assert!(
        zh.contains("<html lang=\"zh-Hans\"") && zh.contains("登录"),
        "{zh}"
    );
    // A remembered choice beats the browser's header.
    let res = app.call(&c, "set_locale", &[("locale", "zh-Hans")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = c
        .get(app.url("/"))
        .header("accept-language", "en")
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("html");
    assert!(page.contains("在导师身边学编程"));
    let res = app.call(&c, "set_locale", &[("locale", "klingon")]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}

#[tokio::test]
async fn demo_mode_creates_the_accounts_the_home_page_shows() {
    let app = spawn_app_with(&[("PAIRWISE_DEMO", "true")]).await;
    let home = app
        .browser()
        .get(app.url("/"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("html");
    for (email, password) in server::demo::demo_accounts()
        .iter()
        .map(|(a, _, _)| (a.email.clone(), a.password.clone()))
    {
        assert!(home.contains(&email), "home page lists {email}");
        let res = app.sign_in(&app.browser(), &email, &password).await;
        assert_eq!(res.status(), StatusCode::OK, "{email} signs in");
    }
    app.stop().await;
}

/// The site's static files are served under names with a hash of their content, cached for a
/// year as immutable, in the encoding the browser asks for; pages are never cached.
#[tokio::test]
async fn static_files_are_hashed_immutable_and_compressed_and_pages_are_not_cached() {
    let site = tempfile::tempdir().expect("temp dir");
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    let css = "body { color: black; }\n".repeat(40);
    std::fs::write(pkg.join("pairwise.css"), &css).expect("css");
    let root = site.path().display().to_string();
    let app = spawn_app_with(&[("PAIRWISE_SITE_ROOT", &root)]).await;
    let c = app.browser();

    let page = c
        .get(app.url("/courses"))
        .header("accept-encoding", "br")
        .send()
        .await
        .expect("sent");
    assert_eq!(
        page.headers()["content-encoding"],
        "br",
        "pages are compressed"
    );
    assert_eq!(page.headers()["cache-control"], "private, no-cache");
    assert!(
        page.headers()["vary"]
            .to_str()
            .unwrap_or_default()
            .contains("accept-encoding")
    );
    let html = c
        .get(app.url("/courses"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("html");
    let href = html
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.starts_with("/pkg/pairwise.") && h.ends_with(".css"))
        .expect("the page links its stylesheet")
        .to_string();
    assert_ne!(href, "/pkg/pairwise.css", "the link names the hashed file");

    let res = c
        .get(app.url(&href))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/css")
    );
    let compressed = res.bytes().await.expect("body").len();
    assert!(
        compressed < css.len() / 4,
        "{compressed} bytes of {}",
        css.len()
    );
    let res = c
        .get(app.url(&href))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("sent");
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let plain = c.get(app.url(&href)).send().await.expect("sent");
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.text().await.expect("css"), css);
    // The plain name still answers, and must be revalidated.
    let res = c
        .get(app.url("/pkg/pairwise.css"))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    app.stop().await;
}

#[tokio::test]
async fn scheduled_backups_are_private_restorable_and_only_the_newest_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let who = app.browser();
    let res = app
        .sign_up(&who, "kept@example.org", "a perfectly fine passphrase")
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let dir = tempfile::tempdir().expect("temp dir");
    let schedule = server::backup::Schedule {
        dir: dir.path().join("backups"),
        every: std::time::Duration::from_secs(3600),
        keep: 2,
    };
    let start = chrono::Utc::now();
    let mut written = Vec::new();
    for hour in 0..3 {
        let file = server::backup::scheduled_once(
            &app.state.db,
            &app.media_dir,
            &schedule,
            start + chrono::Duration::hours(hour),
        )
        .await
        .expect("backup written");
        written.push(file);
    }
    let mut left: Vec<_> = std::fs::read_dir(&schedule.dir)
        .expect("backups")
        .map(|e| e.expect("entry").path())
        .collect();
    left.sort();
    assert_eq!(left, written[1..].to_vec(), "the two newest are kept");
    let folder = std::fs::metadata(&schedule.dir)
        .expect("folder")
        .permissions()
        .mode();
    assert_eq!(folder & 0o777, 0o700, "{folder:o}");
    for f in &left {
        let mode = std::fs::metadata(f).expect("file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // The newest restores into an empty database with the account in it.
    let fresh = server::db::connect_db(&server::config::DatabaseConfig {
        url: "mem://".into(),
        user: None,
        password: None,
        namespace: "pairwise".into(),
        name: "main".into(),
    })
    .await
    .expect("empty database");
    server::backup::restore(&fresh, &dir.path().join("media"), &left[1])
        .await
        .expect("restored");
    let mut res = fresh
        .query("SELECT VALUE email FROM user")
        .await
        .expect("users");
    let emails: Vec<String> = res.take(0).expect("emails");
    assert!(
        emails.contains(&"kept@example.org".to_string()),
        "{emails:?}"
    );
    app.stop().await;
}

/// One page as a visitor without cookies gets it: its HTML and the nonce its CSP names.
async fn visit(client: &reqwest::Client, url: &str, language: &str) -> (String, String) {
    let res = client
        .get(url)
        .header("accept-language", language)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("the policy names a nonce")
        .to_string();
    (res.text().await.expect("html"), nonce)
}

#[tokio::test]
async fn pages_kept_for_visitors_without_cookies_get_their_own_nonce_language_and_news() {
    let app = spawn_app().await;
    // No cookie store: every request is a first visit.
    let visitor = reqwest::Client::new();
    let (home, nonce) = visit(&visitor, &app.url("/"), "en").await;
    let (again, second) = visit(&visitor, &app.url("/"), "en").await;
    assert_ne!(nonce, second, "a new nonce for every answer");
    for (html, nonce) in [(&home, &nonce), (&again, &second)] {
        assert!(
            html.contains(&format!("nonce=\"{nonce}\"")),
            "the page's scripts carry the nonce its policy names"
        );
    }
    assert!(
        !again.contains(&nonce),
        "nothing of the first answer's nonce"
    );
    assert_eq!(
        again.replace(&second, &nonce),
        home,
        "otherwise the same page"
    );
    assert!(home.contains("<html lang=\"en\""));
    let (chinese, _) = visit(&visitor, &app.url("/"), "zh-CN,zh;q=0.9").await;
    assert!(
        chinese.contains("<html lang=\"zh-Hans\""),
        "each language kept apart"
    );
    let (english, _) = visit(&visitor, &app.url("/"), "en-GB").await;
    assert!(english.contains("<html lang=\"en\""));

    // The catalog's first page shows a change on the very next request.
    let title = "Kept pages never go stale";
    let (catalog, _) = visit(&visitor, &app.url("/courses"), "en").await;
    assert!(!catalog.contains(title));
    let author = app.user_with_roles("keeper@example.org", &["mentor"]).await;
    let form = [
        ("slug", "kept"),
        ("title", title),
        ("level", "beginner"),
        ("language", "en"),
        ("tags", "rust"),
    ];
    assert_eq!(
        app.call(&author, "create_course", &form).await.status(),
        StatusCode::OK
    );
    let (catalog, _) = visit(&visitor, &app.url("/courses"), "en").await;
    assert!(!catalog.contains(title), "a draft is not in the catalog");
    let publish = |published: &'static str| [("slug", "kept"), ("published", published)];
    assert_eq!(
        app.call(&author, "publish_course", &publish("true"))
            .await
            .status(),
        StatusCode::OK
    );
    let (catalog, _) = visit(&visitor, &app.url("/courses"), "en").await;
    assert!(catalog.contains(title), "published: shown at once");
    let (catalog, _) = visit(&visitor, &app.url("/courses"), "en").await;
    assert!(catalog.contains(title), "and kept");
    assert_eq!(
        app.call(&author, "publish_course", &publish("false"))
            .await
            .status(),
        StatusCode::OK
    );
    let (catalog, _) = visit(&visitor, &app.url("/courses"), "en").await;
    assert!(!catalog.contains(title), "withdrawn: gone at once");

    // A signed-in reader is never given a kept page.
    let home = author
        .get(app.url("/"))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("html");
    assert!(home.contains("data-testid=\"welcome\""), "{home}");
    assert!(!home.contains("data-testid=\"cta-sign-up\""));
}
