//! The notification mailer, run every few seconds by the server (safe on several app servers
//! at once: every claim is a conditional write). Each notification is mailed at once, in a
//! daily digest, or not at all, as its owner chose for its kind, and written in the language
//! its owner reads Pairwise in.

use chrono::Duration;

use crate::{
    error::AppError,
    i18n::Locale,
    notify::{
        model::{EmailMode, NoticeKind, email_mode},
        repo::{self, OutgoingMail, UnmailedRow},
        text::{self, NotifyStrings},
    },
    state::AppState,
};

fn strings(locale: Locale) -> &'static NotifyStrings {
    locale.strings().notify
}

/// The e-mail for one notification, in its owner's language.
pub fn immediate_mail(n: &UnmailedRow, origin: &str) -> OutgoingMail {
    let locale = n.locale();
    let s = strings(locale);
    let sentence = text::render(&n.notice(), locale);
    OutgoingMail {
        to: n.email.clone(),
        subject: format!(
            "{}{}",
            s.mail_subject_prefix,
            sentence.chars().take(90).collect::<String>()
        ),
        body: format!(
            "{sentence}\n\n{origin}{}\n\n{} {origin}/notifications",
            n.link, s.mail_choose
        ),
    }
}

/// One summary of several notifications of the same owner, in their language.
pub fn digest_mail(items: &[&UnmailedRow], origin: &str) -> OutgoingMail {
    let locale = items[0].locale();
    let s = strings(locale);
    let mut body = format!("{}\n\n", s.digest_intro);
    for n in items {
        body.push_str(&format!(
            "- {}\n  {origin}{}\n",
            text::render(&n.notice(), locale),
            n.link
        ));
    }
    body.push_str(&format!("\n{} {origin}/notifications\n", s.mail_choose));
    OutgoingMail {
        to: items[0].email.clone(),
        subject: s.digest_subject.replace("{n}", &items.len().to_string()),
        body,
    }
}

pub async fn mail(state: &AppState) -> Result<(), AppError> {
    let now = state.clock.now();
    let origin = &state.auth.public_origin;
    let rows = repo::unmailed(&state.db, 500, now).await?;
    let mut digests: std::collections::BTreeMap<String, Vec<&UnmailedRow>> = Default::default();
    for n in &rows {
        // A kind this version does not know is treated as a badge: the quietest kind, mailed
        // only as its owner chose for badges (by default not at all).
        let kind = NoticeKind::parse(&n.kind).unwrap_or(NoticeKind::Badge);
        match email_mode(&n.prefs, kind) {
            EmailMode::Off => {
                repo::mail_notifications(&state.db, std::slice::from_ref(&n.id), None, None, now)
                    .await?;
            }
            EmailMode::Immediate => {
                let mail = immediate_mail(n, origin);
                repo::mail_notifications(
                    &state.db,
                    std::slice::from_ref(&n.id),
                    Some(&mail),
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
        let ids: Vec<String> = items.iter().map(|n| n.id.clone()).collect();
        let mail = digest_mail(&items, origin);
        repo::mail_notifications(&state.db, &ids, Some(&mail), Some(&user), now).await?;
    }
    Ok(())
}
