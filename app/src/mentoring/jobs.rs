//! The mentoring background work, run every few seconds by the server (and safe to run on
//! several app servers at once: every step is a conditional write that happens once):
//! expiring requests after 48 hours, reminders 24 hours and 15 minutes before a session, and
//! e-mail for notifications (at once, in a daily digest, or not at all, per the user's choice).

use chrono::Duration;

use crate::{
    error::AppError,
    mentoring::{
        model::{EmailMode, NoticeKind, email_mode, local_label},
        repo,
    },
    state::AppState,
};

/// One round of every job. Errors are returned after trying the others.
pub async fn run_once(state: &AppState) -> Result<(), AppError> {
    let a = expire_requests(state).await;
    let b = remind(state).await;
    let c = mail(state).await;
    a.and(b).and(c)
}

async fn expire_requests(state: &AppState) -> Result<(), AppError> {
    let now = state.clock.now();
    for r in repo::due_requests(&state.db, now).await? {
        let to_learner = format!(
            "Your request to {} expired after 48 hours without an answer. Here are other mentors who fit.",
            r.mentor_name
        );
        let to_mentor = format!(
            "The mentoring request from {} expired after 48 hours.",
            r.learner_name
        );
        repo::expire_request(&state.db, &r.id, &to_learner, &to_mentor, now).await?;
        state.notifier.poke([r.learner.as_str(), r.mentor.as_str()]);
    }
    Ok(())
}

async fn remind(state: &AppState) -> Result<(), AppError> {
    let now = state.clock.now();
    // The 15-minute reminder first: a session booked 10 minutes ahead gets only that one.
    for (tag, within, words) in [
        ("15m", Duration::minutes(15), "in 15 minutes"),
        ("24h", Duration::hours(24), "within 24 hours"),
    ] {
        for b in repo::due_reminders(&state.db, now, within, tag).await? {
            if tag == "24h" && b.reminded.iter().any(|t| t == "15m") {
                continue;
            }
            let at = local_label(b.starts_at, chrono_tz::UTC);
            let to_mentor = format!(
                "Your session with {} starts {words} ({at} UTC).",
                b.learner_name
            );
            let to_learner = format!(
                "Your session with {} starts {words} ({at} UTC).",
                b.mentor_name
            );
            repo::remind(&state.db, &b, tag, &to_mentor, &to_learner, now).await?;
            state.notifier.poke([b.mentor.as_str(), b.learner.as_str()]);
        }
    }
    Ok(())
}

async fn mail(state: &AppState) -> Result<(), AppError> {
    let now = state.clock.now();
    let origin = &state.auth.public_origin;
    let rows = repo::unmailed(&state.db, 500, now).await?;
    let mut digests: std::collections::BTreeMap<String, Vec<&repo::UnmailedRow>> =
        Default::default();
    for n in &rows {
        let kind = NoticeKind::parse(&n.kind).unwrap_or(NoticeKind::Room);
        match email_mode(&n.prefs, kind) {
            EmailMode::Off => {
                repo::mail_notifications(&state.db, std::slice::from_ref(&n.id), None, None, now)
                    .await?;
            }
            EmailMode::Immediate => {
                let body = format!(
                    "{}\n\n{origin}{}\n\nChoose which e-mails you get: {origin}/notifications",
                    n.text, n.link
                );
                let subject = format!("Pairwise: {}", n.text.chars().take(90).collect::<String>());
                repo::mail_notifications(
                    &state.db,
                    std::slice::from_ref(&n.id),
                    Some((&n.email, &subject, &body)),
                    None,
                    now,
                )
                .await?;
            }
            EmailMode::Daily => digests.entry(n.user.clone()).or_default().push(n),
        }
    }
    for (user, items) in digests {
        if let Some(last) = items[0].last_digest_at
            && now - last < Duration::hours(24)
        {
            let ids: Vec<String> = items.iter().map(|n| n.id.clone()).collect();
            repo::defer_mail(&state.db, &ids, last + Duration::hours(24)).await?;
            continue;
        }
        let mut body = String::from("What happened on Pairwise since your last summary:\n\n");
        for n in &items {
            body.push_str(&format!("- {}\n  {origin}{}\n", n.text, n.link));
        }
        body.push_str(&format!(
            "\nChoose which e-mails you get: {origin}/notifications\n"
        ));
        let ids: Vec<String> = items.iter().map(|n| n.id.clone()).collect();
        let subject = format!("Pairwise: your daily summary ({} new)", items.len());
        repo::mail_notifications(
            &state.db,
            &ids,
            Some((&items[0].email, &subject, &body)),
            Some(&user),
            now,
        )
        .await?;
    }
    Ok(())
}
