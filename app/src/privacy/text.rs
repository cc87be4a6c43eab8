//! The privacy page's words in every language.

pub struct PrivacyStrings {
    pub title: &'static str,
    pub lead: &'static str,
    pub kept_title: &'static str,
    /// What is kept, one line each.
    pub kept: &'static [&'static str],
    pub export_title: &'static str,
    pub export_lead: &'static str,
    pub export_submit: &'static str,
    pub delete_title: &'static str,
    pub delete_lead: &'static str,
    /// What deleting an account does, one line each.
    pub delete_effects: &'static [&'static str],
    pub delete_password: &'static str,
    pub delete_confirm: &'static str,
    pub delete_submit: &'static str,
    pub deleted: &'static str,
    pub sign_in_for_data: &'static str,
    pub err_not_confirmed: &'static str,
}

pub static PRIVACY_EN: PrivacyStrings = PrivacyStrings {
    title: "Privacy",
    lead: "What Pairwise keeps about you, why, and how to take it with you or delete it.",
    kept_title: "What we keep",
    kept: &[
        "Your account: e-mail address, name, profile, language, time zone and a hash of your password (never the password).",
        "What you do to learn: enrolments, progress, quiz answers, your code and its results, points and badges.",
        "What you write for others: forum posts, chat lines, reviews, feedback and notes in mentorships.",
        "Mentoring: requests, mentorships and sessions.",
        "Security: when and from which address you signed in, and mail sent to you.",
    ],
    export_title: "Download my data",
    export_lead: "One zip archive: a JSON file for each kind of record that refers to you, and the files you uploaded.",
    export_submit: "Download my data",
    delete_title: "Delete my account",
    delete_lead: "This cannot be undone. Download your data first if you want to keep it.",
    delete_effects: &[
        "You are signed out everywhere at once.",
        "Erased: your e-mail address, name, profile, password, sign-ins, notifications, progress, code, votes and follows.",
        "Kept for the people who rely on them, shown as by “deleted user”: your forum posts, chat lines, reviews and feedback.",
        "Your mentorships end and your future sessions are cancelled; the other side is told.",
    ],
    delete_password: "Your password",
    delete_confirm: "I understand that my account and data are deleted for good.",
    delete_submit: "Delete my account",
    deleted: "Your account is deleted.",
    sign_in_for_data: "Sign in to download or delete your data.",
    err_not_confirmed: "Tick the box to confirm that you want your account deleted.",
};

pub static PRIVACY_ZH_HANS: PrivacyStrings = PrivacyStrings {
    title: "隐私",
    lead: "Pairwise 保存了你的哪些信息、为什么保存，以及如何带走或删除它们。",
    kept_title: "我们保存的内容",
    kept: &[
        "你的账户：电子邮箱、名字、个人资料、语言、时区和密码的哈希（从不保存密码本身）。",
        "你的学习记录：选课、进度、测验答案、你的代码及其结果、积分和徽章。",
        "你为他人写下的内容：论坛帖子、聊天记录、代码评审、反馈和辅导笔记。",
        "辅导：请求、辅导关系和会话。",
        "安全：你何时从哪个地址登录，以及发给你的邮件。",
    ],
    export_title: "下载我的数据",
    export_lead: "一个 zip 压缩包：每类与你有关的记录一个 JSON 文件，以及你上传的文件。",
    export_submit: "下载我的数据",
    delete_title: "删除我的账户",
    delete_lead: "此操作无法撤销。如需保留数据，请先下载。",
    delete_effects: &[
        "你会立即在所有设备上退出登录。",
        "将被清除：你的电子邮箱、名字、个人资料、密码、登录记录、通知、进度、代码、投票和关注。",
        "为依赖它们的人保留，作者显示为“deleted user”（已删除的用户）：你的论坛帖子、聊天记录、评审和反馈。",
        "你的辅导关系结束，未来的会话被取消，并通知对方。",
    ],
    delete_password: "你的密码",
    delete_confirm: "我明白我的账户和数据将被永久删除。",
    delete_submit: "删除我的账户",
    deleted: "你的账户已删除。",
    sign_in_for_data: "登录后可下载或删除你的数据。",
    err_not_confirmed: "请勾选确认框，确认你要删除账户。",
};
