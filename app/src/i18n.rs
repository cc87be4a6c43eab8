//! Interface languages. Every user-facing string lives in one [`Strings`] table per language:
//! adding a field makes the compiler ask for its translation in every language.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Name of the cookie that remembers a chosen language.
pub const LOCALE_COOKIE: &str = "pw_lang";

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-Hans")]
    ZhHans,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::ZhHans];

    /// The BCP 47 tag used in `<html lang>` and in the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhHans => "zh-Hans",
        }
    }

    /// The language's own name, as shown in the language switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::ZhHans => "简体中文",
        }
    }

    /// Reads a tag such as `zh-CN`, `zh-Hans-CN`, `en-GB`; unknown languages give `None`.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let tag = tag.trim().to_ascii_lowercase();
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        match primary {
            "en" => Some(Locale::En),
            // Traditional-script Chinese is not translated yet; Simplified is closer than English.
            "zh" => Some(Locale::ZhHans),
            _ => None,
        }
    }

    /// Picks the best supported language from an `Accept-Language` header (RFC 9110 q-values).
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, usize, Locale)> = None;
        for (position, item) in header.split(',').enumerate() {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q <= 0.0 {
                continue;
            }
            if let Some(locale) = Locale::from_tag(tag) {
                // Higher q wins; on a tie the earlier entry wins.
                let better = match best {
                    None => true,
                    Some((bq, bpos, _)) => q > bq || (q == bq && position < bpos),
                };
                if better {
                    best = Some((q, position, locale));
                }
            }
        }
        best.map(|(_, _, l)| l)
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Locale::En => &EN,
            Locale::ZhHans => &ZH_HANS,
        }
    }
}

/// The current interface language, provided at the root of the app.
pub fn use_locale() -> RwSignal<Locale> {
    use_context::<RwSignal<Locale>>().unwrap_or_else(|| RwSignal::new(Locale::En))
}

/// In the browser: provides the page's language (its `<html lang>`, which the server set) to
/// the islands, which cannot see the server's context.
#[cfg(feature = "hydrate")]
pub fn provide_page_locale() {
    let tag = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|el| el.get_attribute("lang"))
        .unwrap_or_default();
    provide_context(RwSignal::new(Locale::from_tag(&tag).unwrap_or_default()));
}

/// Every user-facing string of the interface.
pub struct Strings {
    pub app_name: &'static str,
    pub tagline: &'static str,
    pub nav_home: &'static str,
    pub nav_profile: &'static str,
    pub nav_sign_in: &'static str,
    pub nav_sign_up: &'static str,
    pub nav_sign_out: &'static str,
    pub nav_menu: &'static str,
    pub language: &'static str,
    pub switch_language: &'static str,
    pub home_title: &'static str,
    pub home_lead: &'static str,
    pub home_point_courses: &'static str,
    pub home_point_mentors: &'static str,
    pub home_point_live: &'static str,
    pub home_get_started: &'static str,
    pub home_welcome_back: &'static str,
    pub demo_title: &'static str,
    pub demo_lead: &'static str,
    pub demo_role: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub display_name: &'static str,
    pub sign_in_title: &'static str,
    pub sign_in_submit: &'static str,
    pub sign_in_no_account: &'static str,
    pub sign_in_forgot: &'static str,
    pub forgot_title: &'static str,
    pub forgot_lead: &'static str,
    pub forgot_submit: &'static str,
    pub forgot_sent: &'static str,
    pub reset_title: &'static str,
    pub reset_submit: &'static str,
    pub reset_done: &'static str,
    pub mail_reset_subject: &'static str,
    /// `{link}`: the reset link.
    pub mail_reset_body: &'static str,
    pub sign_up_title: &'static str,
    pub sign_up_submit: &'static str,
    pub sign_up_have_account: &'static str,
    pub password_hint: &'static str,
    pub working: &'static str,
    pub profile_title: &'static str,
    pub profile_edit: &'static str,
    pub profile_saved: &'static str,
    pub profile_save: &'static str,
    pub bio: &'static str,
    pub skills: &'static str,
    pub skills_hint: &'static str,
    pub languages: &'static str,
    pub languages_hint: &'static str,
    pub timezone: &'static str,
    pub timezone_hint: &'static str,
    pub roles: &'static str,
    pub role_learner: &'static str,
    pub role_mentor: &'static str,
    pub role_moderator: &'static str,
    pub role_admin: &'static str,
    pub email_verified: &'static str,
    pub email_not_verified: &'static str,
    pub verify_email_sent: &'static str,
    pub verify_email_resend: &'static str,
    pub verify_email_done: &'static str,
    pub verify_email_title: &'static str,
    pub mail_verify_subject: &'static str,
    /// `{hours}`: how long the link works; `{link}`: the link.
    pub mail_verify_body: &'static str,
    pub mail_existing_subject: &'static str,
    /// `{link}`: the sign-in page.
    pub mail_existing_body: &'static str,
    pub verify_email_confirm: &'static str,
    pub verify_email_failed: &'static str,
    pub change_email_title: &'static str,
    pub new_email: &'static str,
    pub change_email_submit: &'static str,
    pub change_email_sent: &'static str,
    pub confirm_email_title: &'static str,
    pub confirm_email_submit: &'static str,
    pub confirm_email_done: &'static str,
    pub confirm_email_failed: &'static str,
    pub mail_change_subject: &'static str,
    /// `{link}`: the confirmation link.
    pub mail_change_body: &'static str,
    /// To a new address that another account already has (nothing changes).
    pub mail_change_taken_body: &'static str,
    pub mail_change_notice_subject: &'static str,
    /// To the old address: `{new}` the address asked for, `{link}` the profile page.
    pub mail_change_notice_body: &'static str,
    pub mail_changed_subject: &'static str,
    /// To the old address once changed: `{new}`.
    pub mail_changed_body: &'static str,
    pub err_email_same: &'static str,
    pub change_password_title: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub change_password_submit: &'static str,
    pub password_changed: &'static str,
    pub level_beginner: &'static str,
    pub level_intermediate: &'static str,
    pub level_advanced: &'static str,
    pub level_expert: &'static str,
    pub not_found_title: &'static str,
    pub not_found_lead: &'static str,
    pub error_title: &'static str,
    pub error_lead: &'static str,
    pub back_home: &'static str,
    pub loading: &'static str,
    /// Whose account was deleted: the name their kept posts, lines and reviews show.
    pub deleted_user: &'static str,
    pub signed_in_as: &'static str,
    pub admin_title: &'static str,
    pub admin_users: &'static str,
    pub admin_grant: &'static str,
    pub admin_revoke: &'static str,
    pub none_yet: &'static str,
    pub footer: &'static str,
    // Errors, in words a person can act on.
    pub err_email_invalid: &'static str,
    pub err_email_taken: &'static str,
    pub err_too_many_mails: &'static str,
    pub err_email_not_verified: &'static str,
    pub sign_up_check_email: &'static str,
    pub err_password_short: &'static str,
    pub err_password_long: &'static str,
    pub err_password_common: &'static str,
    pub err_name_empty: &'static str,
    pub err_name_long: &'static str,
    pub err_bio_long: &'static str,
    pub err_skill_invalid: &'static str,
    pub err_too_many_skills: &'static str,
    pub err_language_invalid: &'static str,
    pub err_timezone_invalid: &'static str,
    pub err_wrong_credentials: &'static str,
    pub err_wrong_current_password: &'static str,
    pub err_too_many_attempts: &'static str,
    pub err_unauthenticated: &'static str,
    pub err_forbidden: &'static str,
    pub err_cross_origin: &'static str,
    pub err_rate_limited: &'static str,
    pub err_not_found: &'static str,
    pub err_token_invalid: &'static str,
    pub err_bad_request: &'static str,
    pub err_internal: &'static str,
    /// The courses' own strings.
    pub courses: &'static crate::courses::text::CourseStrings,
    /// The exercises' own strings.
    pub exercises: &'static crate::exercises::text::ExerciseStrings,
    /// The live rooms' own strings.
    pub rooms: &'static crate::rooms::text::RoomStrings,
    /// Mentoring's own strings.
    pub mentoring: &'static crate::mentoring::text::MentoringStrings,
    pub pairing: &'static crate::rooms::code::text::PairStrings,
    pub progress: &'static crate::progress::text::ProgressStrings,
    pub notify: &'static crate::notify::text::NotifyStrings,
    pub forum: &'static crate::forum::text::ForumStrings,
    pub admin: &'static crate::admin::text::AdminStrings,
    pub apply: &'static crate::mentoring::applications::text::ApplyStrings,
    pub privacy: &'static crate::privacy::text::PrivacyStrings,
}

pub static EN: Strings = Strings {
    app_name: "Pairwise",
    tagline: "Learn to code with a mentor beside you",
    nav_home: "Home",
    nav_profile: "Profile",
    nav_sign_in: "Sign in",
    nav_sign_up: "Sign up",
    nav_sign_out: "Sign out",
    nav_menu: "Menu",
    language: "Language",
    switch_language: "Switch",
    home_title: "Learn to code with a mentor beside you",
    home_lead: "Courses with exercises graded as you go, mentors matched to what you want to learn, and live sessions with video and a shared editor.",
    home_point_courses: "Courses of lessons, videos, quizzes and code exercises graded automatically.",
    home_point_mentors: "Mentors ranked by how well they fit you, with the reasons shown.",
    home_point_live: "Live rooms with video, chat and pair programming in the browser.",
    home_get_started: "Create your account",
    home_welcome_back: "Welcome back",
    demo_title: "Demo accounts",
    demo_lead: "This server runs in demo mode. Sign in with any of these accounts:",
    demo_role: "Role",
    email: "Email",
    password: "Password",
    display_name: "Display name",
    sign_in_title: "Sign in",
    sign_in_submit: "Sign in",
    sign_in_no_account: "No account yet? Sign up",
    sign_in_forgot: "Forgot your password?",
    forgot_title: "Reset your password",
    forgot_lead: "Enter the address you signed up with. We will send it a link to choose a new password; the link works for one hour.",
    forgot_submit: "Send the link",
    forgot_sent: "If that address has an account, a link to choose a new password is on its way. Check your inbox (and spam folder); the link works for one hour.",
    reset_title: "Choose a new password",
    reset_submit: "Save the new password",
    reset_done: "Your password was changed and every session signed out. Sign in with the new password.",
    mail_reset_subject: "Reset your Pairwise password",
    mail_reset_body: "Hello,\n\nsomeone, perhaps you, asked to reset the password of your Pairwise account. Choose a new password with this link within one hour:\n\n{link}\n\nIf it was not you, ignore this message: your password stays as it is.\n",
    sign_up_title: "Create your account",
    sign_up_submit: "Sign up",
    sign_up_have_account: "Already have an account? Sign in",
    password_hint: "8 to 128 characters. Long phrases are easiest to remember.",
    working: "Working…",
    profile_title: "Your profile",
    profile_edit: "Edit profile",
    profile_saved: "Profile saved.",
    profile_save: "Save profile",
    bio: "About you",
    skills: "Skills",
    skills_hint: "One per line, as skill: level — for example “Rust: intermediate”. Levels: beginner, intermediate, advanced, expert.",
    languages: "Languages you speak",
    languages_hint: "Comma-separated language codes, for example “en, zh”.",
    timezone: "Time zone",
    timezone_hint: "An IANA name such as Europe/Berlin or Asia/Shanghai.",
    roles: "Roles",
    role_learner: "Learner",
    role_mentor: "Mentor",
    role_moderator: "Moderator",
    role_admin: "Admin",
    email_verified: "Email verified",
    email_not_verified: "Email not verified yet",
    verify_email_sent: "We sent a verification link to your email.",
    verify_email_resend: "Send the verification link again",
    verify_email_done: "Your email address is verified. Thank you!",
    verify_email_title: "Confirm your email address",
    mail_verify_subject: "Confirm your email address for Pairwise",
    mail_verify_body: "Hello,\n\nconfirm your email address by opening this link within {hours} hours:\n\n{link}\n\nIf you did not sign up for Pairwise, ignore this message.\n",
    mail_existing_subject: "You already have a Pairwise account",
    mail_existing_body: "Hello,\n\nsomeone, perhaps you, tried to create a Pairwise account with this address. It already has one, so nothing was created and nothing on your account changed.\n\nIf it was you, sign in here:\n\n{link}\n\nIf it was not, you can ignore this message.\n",
    verify_email_confirm: "Confirm my email",
    verify_email_failed: "That verification link is invalid or has expired. Sign in and ask for a new one from your profile.",
    change_email_title: "Change e-mail address",
    new_email: "New e-mail address",
    change_email_submit: "Send a confirmation link",
    change_email_sent: "We sent a link to the new address. Your address changes when you open it, within one hour.",
    confirm_email_title: "Confirm your new address",
    confirm_email_submit: "Use this address",
    confirm_email_done: "Your e-mail address is changed.",
    confirm_email_failed: "This link is used, expired or unknown. Ask for a new one on your profile.",
    mail_change_subject: "Confirm your new e-mail address for Pairwise",
    mail_change_body: "Hello,\n\nsomeone signed in to Pairwise asked to use this address for their account. Confirm it with this link within one hour:\n\n{link}\n\nIf it was not you, ignore this message: nothing changes.\n",
    mail_change_taken_body: "Hello,\n\nsomeone signed in to Pairwise asked to move their account to this address, but another account already uses it. Nothing changed.\n\nIf you did not expect this, you can ignore this message.\n",
    mail_change_notice_subject: "Your Pairwise e-mail address is about to change",
    mail_change_notice_body: "Hello,\n\nsomeone signed in to your Pairwise account asked to change its address to {new}. It changes only when the link sent there is opened.\n\nIf it was not you, change your password now: {link}\n",
    mail_changed_subject: "Your Pairwise e-mail address was changed",
    mail_changed_body: "Hello,\n\nthe address of your Pairwise account is now {new}; this one no longer signs in.\n\nIf it was not you, contact the people who run this Pairwise site at once.\n",
    err_email_same: "That is already your address.",
    change_password_title: "Change password",
    current_password: "Current password",
    new_password: "New password",
    change_password_submit: "Change password",
    password_changed: "Password changed. Your other sessions were signed out.",
    level_beginner: "beginner",
    level_intermediate: "intermediate",
    level_advanced: "advanced",
    level_expert: "expert",
    not_found_title: "Page not found",
    not_found_lead: "There is nothing at this address. Check the link, or start again from the home page.",
    error_title: "Something went wrong",
    error_lead: "The page could not be shown. Try again in a minute; if it keeps happening, tell an admin.",
    back_home: "Back to the home page",
    loading: "Loading…",
    deleted_user: "deleted user",
    signed_in_as: "Signed in as",
    admin_title: "Administration",
    admin_users: "Users",
    admin_grant: "Grant",
    admin_revoke: "Revoke",
    none_yet: "None yet",
    footer: "Pairwise — self-hosted technical mentoring",
    err_email_invalid: "Enter an email address such as ada@example.org.",
    err_email_taken: "An account with this email already exists. Sign in instead, or use another email.",
    err_too_many_mails: "We have sent this address three links in the last hour. Use the newest one in your inbox (check the spam folder too), or ask again in an hour.",
    err_email_not_verified: "Confirm your email address first: open the link we sent you, or ask for a new one on your profile page.",
    sign_up_check_email: "Almost there: we sent a message to the address you gave. Open its link to confirm your address and sign in. If you already have an account, sign in below.",
    err_password_short: "Choose a password of at least 8 characters.",
    err_password_long: "Choose a password of at most 128 characters.",
    err_password_common: "This password is on a list of commonly used passwords. Choose one that is harder to guess.",
    err_name_empty: "Enter the name other people will see.",
    err_name_long: "Keep the name under 60 characters.",
    err_bio_long: "Keep the text about you under 2,000 characters.",
    err_skill_invalid: "Write each skill on its own line as “skill: level”, with level beginner, intermediate, advanced or expert.",
    err_too_many_skills: "List at most 30 skills.",
    err_language_invalid: "Use language codes such as en, zh or pt-BR, separated by commas.",
    err_timezone_invalid: "Use an IANA time zone name such as Europe/Berlin or Asia/Shanghai.",
    err_wrong_credentials: "That email and password do not match. Check both and try again.",
    err_wrong_current_password: "Your current password is not right. Enter it again.",
    err_too_many_attempts: "Too many failed attempts. Wait a while before trying again.",
    err_unauthenticated: "Sign in to continue.",
    err_forbidden: "You do not have permission to do that.",
    err_cross_origin: "This request came from another site and was refused. Open Pairwise directly and try again.",
    err_rate_limited: "Too many requests in a short time. Wait a moment and try again.",
    err_not_found: "We could not find that. It may have been removed.",
    err_token_invalid: "That link is invalid or has expired. Ask for a new one.",
    err_bad_request: "The request could not be understood. Reload the page and try again.",
    err_internal: "Something went wrong on our side. Try again in a minute.",
    courses: &crate::courses::text::COURSES_EN,
    exercises: &crate::exercises::text::EXERCISES_EN,
    rooms: &crate::rooms::text::ROOMS_EN,
    mentoring: &crate::mentoring::text::MENTORING_EN,
    pairing: &crate::rooms::code::text::PAIR_EN,
    progress: &crate::progress::text::PROGRESS_EN,
    notify: &crate::notify::text::NOTIFY_EN,
    forum: &crate::forum::text::FORUM_EN,
    admin: &crate::admin::text::ADMIN_EN,
    apply: &crate::mentoring::applications::text::APPLY_EN,
    privacy: &crate::privacy::text::PRIVACY_EN,
};

pub static ZH_HANS: Strings = Strings {
    app_name: "Pairwise",
    tagline: "在导师身边学编程",
    nav_home: "首页",
    nav_profile: "个人资料",
    nav_sign_in: "登录",
    nav_sign_up: "注册",
    nav_sign_out: "退出登录",
    nav_menu: "菜单",
    language: "语言",
    switch_language: "切换",
    home_title: "在导师身边学编程",
    home_lead: "课程练习随学随评，导师按你的学习目标匹配，实时课堂支持视频和共享编辑器。",
    home_point_courses: "由课文、视频、测验和自动评分的编程练习组成的课程。",
    home_point_mentors: "按与你的契合度为导师排序，并说明理由。",
    home_point_live: "浏览器中的实时课堂：视频、聊天和结对编程。",
    home_get_started: "创建账号",
    home_welcome_back: "欢迎回来",
    demo_title: "演示账号",
    demo_lead: "本服务器运行在演示模式。可以用以下任一账号登录：",
    demo_role: "角色",
    email: "邮箱",
    password: "密码",
    display_name: "显示名称",
    sign_in_title: "登录",
    sign_in_submit: "登录",
    sign_in_no_account: "还没有账号？注册",
    sign_in_forgot: "忘记密码？",
    forgot_title: "重置密码",
    forgot_lead: "输入你注册时使用的邮箱地址。我们会向它发送一个设置新密码的链接，链接一小时内有效。",
    forgot_submit: "发送链接",
    forgot_sent: "如果该地址有账户，设置新密码的链接已经发出。请查看收件箱（以及垃圾邮件）；链接一小时内有效。",
    reset_title: "设置新密码",
    reset_submit: "保存新密码",
    reset_done: "你的密码已修改，所有会话均已退出。请用新密码登录。",
    mail_reset_subject: "重置你的 Pairwise 密码",
    mail_reset_body: "你好：\n\n有人（也许是你）申请重置你的 Pairwise 账户密码。请在一小时内通过下面的链接设置新密码：\n\n{link}\n\n如果不是你本人，请忽略这封邮件，你的密码不会改变。\n",
    sign_up_title: "创建账号",
    sign_up_submit: "注册",
    sign_up_have_account: "已有账号？登录",
    password_hint: "8 到 128 个字符。长短语最容易记住。",
    working: "处理中…",
    profile_title: "你的个人资料",
    profile_edit: "编辑个人资料",
    profile_saved: "个人资料已保存。",
    profile_save: "保存个人资料",
    bio: "关于你",
    skills: "技能",
    skills_hint: "每行一项，格式为“技能: 水平”，例如“Rust: intermediate”。水平：beginner、intermediate、advanced、expert。",
    languages: "你使用的语言",
    languages_hint: "用逗号分隔的语言代码，例如“en, zh”。",
    timezone: "时区",
    timezone_hint: "IANA 时区名称，例如 Europe/Berlin 或 Asia/Shanghai。",
    roles: "角色",
    role_learner: "学员",
    role_mentor: "导师",
    role_moderator: "版主",
    role_admin: "管理员",
    email_verified: "邮箱已验证",
    email_not_verified: "邮箱尚未验证",
    verify_email_sent: "我们已向你的邮箱发送验证链接。",
    verify_email_resend: "重新发送验证链接",
    verify_email_done: "你的邮箱已验证，谢谢！",
    verify_email_title: "确认你的邮箱地址",
    mail_verify_subject: "确认你在 Pairwise 的邮箱地址",
    mail_verify_body: "你好：\n\n请在 {hours} 小时内打开下面的链接，确认你的邮箱地址：\n\n{link}\n\n如果你没有注册 Pairwise，请忽略这封邮件。\n",
    mail_existing_subject: "你已经有一个 Pairwise 账户",
    mail_existing_body: "你好：\n\n有人（也许是你）尝试用这个地址创建 Pairwise 账户。该地址已有账户，因此没有创建新账户，你的账户也没有任何改动。\n\n如果是你本人，请在这里登录：\n\n{link}\n\n如果不是，可以忽略这封邮件。\n",
    verify_email_confirm: "确认我的邮箱",
    verify_email_failed: "该验证链接无效或已过期。请登录后在个人资料页重新申请。",
    change_email_title: "更改电子邮箱",
    new_email: "新的电子邮箱",
    change_email_submit: "发送确认链接",
    change_email_sent: "我们已向新地址发送链接。你在一小时内打开它后，地址才会更改。",
    confirm_email_title: "确认你的新地址",
    confirm_email_submit: "使用这个地址",
    confirm_email_done: "你的电子邮箱已更改。",
    confirm_email_failed: "此链接已被使用、已过期或无效。请在个人资料页重新申请。",
    mail_change_subject: "确认你在 Pairwise 的新电子邮箱",
    mail_change_body: "你好：\n\n有人登录 Pairwise 后申请把账户改用这个地址。请在一小时内通过下面的链接确认：\n\n{link}\n\n如果不是你本人，请忽略这封邮件，什么都不会改变。\n",
    mail_change_taken_body: "你好：\n\n有人登录 Pairwise 后申请把账户改用这个地址，但另一个账户已在使用它。什么都没有改变。\n\n如果这不是你预期的，可以忽略这封邮件。\n",
    mail_change_notice_subject: "你的 Pairwise 电子邮箱即将更改",
    mail_change_notice_body: "你好：\n\n有人登录你的 Pairwise 账户，申请把地址改为 {new}。只有打开发到该地址的链接后才会更改。\n\n如果不是你本人，请立即修改密码：{link}\n",
    mail_changed_subject: "你的 Pairwise 电子邮箱已更改",
    mail_changed_body: "你好：\n\n你的 Pairwise 账户地址现在是 {new}，这个地址不能再用于登录。\n\n如果不是你本人，请立即联系本 Pairwise 站点的管理者。\n",
    err_email_same: "这已经是你的地址。",
    change_password_title: "修改密码",
    current_password: "当前密码",
    new_password: "新密码",
    change_password_submit: "修改密码",
    password_changed: "密码已修改，你在其他设备上的登录已退出。",
    level_beginner: "入门",
    level_intermediate: "中级",
    level_advanced: "高级",
    level_expert: "专家",
    not_found_title: "页面不存在",
    not_found_lead: "这个地址没有内容。请检查链接，或从首页重新开始。",
    error_title: "出错了",
    error_lead: "页面无法显示。请稍后再试；如果问题持续，请联系管理员。",
    back_home: "返回首页",
    loading: "加载中…",
    deleted_user: "已删除的用户",
    signed_in_as: "当前登录",
    admin_title: "管理",
    admin_users: "用户",
    admin_grant: "授予",
    admin_revoke: "撤销",
    none_yet: "暂无",
    footer: "Pairwise — 可自托管的技术导师平台",
    err_email_invalid: "请输入邮箱地址，例如 ada@example.org。",
    err_email_taken: "该邮箱已注册。请直接登录，或使用其他邮箱。",
    err_too_many_mails: "过去一小时内我们已向该邮箱发送了三封链接邮件。请使用收件箱中最新的一封（也请查看垃圾邮件文件夹），或一小时后再试。",
    err_email_not_verified: "请先确认你的邮箱：打开我们发给你的链接，或在个人资料页重新申请。",
    sign_up_check_email: "就差一步：我们已向你填写的邮箱发送了一封邮件。打开其中的链接即可确认邮箱并登录。如果你已有账户，请在下方登录。",
    err_password_short: "密码至少需要 8 个字符。",
    err_password_long: "密码最多 128 个字符。",
    err_password_common: "这个密码在常用密码列表中，请选择一个更难猜的密码。",
    err_name_empty: "请输入其他人会看到的名称。",
    err_name_long: "名称请少于 60 个字符。",
    err_bio_long: "个人简介请少于 2000 个字符。",
    err_skill_invalid: "每行写一项技能，格式为“技能: 水平”，水平为 beginner、intermediate、advanced 或 expert。",
    err_too_many_skills: "最多列出 30 项技能。",
    err_language_invalid: "请使用语言代码，例如 en、zh 或 pt-BR，用逗号分隔。",
    err_timezone_invalid: "请使用 IANA 时区名称，例如 Europe/Berlin 或 Asia/Shanghai。",
    err_wrong_credentials: "邮箱和密码不匹配。请检查后重试。",
    err_wrong_current_password: "当前密码不正确，请重新输入。",
    err_too_many_attempts: "失败次数过多，请稍后再试。",
    err_unauthenticated: "请先登录。",
    err_forbidden: "你没有执行此操作的权限。",
    err_cross_origin: "该请求来自其他网站，已被拒绝。请直接打开 Pairwise 后重试。",
    err_rate_limited: "请求过于频繁，请稍等片刻再试。",
    err_not_found: "找不到该内容，它可能已被删除。",
    err_token_invalid: "该链接无效或已过期，请重新申请。",
    err_bad_request: "无法理解该请求。请刷新页面后重试。",
    err_internal: "服务器出了点问题，请稍后再试。",
    courses: &crate::courses::text::COURSES_ZH_HANS,
    exercises: &crate::exercises::text::EXERCISES_ZH_HANS,
    rooms: &crate::rooms::text::ROOMS_ZH_HANS,
    mentoring: &crate::mentoring::text::MENTORING_ZH_HANS,
    pairing: &crate::rooms::code::text::PAIR_ZH_HANS,
    progress: &crate::progress::text::PROGRESS_ZH_HANS,
    notify: &crate::notify::text::NOTIFY_ZH_HANS,
    forum: &crate::forum::text::FORUM_ZH_HANS,
    admin: &crate::admin::text::ADMIN_ZH_HANS,
    apply: &crate::mentoring::applications::text::APPLY_ZH_HANS,
    privacy: &crate::privacy::text::PRIVACY_ZH_HANS,
};

/// The name a deleted account keeps in the database (a shell whose posts others still read).
/// It is stored in one language and shown in the reader's: see [`person_name`].
pub const DELETED_NAME: &str = "deleted user";

/// A person's name as a reader in `locale` reads it: their own name, or for a deleted account
/// "deleted user" in the reader's language.
pub fn person_name(name: &str, locale: Locale) -> String {
    if name == DELETED_NAME {
        locale.strings().deleted_user.to_string()
    } else {
        name.to_string()
    }
}

/// A moment as a reader in `locale` and zone `tz` reads it: `Mon 7 Dec, 18:00` in English,
/// `12月7日 周一 18:00` in Chinese (chrono's own names are English only).
pub fn time_label(locale: Locale, t: chrono::DateTime<chrono::Utc>, tz: chrono_tz::Tz) -> String {
    use chrono::{Datelike, Timelike};
    let local = t.with_timezone(&tz);
    match locale {
        Locale::En => local.format("%a %-d %b, %H:%M").to_string(),
        Locale::ZhHans => format!(
            "{}月{}日 {} {:02}:{:02}",
            local.month(),
            local.day(),
            weekday_short(locale, local.weekday()),
            local.hour(),
            local.minute()
        ),
    }
}

/// A stored IANA zone name as a zone; one that no longer parses reads as UTC.
pub fn zone_named(name: &str) -> chrono_tz::Tz {
    name.parse().unwrap_or(chrono_tz::UTC)
}

/// A weekday's short name in `locale`.
pub fn weekday_short(locale: Locale, day: chrono::Weekday) -> &'static str {
    const EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
    let i = day.num_days_from_monday() as usize;
    match locale {
        Locale::En => EN[i],
        Locale::ZhHans => ZH[i],
    }
}

/// The language for the current request: the remembered choice, else the browser's
/// `Accept-Language`, else English. On the client, the language the server rendered in
/// (`<html lang>`), so hydration sees the same text.
pub fn initial_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        let headers = use_context::<http::request::Parts>()
            .map(|p| p.headers)
            .unwrap_or_default();
        locale_from_headers(&headers)
    }
    #[cfg(not(feature = "ssr"))]
    {
        #[cfg(feature = "hydrate")]
        {
            web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
                .and_then(|e| e.get_attribute("lang"))
                .and_then(|l| Locale::from_tag(&l))
                .unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            Locale::default()
        }
    }
}

#[cfg(feature = "ssr")]
pub fn locale_from_headers(headers: &http::HeaderMap) -> Locale {
    let from_cookie = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == LOCALE_COOKIE)
        .and_then(|(_, v)| Locale::from_tag(v));
    from_cookie
        .or_else(|| {
            headers
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_highest_quality_supported_language() {
        assert_eq!(
            Locale::from_accept_language("fr-FR, zh-CN;q=0.9, en;q=0.8"),
            Some(Locale::ZhHans)
        );
        assert_eq!(
            Locale::from_accept_language("en-US,en;q=0.9"),
            Some(Locale::En)
        );
        assert_eq!(
            Locale::from_accept_language("zh;q=0.5, en;q=0.6"),
            Some(Locale::En)
        );
        assert_eq!(Locale::from_accept_language("de, fr"), None);
        assert_eq!(Locale::from_accept_language("zh;q=0, en"), Some(Locale::En));
    }

    #[test]
    fn times_read_in_the_readers_language_and_zone() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(
            time_label(Locale::En, t, chrono_tz::UTC),
            "Mon 7 Dec, 10:00"
        );
        assert_eq!(
            time_label(Locale::ZhHans, t, chrono_tz::Asia::Shanghai),
            "12月7日 周一 18:00"
        );
    }

    #[test]
    fn tags_round_trip() {
        for l in Locale::ALL {
            assert_eq!(Locale::from_tag(l.tag()), Some(l));
        }
    }
}
