//! Notification text in every language: the page's words, the e-mail's, and each
//! [`Notice`] rendered for a reader. A new message key makes the compiler ask for its
//! sentence in each language here.

use crate::{
    i18n::{Locale, time_label, zone_named},
    notify::model::{EmailMode, Notice, NoticeKind, Soon},
};

pub struct NotifyStrings {
    pub notifications: &'static str,
    pub no_notifications: &'static str,
    pub mark_one_read: &'static str,
    pub mark_read: &'static str,
    pub unread: &'static str,
    pub email_title: &'static str,
    pub kind_request: &'static str,
    pub kind_booking: &'static str,
    pub kind_reminder: &'static str,
    pub kind_feedback: &'static str,
    pub kind_question: &'static str,
    pub kind_review: &'static str,
    pub kind_room: &'static str,
    pub kind_badge: &'static str,
    pub kind_forum: &'static str,
    pub kind_mention: &'static str,
    pub mode_immediate: &'static str,
    pub mode_daily: &'static str,
    pub mode_off: &'static str,
    pub save: &'static str,
    pub saved: &'static str,
    pub mail_subject_prefix: &'static str,
    pub mail_choose: &'static str,
    pub digest_intro: &'static str,
    /// `{n}`: how many notifications the summary holds.
    pub digest_subject: &'static str,
    /// A notification this version cannot put in words.
    pub unknown: &'static str,
}

pub static NOTIFY_EN: NotifyStrings = NotifyStrings {
    notifications: "Notifications",
    no_notifications: "Nothing new.",
    mark_one_read: "mark read",
    mark_read: "Mark all read",
    unread: "unread",
    email_title: "E-mail",
    kind_request: "Mentoring requests",
    kind_booking: "Bookings and changes",
    kind_reminder: "Session reminders",
    kind_feedback: "Ratings",
    kind_question: "Questions and answers",
    kind_review: "Code reviews",
    kind_room: "Room invitations",
    kind_badge: "Badges",
    kind_forum: "Forum replies",
    kind_mention: "Mentions",
    mode_immediate: "At once",
    mode_daily: "Daily summary",
    mode_off: "Off",
    save: "Save",
    saved: "Saved.",
    mail_subject_prefix: "Pairwise: ",
    mail_choose: "Choose which e-mails you get:",
    digest_intro: "What happened on Pairwise since your last summary:",
    digest_subject: "Pairwise: your daily summary ({n} new)",
    unknown: "Something new happened on Pairwise.",
};

pub static NOTIFY_ZH_HANS: NotifyStrings = NotifyStrings {
    notifications: "通知",
    no_notifications: "没有新通知。",
    mark_one_read: "标为已读",
    mark_read: "全部标为已读",
    unread: "未读",
    email_title: "电子邮件",
    kind_request: "辅导请求",
    kind_booking: "预约与变更",
    kind_reminder: "会话提醒",
    kind_feedback: "评分",
    kind_question: "问答",
    kind_review: "代码评审",
    kind_room: "房间邀请",
    kind_badge: "徽章",
    kind_forum: "论坛回复",
    kind_mention: "提及",
    mode_immediate: "立即",
    mode_daily: "每日摘要",
    mode_off: "关闭",
    save: "保存",
    saved: "已保存。",
    mail_subject_prefix: "Pairwise：",
    mail_choose: "选择你要接收的邮件：",
    digest_intro: "自上次摘要以来 Pairwise 上的新动态：",
    digest_subject: "Pairwise：你的每日摘要（{n} 条新消息）",
    unknown: "Pairwise 上有新动态。",
};

impl NotifyStrings {
    pub fn kind_name(&self, k: NoticeKind) -> &'static str {
        match k {
            NoticeKind::Request => self.kind_request,
            NoticeKind::Booking => self.kind_booking,
            NoticeKind::Reminder => self.kind_reminder,
            NoticeKind::Feedback => self.kind_feedback,
            NoticeKind::Question => self.kind_question,
            NoticeKind::Review => self.kind_review,
            NoticeKind::Room => self.kind_room,
            NoticeKind::Badge => self.kind_badge,
            NoticeKind::Forum => self.kind_forum,
            NoticeKind::Mention => self.kind_mention,
        }
    }

    pub fn mode_name(&self, m: EmailMode) -> &'static str {
        match m {
            EmailMode::Immediate => self.mode_immediate,
            EmailMode::Daily => self.mode_daily,
            EmailMode::Off => self.mode_off,
        }
    }
}

/// `notice` with every person's name as a reader in `locale` reads it.
fn with_names_shown(notice: &Notice, locale: Locale) -> Notice {
    let n = |name: &String| crate::i18n::person_name(name, locale);
    let mut shown = notice.clone();
    match &mut shown {
        Notice::MentorPaused { mentor }
        | Notice::RequestSeen { mentor }
        | Notice::RequestAccepted { mentor }
        | Notice::RequestDeclined { mentor }
        | Notice::RequestExpired { mentor } => *mentor = n(mentor),
        Notice::RequestReceived { learner, .. }
        | Notice::RequestWithdrawn { learner }
        | Notice::RequestLapsed { learner }
        | Notice::SessionBooked { learner, .. }
        | Notice::PairRoomOpened { learner, .. } => *learner = n(learner),
        Notice::MentorshipEnded { by }
        | Notice::SessionCancelled { by, .. }
        | Notice::SessionMoved { by, .. }
        | Notice::SessionRated { by, .. }
        | Notice::QuestionAsked { by }
        | Notice::QuestionAnswered { by }
        | Notice::ReviewComment { by, .. }
        | Notice::ForumReplied { by, .. }
        | Notice::ForumMentioned { by, .. }
        | Notice::ForumAccepted { by, .. }
        | Notice::MentorApplied { by } => *by = n(by),
        Notice::SessionSoon { with, .. } => *with = n(with),
        Notice::PartnerLeft
        | Notice::SessionPartnerLeft { .. }
        | Notice::RoomInvite { .. }
        | Notice::MentorApproved
        | Notice::MentorDeclined { .. }
        | Notice::BadgeEarned { .. }
        | Notice::Legacy { .. } => {}
    }
    shown
}

/// The notice as one sentence in `locale`.
pub fn render(notice: &Notice, locale: Locale) -> String {
    // Names in notices are people's names; a deleted account's reads in the reader's language.
    let notice = &with_names_shown(notice, locale);
    let when = |at: &chrono::DateTime<chrono::Utc>, zone: &str| {
        let tz = zone_named(zone);
        format!("{} ({})", time_label(locale, *at, tz), tz.name())
    };
    let zh = locale == Locale::ZhHans;
    match notice {
        Notice::MentorPaused { mentor } if zh => {
            format!("{mentor} 暂停了辅导，你的请求因此被拒绝。看看其他合适的导师。")
        }
        Notice::MentorPaused { mentor } => format!(
            "{mentor} paused mentoring, so your request was declined. See other mentors who fit."
        ),
        Notice::RequestReceived { learner, goals } if zh => {
            format!("{learner} 请你做他们的导师：“{goals}”")
        }
        Notice::RequestReceived { learner, goals } => {
            format!("{learner} asks you to mentor them: “{goals}”")
        }
        Notice::RequestSeen { mentor } if zh => format!("{mentor} 已查看你的辅导请求。"),
        Notice::RequestSeen { mentor } => format!("{mentor} has seen your mentoring request."),
        Notice::RequestAccepted { mentor } if zh => {
            format!("{mentor} 接受了你的辅导请求。预约你们的第一次会话吧。")
        }
        Notice::RequestAccepted { mentor } => {
            format!("{mentor} accepted your mentoring request. Book your first session.")
        }
        Notice::RequestDeclined { mentor } if zh => {
            format!("{mentor} 拒绝了你的辅导请求。看看其他合适的导师。")
        }
        Notice::RequestDeclined { mentor } => {
            format!("{mentor} declined your mentoring request. See other mentors who fit.")
        }
        Notice::RequestWithdrawn { learner } if zh => format!("{learner} 撤回了辅导请求。"),
        Notice::RequestWithdrawn { learner } => {
            format!("{learner} withdrew their mentoring request.")
        }
        Notice::RequestExpired { mentor } if zh => {
            format!("你发给 {mentor} 的请求 48 小时内没有得到答复，已过期。这里有其他合适的导师。")
        }
        Notice::RequestExpired { mentor } => format!(
            "Your request to {mentor} expired after 48 hours without an answer. Here are other mentors who fit."
        ),
        Notice::RequestLapsed { learner } if zh => {
            format!("{learner} 的辅导请求已在 48 小时后过期。")
        }
        Notice::RequestLapsed { learner } => {
            format!("The mentoring request from {learner} expired after 48 hours.")
        }
        Notice::MentorshipEnded { by } if zh => format!("{by} 结束了你们的辅导关系。"),
        Notice::MentorshipEnded { by } => format!("{by} ended your mentorship."),
        Notice::PartnerLeft if zh => {
            "与你建立辅导关系的一方删除了账户，辅导关系已结束。".to_string()
        }
        Notice::PartnerLeft => {
            "The other side of your mentorship deleted their account: the mentorship has ended."
                .to_string()
        }
        Notice::SessionPartnerLeft { at, zone } if zh => {
            format!("另一方删除了账户，{} 的会话已取消。", when(at, zone))
        }
        Notice::SessionPartnerLeft { at, zone } => format!(
            "The other side deleted their account: the session of {} is cancelled.",
            when(at, zone)
        ),
        Notice::SessionBooked { learner, at, zone } if zh => {
            format!("{learner} 预约了 {} 的会话。", when(at, zone))
        }
        Notice::SessionBooked { learner, at, zone } => {
            format!("{learner} booked a session on {}.", when(at, zone))
        }
        Notice::SessionCancelled { by, at, zone } if zh => {
            format!("{by} 取消了 {} 的会话。", when(at, zone))
        }
        Notice::SessionCancelled { by, at, zone } => {
            format!("{by} cancelled the session of {}.", when(at, zone))
        }
        Notice::SessionMoved { by, at, zone } if zh => {
            format!("{by} 把你们的会话改到了 {}。", when(at, zone))
        }
        Notice::SessionMoved { by, at, zone } => {
            format!("{by} moved your session to {}.", when(at, zone))
        }
        Notice::SessionSoon {
            with,
            at,
            zone,
            soon,
        } if zh => {
            let soon = match soon {
                Soon::Minutes15 => "15 分钟后",
                Soon::Hours24 => "24 小时内",
            };
            format!("你与 {with} 的会话将在{soon}开始：{}。", when(at, zone))
        }
        Notice::SessionSoon {
            with,
            at,
            zone,
            soon,
        } => {
            let soon = match soon {
                Soon::Minutes15 => "in 15 minutes",
                Soon::Hours24 => "within 24 hours",
            };
            format!(
                "Your session with {with} starts {soon}: {}.",
                when(at, zone)
            )
        }
        Notice::SessionRated { by, stars } if zh => format!("{by} 给你们的会话打了 {stars}★。"),
        Notice::SessionRated { by, stars } => format!("{by} rated your session: {stars}★."),
        Notice::QuestionAsked { by } if zh => format!("{by} 提了一个问题。"),
        Notice::QuestionAsked { by } => format!("{by} asked a question."),
        Notice::QuestionAnswered { by } if zh => format!("{by} 在你们的辅导中回复了。"),
        Notice::QuestionAnswered { by } => format!("{by} answered in your mentorship."),
        Notice::ReviewComment { by, line } if zh => {
            format!("{by} 评论了你提交的代码第 {line} 行。")
        }
        Notice::ReviewComment { by, line } => {
            format!("{by} commented on line {line} of your submission.")
        }
        Notice::PairRoomOpened { learner, title } if zh => {
            format!("{learner} 在实时房间里和你一起打开了他们的代码：“{title}”。")
        }
        Notice::PairRoomOpened { learner, title } => {
            format!("{learner} opened their code in a live room with you: “{title}”.")
        }
        Notice::RoomInvite { title } if zh => format!("你受邀加入实时房间“{title}”。"),
        Notice::RoomInvite { title } => format!("You are invited to the live room “{title}”."),
        Notice::ForumReplied { by, title } if zh => format!("{by} 回复了“{title}”。"),
        Notice::ForumReplied { by, title } => format!("{by} replied to “{title}”."),
        Notice::ForumMentioned { by, title } if zh => format!("{by} 在“{title}”中提到了你。"),
        Notice::ForumMentioned { by, title } => format!("{by} mentioned you in “{title}”."),
        Notice::ForumAccepted { by, title } if zh => {
            format!("{by} 采纳了你在“{title}”中的回答。")
        }
        Notice::ForumAccepted { by, title } => {
            format!("{by} accepted your answer to “{title}”.")
        }
        Notice::MentorApplied { by } if zh => format!("{by} 申请成为导师。"),
        Notice::MentorApplied { by } => format!("{by} applied to mentor."),
        Notice::MentorApproved if zh => "你的导师申请已获批准：设置你的导师资料，学员就能找到你。".into(),
        Notice::MentorApproved => {
            "Your application to mentor was approved: set up your mentor profile so learners find you.".into()
        }
        Notice::MentorDeclined { note } if zh && note.is_empty() => {
            "你的导师申请这次没有通过。".into()
        }
        Notice::MentorDeclined { note } if zh => format!("你的导师申请这次没有通过：{note}"),
        Notice::MentorDeclined { note } if note.is_empty() => {
            "Your application to mentor was not accepted this time.".into()
        }
        Notice::MentorDeclined { note } => {
            format!("Your application to mentor was not accepted this time: {note}")
        }
        Notice::BadgeEarned { badge } => {
            let words = locale.strings().progress;
            let (name, _) = crate::progress::text::badge_words(words, badge);
            let name = if name.is_empty() {
                badge.as_str()
            } else {
                name
            };
            format!("{} {name}", words.badge_earned)
        }
        // A key from a newer version (during a rolling upgrade) with no stored words.
        Notice::Legacy { text } if text.is_empty() => locale.strings().notify.unknown.into(),
        Notice::Legacy { text } => text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    /// One of each message key: adding a key without adding it here fails the match below.
    fn every_notice() -> Vec<Notice> {
        let n = |s: &str| s.to_string();
        let all = vec![
            Notice::MentorPaused { mentor: n("Ada") },
            Notice::RequestReceived {
                learner: n("Lin"),
                goals: n("Rust"),
            },
            Notice::RequestSeen { mentor: n("Ada") },
            Notice::RequestAccepted { mentor: n("Ada") },
            Notice::RequestDeclined { mentor: n("Ada") },
            Notice::RequestWithdrawn { learner: n("Lin") },
            Notice::RequestExpired { mentor: n("Ada") },
            Notice::RequestLapsed { learner: n("Lin") },
            Notice::MentorshipEnded { by: n("Ada") },
            Notice::PartnerLeft,
            Notice::SessionPartnerLeft {
                at: at(),
                zone: n("UTC"),
            },
            Notice::SessionBooked {
                learner: n("Lin"),
                at: at(),
                zone: n("Asia/Shanghai"),
            },
            Notice::SessionCancelled {
                by: n("Lin"),
                at: at(),
                zone: n("UTC"),
            },
            Notice::SessionMoved {
                by: n("Lin"),
                at: at(),
                zone: n("Europe/Berlin"),
            },
            Notice::SessionSoon {
                with: n("Ada"),
                at: at(),
                zone: n("UTC"),
                soon: Soon::Hours24,
            },
            Notice::SessionRated {
                by: n("Lin"),
                stars: 5,
            },
            Notice::QuestionAsked { by: n("Lin") },
            Notice::QuestionAnswered { by: n("Ada") },
            Notice::ReviewComment {
                by: n("Ada"),
                line: 3,
            },
            Notice::PairRoomOpened {
                learner: n("Lin"),
                title: n("FizzBuzz"),
            },
            Notice::RoomInvite {
                title: n("Pairing"),
            },
            Notice::BadgeEarned {
                badge: n("first-submission"),
            },
            Notice::ForumReplied {
                by: n("Ada"),
                title: n("FizzBuzz"),
            },
            Notice::ForumMentioned {
                by: n("Ada"),
                title: n("FizzBuzz"),
            },
            Notice::ForumAccepted {
                by: n("Lin"),
                title: n("FizzBuzz"),
            },
            Notice::MentorApplied { by: n("Lin") },
            Notice::MentorApproved,
            Notice::MentorDeclined { note: n("Rust") },
        ];
        for notice in &all {
            match notice {
                Notice::MentorPaused { .. }
                | Notice::RequestReceived { .. }
                | Notice::RequestSeen { .. }
                | Notice::RequestAccepted { .. }
                | Notice::RequestDeclined { .. }
                | Notice::RequestWithdrawn { .. }
                | Notice::RequestExpired { .. }
                | Notice::RequestLapsed { .. }
                | Notice::MentorshipEnded { .. }
                | Notice::PartnerLeft
                | Notice::SessionPartnerLeft { .. }
                | Notice::SessionBooked { .. }
                | Notice::SessionCancelled { .. }
                | Notice::SessionMoved { .. }
                | Notice::SessionSoon { .. }
                | Notice::SessionRated { .. }
                | Notice::QuestionAsked { .. }
                | Notice::QuestionAnswered { .. }
                | Notice::ReviewComment { .. }
                | Notice::PairRoomOpened { .. }
                | Notice::RoomInvite { .. }
                | Notice::BadgeEarned { .. }
                | Notice::ForumReplied { .. }
                | Notice::ForumMentioned { .. }
                | Notice::ForumAccepted { .. }
                | Notice::MentorApplied { .. }
                | Notice::MentorApproved
                | Notice::MentorDeclined { .. } => {}
                Notice::Legacy { .. } => unreachable!(),
            }
        }
        all
    }

    #[test]
    fn every_notice_reads_in_chinese_without_english_words() {
        for notice in every_notice() {
            let zh = render(&notice, Locale::ZhHans);
            let en = render(&notice, Locale::En);
            assert_ne!(zh, en, "{notice:?}");
            // Only the names, titles and zone names given above may be Latin letters.
            let mut rest = zh.clone();
            for given in [
                "Ada",
                "Lin",
                "Rust",
                "FizzBuzz",
                "Pairing",
                "Asia/Shanghai",
                "Europe/Berlin",
                "UTC",
            ] {
                rest = rest.replace(given, "");
            }
            assert!(
                !rest.chars().any(|c| c.is_ascii_alphabetic()),
                "English left in {zh:?}"
            );
        }
    }

    #[test]
    fn session_times_are_shown_in_the_recipients_zone_and_language() {
        let n = Notice::SessionBooked {
            learner: "Lin".into(),
            at: at(),
            zone: "Asia/Shanghai".into(),
        };
        assert_eq!(
            render(&n, Locale::En),
            "Lin booked a session on Mon 7 Dec, 18:00 (Asia/Shanghai)."
        );
        assert_eq!(
            render(&n, Locale::ZhHans),
            "Lin 预约了 12月7日 周一 18:00 (Asia/Shanghai) 的会话。"
        );
    }
}
