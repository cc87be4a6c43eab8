//! The authorization matrix: every server function, and who may call it. A server function
//! that is not listed here fails `every_server_function_is_in_the_matrix`, so each new
//! endpoint must say who may call it. Later features add their rows to `ENDPOINTS`.

use std::collections::BTreeSet;

use reqwest::StatusCode;

use crate::helpers::{TestApp, spawn_app};

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    User,
    /// Mentors (and admins).
    Mentor,
    /// Admins only.
    Admin,
}

/// A caller in the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Learner,
    Mentor,
    Admin,
}

impl Caller {
    fn may(self, access: Access) -> bool {
        match access {
            Access::Public => true,
            Access::User => self != Caller::Anonymous,
            Access::Mentor => matches!(self, Caller::Mentor | Caller::Admin),
            Access::Admin => self == Caller::Admin,
        }
    }
}

pub struct Endpoint {
    pub path: &'static str,
    pub access: Access,
    /// Well-formed arguments, so a refusal can only come from the access check.
    pub args: &'static [(&'static str, &'static str)],
}

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: "/api/sign_up",
        access: Access::Public,
        args: &[
            ("email", "new-{caller}@example.org"),
            ("display_name", "New"),
            ("password", "a perfectly fine passphrase"),
        ],
    },
    Endpoint {
        path: "/api/sign_in",
        access: Access::Public,
        args: &[
            ("email", "nobody@example.org"),
            ("password", "whatever it is"),
        ],
    },
    Endpoint {
        path: "/api/sign_out",
        access: Access::Public,
        args: &[],
    },
    Endpoint {
        path: "/api/current_user",
        access: Access::Public,
        args: &[],
    },
    Endpoint {
        path: "/api/demo_accounts",
        access: Access::Public,
        args: &[],
    },
    Endpoint {
        path: "/api/set_locale",
        access: Access::Public,
        args: &[("locale", "zh-Hans")],
    },
    Endpoint {
        path: "/api/verify_email",
        access: Access::Public,
        args: &[(
            "token",
            "0000000000000000000000000000000000000000000000000000000000000000",
        )],
    },
    Endpoint {
        path: "/api/request_password_reset",
        access: Access::Public,
        args: &[("email", "nobody@example.org")],
    },
    Endpoint {
        path: "/api/reset_password",
        access: Access::Public,
        args: &[
            (
                "token",
                "0000000000000000000000000000000000000000000000000000000000000000",
            ),
            ("new_password", "another fine passphrase"),
        ],
    },
    Endpoint {
        path: "/api/get_profile",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/update_profile",
        access: Access::User,
        args: &[("display_name", "Renamed"), ("timezone", "UTC")],
    },
    Endpoint {
        path: "/api/change_password",
        access: Access::User,
        args: &[
            ("current_password", "wrong password"),
            ("new_password", "another fine passphrase"),
        ],
    },
    Endpoint {
        path: "/api/resend_verification",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/list_users",
        access: Access::Admin,
        args: &[],
    },
    Endpoint {
        path: "/api/set_user_role",
        access: Access::Admin,
        args: &[
            ("user_id", "nosuchuser"),
            ("role", "mentor"),
            ("granted", "true"),
        ],
    },
    Endpoint {
        path: "/api/admin_search_users",
        access: Access::Admin,
        args: &[("q", "nobody")],
    },
    Endpoint {
        path: "/api/admin_user",
        access: Access::Admin,
        args: &[("id", "nosuchuser")],
    },
    Endpoint {
        path: "/api/suspend_user",
        access: Access::Admin,
        args: &[("user_id", "nosuchuser"), ("reason", "testing")],
    },
    Endpoint {
        path: "/api/unsuspend_user",
        access: Access::Admin,
        args: &[("user_id", "nosuchuser")],
    },
    Endpoint {
        path: "/api/end_user_session",
        access: Access::Admin,
        args: &[("user_id", "nosuchuser"), ("session", "nosuchsession")],
    },
    Endpoint {
        path: "/api/admin_audit_log",
        access: Access::Admin,
        args: &[("kind", "sign_in")],
    },
    Endpoint {
        path: "/api/my_mentor_application",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/apply_to_mentor",
        access: Access::User,
        args: &[("headline", ""), ("about", "")],
    },
    Endpoint {
        path: "/api/mentor_applications",
        access: Access::Admin,
        args: &[],
    },
    Endpoint {
        path: "/api/decide_mentor_application",
        access: Access::Admin,
        args: &[("user_id", "nosuchuser"), ("decision", "approve")],
    },
    Endpoint {
        path: "/api/consent_versions",
        access: Access::Public,
        args: &[],
    },
    Endpoint {
        path: "/api/legal_text",
        access: Access::Public,
        args: &[("kind", "terms")],
    },
    Endpoint {
        path: "/api/admin_legal_texts",
        access: Access::Admin,
        args: &[],
    },
    Endpoint {
        path: "/api/publish_legal_text",
        access: Access::Admin,
        args: &[("kind", "terms"), ("body", "")],
    },
    Endpoint {
        path: "/api/search_courses",
        access: Access::Public,
        args: &[("query[q]", "rust")],
    },
    Endpoint {
        path: "/api/get_course",
        access: Access::Public,
        args: &[("slug", "no-such-course")],
    },
    Endpoint {
        path: "/api/get_lesson",
        access: Access::Public,
        args: &[("lesson_id", "nosuchlesson")],
    },
    Endpoint {
        path: "/api/visit_lesson",
        access: Access::User,
        args: &[("lesson_id", "nosuchlesson")],
    },
    Endpoint {
        path: "/api/enrol_course",
        access: Access::User,
        args: &[("slug", "no-such-course")],
    },
    Endpoint {
        path: "/api/leave_course",
        access: Access::User,
        args: &[("slug", "no-such-course")],
    },
    Endpoint {
        path: "/api/rate_course",
        access: Access::User,
        args: &[("slug", "no-such-course"), ("stars", "5")],
    },
    Endpoint {
        path: "/api/my_courses",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/complete_lesson",
        access: Access::User,
        args: &[("lesson_id", "nosuchlesson")],
    },
    Endpoint {
        path: "/api/report_watch",
        access: Access::User,
        args: &[
            ("lesson_id", "nosuchlesson"),
            ("played", "0-1"),
            ("position", "1"),
        ],
    },
    Endpoint {
        path: "/api/submit_quiz",
        access: Access::User,
        args: &[("lesson_id", "nosuchlesson"), ("answers[0]", "0:0")],
    },
    Endpoint {
        path: "/api/create_course",
        access: Access::Mentor,
        args: &[
            ("slug", "x"),
            ("title", ""),
            ("level", "beginner"),
            ("language", "en"),
        ],
    },
    Endpoint {
        path: "/api/preview_markdown",
        access: Access::Mentor,
        args: &[("text", "# hi")],
    },
    Endpoint {
        path: "/api/get_course_draft",
        access: Access::User,
        args: &[("slug", "no-such-course")],
    },
    Endpoint {
        path: "/api/update_course",
        access: Access::User,
        args: &[
            ("slug", "no-such-course"),
            ("title", "T"),
            ("level", "beginner"),
            ("language", "en"),
        ],
    },
    Endpoint {
        path: "/api/publish_course",
        access: Access::User,
        args: &[("slug", "no-such-course"), ("published", "true")],
    },
    Endpoint {
        path: "/api/add_section",
        access: Access::User,
        args: &[("slug", "no-such-course"), ("title", "S")],
    },
    Endpoint {
        path: "/api/add_lesson",
        access: Access::User,
        args: &[
            ("slug", "no-such-course"),
            ("section_id", "x"),
            ("title", "L"),
            ("kind", "text"),
        ],
    },
    Endpoint {
        path: "/api/get_lesson_draft",
        access: Access::User,
        args: &[("lesson_id", "nosuchlesson")],
    },
    Endpoint {
        path: "/api/update_lesson",
        access: Access::User,
        args: &[("lesson_id", "nosuchlesson"), ("title", "T")],
    },
    Endpoint {
        path: "/api/move_lesson",
        access: Access::User,
        args: &[("lesson_id", "nosuchlesson"), ("direction", "up")],
    },
    Endpoint {
        path: "/api/delete_lesson",
        access: Access::User,
        args: &[("lesson_id", "nosuchlesson")],
    },
    // Exercises: who may see or change a given exercise, submission or comment (its learner,
    // the course's authors, admins) is checked per object in `exercises.rs`.
    Endpoint {
        path: "/api/get_exercise",
        access: Access::Public,
        args: &[("lesson_id", "nosuchlesson")],
    },
    Endpoint {
        path: "/api/submit_exercise",
        access: Access::User,
        args: &[("lesson_id", "nosuchlesson"), ("code", "1")],
    },
    Endpoint {
        path: "/api/get_submission",
        access: Access::User,
        args: &[("id", "nosuchsubmission"), ("against", "")],
    },
    Endpoint {
        path: "/api/add_review_comment",
        access: Access::User,
        args: &[("submission_id", "nosuch"), ("line", "1"), ("body", "b")],
    },
    Endpoint {
        path: "/api/update_review_comment",
        access: Access::User,
        args: &[("comment_id", "nosuch"), ("body", "b")],
    },
    Endpoint {
        path: "/api/get_notifications",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/mark_notifications_read",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/get_exercise_draft",
        access: Access::User,
        args: &[("lesson_id", "nosuchlesson")],
    },
    Endpoint {
        path: "/api/validate_exercise",
        access: Access::User,
        args: &[("lesson_id", "nosuchlesson"), ("toml", "x")],
    },
    Endpoint {
        path: "/api/my_rooms",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/create_room",
        access: Access::Mentor,
        args: &[("title", "")],
    },
    Endpoint {
        path: "/api/room_code",
        access: Access::User,
        args: &[("room", "nosuchroom")],
    },
    Endpoint {
        path: "/api/room_replay",
        access: Access::User,
        args: &[("room", "nosuchroom")],
    },
    Endpoint {
        path: "/api/open_in_session",
        access: Access::User,
        args: &[("lesson_id", "nosuchlesson"), ("code", "let x = 1;")],
    },
    Endpoint {
        path: "/api/get_room",
        access: Access::User,
        args: &[("id", "nosuchroom")],
    },
    Endpoint {
        path: "/api/invite_to_room",
        access: Access::User,
        args: &[("room", "nosuchroom"), ("email", "someone@example.org")],
    },
    Endpoint {
        path: "/api/withdraw_invite",
        access: Access::User,
        args: &[("room", "nosuchroom"), ("email", "someone@example.org")],
    },
    Endpoint {
        path: "/api/remove_from_room",
        access: Access::User,
        args: &[("room", "nosuchroom"), ("user", "nosuchuser")],
    },
    Endpoint {
        path: "/api/set_room_open",
        access: Access::User,
        args: &[("room", "nosuchroom"), ("open", "false")],
    },
    Endpoint {
        path: "/api/send_chat",
        access: Access::User,
        args: &[
            ("room", "nosuchroom"),
            ("key", "abcdefgh12"),
            ("body", "hi"),
        ],
    },
    Endpoint {
        path: "/api/my_mentor_settings",
        access: Access::Mentor,
        args: &[],
    },
    Endpoint {
        path: "/api/save_mentor_settings",
        access: Access::Mentor,
        args: &[
            ("capacity", "3"),
            ("session_minutes", "60"),
            ("windows", "mon 10:00-12:00"),
        ],
    },
    Endpoint {
        path: "/api/mentor_directory",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/mentor_page",
        access: Access::User,
        args: &[("id", "nosuchmentor")],
    },
    Endpoint {
        path: "/api/needs_defaults",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/find_mentors",
        access: Access::User,
        args: &[
            ("skills", "Rust: beginner"),
            ("windows", "mon 10:00-12:00"),
            ("timezone", "UTC"),
        ],
    },
    Endpoint {
        path: "/api/send_request",
        access: Access::User,
        args: &[
            ("mentor", "nosuchmentor"),
            ("goals", "learn"),
            ("skills", "Rust: beginner"),
            ("windows", "mon 10:00-12:00"),
            ("timezone", "UTC"),
        ],
    },
    Endpoint {
        path: "/api/get_request",
        access: Access::User,
        args: &[("id", "nosuchrequest")],
    },
    Endpoint {
        path: "/api/mark_request_viewed",
        access: Access::User,
        args: &[("id", "nosuchrequest")],
    },
    Endpoint {
        path: "/api/answer_request",
        access: Access::User,
        args: &[("id", "nosuchrequest"), ("accept", "true")],
    },
    Endpoint {
        path: "/api/withdraw_request",
        access: Access::User,
        args: &[("id", "nosuchrequest")],
    },
    Endpoint {
        path: "/api/mentoring_home",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/get_mentorship",
        access: Access::User,
        args: &[("id", "nosuch_mentorship")],
    },
    Endpoint {
        path: "/api/end_mentorship",
        access: Access::User,
        args: &[("mentorship", "nosuch_mentorship")],
    },
    Endpoint {
        path: "/api/book_session",
        access: Access::User,
        args: &[
            ("mentorship", "nosuch_mentorship"),
            ("start", "2030-01-01T10:00:00Z"),
        ],
    },
    Endpoint {
        path: "/api/get_booking",
        access: Access::User,
        args: &[("id", "nosuchbooking")],
    },
    Endpoint {
        path: "/api/cancel_session",
        access: Access::User,
        args: &[("id", "nosuchbooking")],
    },
    Endpoint {
        path: "/api/reschedule_session",
        access: Access::User,
        args: &[("id", "nosuchbooking"), ("start", "2030-01-01T10:00:00Z")],
    },
    Endpoint {
        path: "/api/reschedule_options",
        access: Access::User,
        args: &[("id", "nosuchbooking")],
    },
    Endpoint {
        path: "/api/rate_session",
        access: Access::User,
        args: &[("id", "nosuchbooking"), ("stars", "5")],
    },
    Endpoint {
        path: "/api/post_question",
        access: Access::User,
        args: &[("mentorship", "nosuch_mentorship"), ("body", "hi")],
    },
    Endpoint {
        path: "/api/get_email_prefs",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/save_email_prefs",
        access: Access::User,
        args: &[("request", "daily")],
    },
    Endpoint {
        path: "/api/mark_notification_read",
        access: Access::User,
        args: &[("id", "nosuchnotification")],
    },
    Endpoint {
        path: "/api/rotate_calendar_feed",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/learner_dashboard",
        access: Access::User,
        args: &[("days", "30")],
    },
    Endpoint {
        path: "/api/mentor_dashboard",
        access: Access::Mentor,
        args: &[("days", "30")],
    },
    Endpoint {
        path: "/api/analytics",
        access: Access::Admin,
        args: &[("days", "30")],
    },
    Endpoint {
        path: "/api/set_course_weights",
        access: Access::Admin,
        args: &[
            ("course", "nosuchcourse"),
            ("watched", "0.5"),
            ("passed", "0.3"),
            ("feedback", "0.2"),
        ],
    },
    Endpoint {
        path: "/api/leaderboard",
        access: Access::User,
        args: &[("period", "week")],
    },
    Endpoint {
        path: "/api/set_leaderboard_visibility",
        access: Access::User,
        args: &[],
    },
    Endpoint {
        path: "/api/mark_helpful",
        access: Access::User,
        args: &[("post", "nosuchpost")],
    },
    Endpoint {
        path: "/api/forum_home",
        access: Access::Public,
        args: &[],
    },
    Endpoint {
        path: "/api/forum_space",
        access: Access::Public,
        args: &[("space", "spaces/nosuchspace")],
    },
    Endpoint {
        path: "/api/forum_thread",
        access: Access::Public,
        args: &[("id", "nosuchthread")],
    },
    Endpoint {
        path: "/api/report_forum_post",
        access: Access::User,
        args: &[("id", "nosuchpost"), ("reason", "Spam")],
    },
    Endpoint {
        path: "/api/moderation_queue",
        access: Access::Admin,
        args: &[],
    },
    Endpoint {
        path: "/api/moderate_forum_post",
        access: Access::Admin,
        args: &[("id", "nosuchpost"), ("action", "hide")],
    },
    Endpoint {
        path: "/api/move_forum_thread",
        access: Access::Admin,
        args: &[("id", "nosuchthread"), ("space", "spaces/general")],
    },
    Endpoint {
        path: "/api/forum_help_draft",
        access: Access::User,
        args: &[("submission", "nosuchsubmission")],
    },
    Endpoint {
        path: "/api/follow_forum_thread",
        access: Access::User,
        args: &[("id", "nosuchthread"), ("follow", "true")],
    },
    Endpoint {
        path: "/api/search_forum",
        access: Access::Public,
        args: &[("q", "anything")],
    },
    Endpoint {
        path: "/api/request_email_change",
        access: Access::User,
        args: &[
            ("new_email", "moved-{caller}@example.org"),
            ("password", "not it"),
        ],
    },
    Endpoint {
        path: "/api/confirm_email_change",
        access: Access::Public,
        args: &[("token", "not-a-token")],
    },
    Endpoint {
        path: "/api/retention_policy",
        access: Access::Public,
        args: &[],
    },
    Endpoint {
        path: "/api/delete_account",
        access: Access::User,
        // A wrong password: the matrix checks who may call it, not that it deletes.
        args: &[("password", "not the password"), ("confirm", "yes")],
    },
    Endpoint {
        path: "/api/forum_similar",
        access: Access::Public,
        args: &[("title", "how do I reverse a string")],
    },
    Endpoint {
        path: "/api/forum_answer_code",
        access: Access::User,
        args: &[("post", "nosuchpost"), ("block", "0")],
    },
    Endpoint {
        path: "/api/forum_post_source",
        access: Access::Public,
        args: &[("id", "nosuchpost")],
    },
    Endpoint {
        path: "/api/create_forum_space",
        access: Access::Admin,
        args: &[("slug", "space-{caller}"), ("title", "A space")],
    },
    Endpoint {
        path: "/api/create_thread",
        access: Access::User,
        args: &[
            ("space", "spaces/nosuchspace"),
            ("title", "A question"),
            ("body", "Words"),
        ],
    },
    Endpoint {
        path: "/api/post_reply",
        access: Access::User,
        args: &[("thread", "nosuchthread"), ("body", "Words")],
    },
    Endpoint {
        path: "/api/edit_forum_post",
        access: Access::User,
        args: &[("id", "nosuchpost"), ("body", "Words")],
    },
    Endpoint {
        path: "/api/vote_forum_post",
        access: Access::User,
        args: &[("id", "nosuchpost"), ("vote", "up")],
    },
    Endpoint {
        path: "/api/accept_answer",
        access: Access::User,
        args: &[("thread", "nosuchthread"), ("reply", "nosuchreply")],
    },
];

#[test]
fn every_server_function_is_in_the_matrix() {
    // Touch the app crate so its server functions are linked in and registered.
    let _ = app::App;
    let registered: BTreeSet<&str> = server_fn::axum::server_fn_paths().map(|(p, _)| p).collect();
    let listed: BTreeSet<&str> = ENDPOINTS.iter().map(|e| e.path).collect();
    let missing: Vec<_> = registered.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "server functions missing from the authorization matrix: {missing:?}"
    );
    let stale: Vec<_> = listed.difference(&registered).collect();
    assert!(
        stale.is_empty(),
        "matrix rows for server functions that no longer exist: {stale:?}"
    );
}

async fn call(
    app: &TestApp,
    browser: &crate::helpers::Browser,
    e: &Endpoint,
    caller: Caller,
) -> reqwest::Response {
    let tag = format!("{caller:?}").to_lowercase();
    let args: Vec<(String, String)> = e
        .args
        .iter()
        .map(|(k, v)| (k.to_string(), v.replace("{caller}", &tag)))
        .collect();
    browser
        .post(app.url(e.path))
        .header("origin", &app.base)
        .header("accept", "application/json")
        .form(&args)
        .send()
        .await
        .expect("sent")
}

#[tokio::test]
async fn each_caller_gets_exactly_the_access_the_matrix_gives() {
    let app = spawn_app().await;
    for e in ENDPOINTS {
        for caller in [
            Caller::Anonymous,
            Caller::Learner,
            Caller::Mentor,
            Caller::Admin,
        ] {
            // A fresh browser per call: sign-out or sign-in rows must not leak into the next.
            let browser = match caller {
                Caller::Anonymous => app.browser(),
                Caller::Learner => app.user_with_roles(&unique("learner"), &[]).await,
                Caller::Mentor => app.user_with_roles(&unique("mentor"), &["mentor"]).await,
                Caller::Admin => app.admin().await,
            };
            let status = call(&app, &browser, e, caller).await.status();
            if caller.may(e.access) {
                // Reaching it is not enough: an allowed caller with the matrix's arguments
                // gets an answer, never a server error.
                assert!(
                    !status.is_server_error(),
                    "{caller:?} calling {} got {status}",
                    e.path
                );
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN
                        || e.path == "/api/sign_in",
                    "{caller:?} should reach {} but got {status}",
                    e.path
                );
            } else {
                let expected = if caller == Caller::Anonymous {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(status, expected, "{caller:?} calling {}", e.path);
            }
        }
    }
    app.stop().await;
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}{}@example.org", N.fetch_add(1, Ordering::SeqCst))
}

#[tokio::test]
async fn a_learner_cannot_call_an_admin_function_and_nothing_changes() {
    let app = spawn_app().await;
    let learner = app.user_with_roles("lea@example.org", &[]).await;
    let me: serde_json::Value =
        crate::helpers::body_json(app.call(&learner, "current_user", &[]).await).await;
    let id = me["id"].as_str().expect("id").to_string();
    let res = app
        .call(
            &learner,
            "set_user_role",
            &[("user_id", &id), ("role", "admin"), ("granted", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        res.text()
            .await
            .map(|t| serde_json::from_str::<serde_json::Value>(&t).expect("json"))
            .expect("body"),
        serde_json::json!({"error": "forbidden"})
    );
    let me: serde_json::Value =
        crate::helpers::body_json(app.call(&learner, "current_user", &[]).await).await;
    assert_eq!(me["roles"], serde_json::json!(["learner"]));
    app.stop().await;
}

/// The plain axum routes beside the server functions: who gets what.
#[tokio::test]
async fn the_plain_routes_refuse_whoever_may_not_use_them() {
    let app = crate::helpers::spawn_app_with(&[("PAIRWISE_METRICS_TOKEN", "authz-token")]).await;
    let anonymous = app.browser();
    let learner = app.user_with_roles(&unique("plain"), &[]).await;
    let room = crate::rooms::room(&app, "plain-routes").await;

    // Live sockets: signed in and invited, or nothing.
    assert_eq!(
        app.live(&anonymous, None).await.err().map(|e| e.0),
        Some(401)
    );
    assert_eq!(
        app.room_socket(&anonymous, &room.id, "", None)
            .await
            .err()
            .map(|e| e.0),
        Some(401)
    );
    assert_eq!(
        app.room_socket(&learner, &room.id, "", None)
            .await
            .err()
            .map(|e| e.0),
        Some(403),
        "a room one was not invited to"
    );
    assert!(
        app.room_socket(&room.guest, &room.id, "", None)
            .await
            .is_ok()
    );

    async fn get(app: &TestApp, who: &crate::helpers::Browser, path: &str) -> StatusCode {
        who.get(app.url(path)).send().await.expect("sent").status()
    }
    // Uploads: only a course's authors (anonymous first).
    let upload = anonymous
        .post(app.url("/upload/video/nosuchlesson"))
        .header("origin", &app.base)
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body("--XyZ--\r\n")
        .send()
        .await
        .expect("sent")
        .status();
    assert_eq!(upload, StatusCode::UNAUTHORIZED);
    // Calendar: a booking's .ics for its two people only; a feed only by its secret.
    assert_eq!(
        get(&app, &anonymous, "/bookings/nosuchbooking/ics").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&app, &learner, "/bookings/nosuchbooking/ics").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(
            &app,
            &anonymous,
            "/calendar/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.ics"
        )
        .await,
        StatusCode::NOT_FOUND
    );
    // Metrics: only with the token; media: what does not exist is a 404.
    assert_eq!(get(&app, &learner, "/metrics").await, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, &anonymous, "/media/nothing-here.webm").await,
        StatusCode::NOT_FOUND
    );
    // The sandbox page is public by design (it runs learner code in an opaque origin).
    assert_eq!(get(&app, &anonymous, "/sandbox/run").await, StatusCode::OK);
    app.stop().await;
}
