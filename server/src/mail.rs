//! Delivers the outbox over SMTP. Mail is written to the `outbox` table in the same
//! transaction as whatever caused it, so nothing is lost while the mail server is down: this
//! relay retries with back-off and records the last error on the message.

use std::time::Duration;

use anyhow::Context;
use app::{notify::repo, state::AppState};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};

use crate::config::MailConfig;

/// How long a claimed message is reserved for this server before another may try it.
const LEASE: Duration = Duration::from_secs(120);
/// Messages sent per tick, so one tick never holds a long lease on a large backlog.
const BATCH: i64 = 20;

pub struct Relay {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    every: Duration,
}

impl Relay {
    pub fn new(cfg: &MailConfig) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(cfg.smtp_url.expose())
            .context("PAIRWISE_SMTP_URL is not a valid smtp:// or smtps:// URL")?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = cfg
            .from
            .parse()
            .with_context(|| format!("PAIRWISE_MAIL_FROM is not an address: {}", cfg.from))?;
        Ok(Self {
            transport,
            from,
            every: cfg.poll_every,
        })
    }

    /// Runs until the task is aborted (at shutdown); a message half-sent at that moment is
    /// sent again after its lease ends (at least once, never zero times).
    pub async fn run(self, state: AppState) {
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.deliver_due(&state).await {
                tracing::warn!(error = %e, "outbox delivery failed; will retry");
            }
        }
    }

    async fn deliver_due(&self, state: &AppState) -> anyhow::Result<()> {
        let now = state.clock.now();
        let lease = chrono::Duration::from_std(LEASE)?;
        let due = repo::claim_due_mail(&state.db, now, now + lease, BATCH).await?;
        for mail in due {
            match self.send(&mail).await {
                Ok(()) => {
                    repo::mark_mail_sent(&state.db, &mail.id, state.clock.now()).await?;
                    tracing::info!(id = %mail.id, "email sent");
                }
                Err(e) => {
                    let status = repo::mail_status(&state.db, &mail.id).await?;
                    let attempts = status.map_or(0, |s| s.attempts);
                    let retry_at = state.clock.now() + backoff(attempts);
                    tracing::warn!(id = %mail.id, attempts = attempts + 1, error = %format!("{e:#}"), "email not sent");
                    repo::mark_mail_failed(&state.db, &mail.id, &format!("{e:#}"), retry_at)
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn send(&self, mail: &repo::OutboxMail) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(mail.to.parse().context("the recipient is not an address")?)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .context("building the message")?;
        self.transport
            .send(message)
            .await
            .context("the SMTP server refused the message")?;
        Ok(())
    }
}

/// One minute after the first failure, doubling up to six hours.
fn backoff(previous_attempts: i64) -> chrono::Duration {
    let minutes = 1_i64 << previous_attempts.clamp(0, 9);
    chrono::Duration::minutes(minutes.min(360))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_a_minute_to_at_most_six_hours() {
        assert_eq!(backoff(0), chrono::Duration::minutes(1));
        assert_eq!(backoff(3), chrono::Duration::minutes(8));
        assert_eq!(backoff(9), chrono::Duration::minutes(360));
        assert_eq!(backoff(50), chrono::Duration::minutes(360));
    }
}
