//! Account types shared by the browser and the server, and the parsers that turn raw form
//! input into them. The sign-up form and the server function call the same parsers.

use serde::{Deserialize, Serialize};

use crate::{error::Problem, i18n::Strings, ids::UserId};

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;
pub const NAME_MAX: usize = 60;
pub const BIO_MAX: usize = 2000;
pub const SKILLS_MAX: usize = 30;
pub const LANGUAGES_MAX: usize = 10;

/// A syntactically valid, lower-cased email address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let email = raw.trim().to_lowercase();
        let (local, domain) = email.split_once('@').ok_or(Problem::EmailInvalid)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && email.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && !domain.contains('@');
        if ok {
            Ok(Email(email))
        } else {
            Err(Problem::EmailInvalid)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of acceptable length. Whether it is common is checked on the server, where the
/// list lives (it would bloat the browser bundle).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let chars = raw.chars().count();
        if chars < PASSWORD_MIN {
            Err(Problem::PasswordTooShort)
        } else if chars > PASSWORD_MAX {
            Err(Problem::PasswordTooLong)
        } else {
            Ok(Password(raw.to_string()))
        }
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The name other people see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let name: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            Err(Problem::NameEmpty)
        } else if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
            Err(Problem::NameTooLong)
        } else {
            Ok(DisplayName(name))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How well someone knows a skill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Beginner,
    Intermediate,
    Advanced,
    Expert,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Beginner,
        Level::Intermediate,
        Level::Advanced,
        Level::Expert,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Level::Beginner => "beginner",
            Level::Intermediate => "intermediate",
            Level::Advanced => "advanced",
            Level::Expert => "expert",
        }
    }
    pub fn label(self, s: &Strings) -> &'static str {
        match self {
            Level::Beginner => s.level_beginner,
            Level::Intermediate => s.level_intermediate,
            Level::Advanced => s.level_advanced,
            Level::Expert => s.level_expert,
        }
    }
    pub fn parse(raw: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| l.key().eq_ignore_ascii_case(raw.trim()))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skill {
    pub name: String,
    pub level: Level,
}

/// Parses one skill per line, `name: level`; blank lines are skipped, duplicates refused.
pub fn parse_skills(raw: &str) -> Result<Vec<Skill>, Problem> {
    let mut skills: Vec<Skill> = Vec::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (name, level) = line.rsplit_once(':').ok_or(Problem::SkillInvalid)?;
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        let level = Level::parse(level).ok_or(Problem::SkillInvalid)?;
        if name.is_empty() || name.chars().count() > 40 {
            return Err(Problem::SkillInvalid);
        }
        if skills.iter().any(|s| s.name.eq_ignore_ascii_case(&name)) {
            return Err(Problem::SkillInvalid);
        }
        skills.push(Skill { name, level });
    }
    if skills.len() > SKILLS_MAX {
        return Err(Problem::TooManySkills);
    }
    Ok(skills)
}

/// The inverse of [`parse_skills`], for filling the form.
pub fn format_skills(skills: &[Skill]) -> String {
    skills
        .iter()
        .map(|s| format!("{}: {}", s.name, s.level.key()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses comma-separated language tags (`en, zh, pt-BR`) into normalised BCP 47-like tags.
pub fn parse_languages(raw: &str) -> Result<Vec<String>, Problem> {
    let mut out: Vec<String> = Vec::new();
    for tag in raw
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let mut parts = tag.split('-');
        let primary = parts.next().unwrap_or_default();
        if !(2..=3).contains(&primary.len()) || !primary.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(Problem::LanguageInvalid);
        }
        let mut norm = primary.to_ascii_lowercase();
        for sub in parts {
            if !(2..=8).contains(&sub.len()) || !sub.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(Problem::LanguageInvalid);
            }
            norm.push('-');
            norm.push_str(&match sub.len() {
                2 => sub.to_ascii_uppercase(),
                4 => {
                    let mut c = sub.to_ascii_lowercase();
                    c[..1].make_ascii_uppercase();
                    c
                }
                _ => sub.to_ascii_lowercase(),
            });
        }
        if !out.contains(&norm) {
            out.push(norm);
        }
    }
    if out.len() > LANGUAGES_MAX {
        return Err(Problem::LanguageInvalid);
    }
    Ok(out)
}

/// An IANA time zone name, checked against the time zone database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timezone(String);

impl Timezone {
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let raw = raw.trim();
        let tz: chrono_tz::Tz = raw.parse().map_err(|_| Problem::TimezoneInvalid)?;
        Ok(Timezone(tz.name().to_string()))
    }
    pub fn utc() -> Self {
        Timezone("UTC".into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn parse_bio(raw: &str) -> Result<String, Problem> {
    let bio = raw.trim().replace("\r\n", "\n");
    if bio.chars().count() > BIO_MAX {
        Err(Problem::BioTooLong)
    } else {
        Ok(bio)
    }
}

/// What a user may be. One user may hold several roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Learner,
    Mentor,
    /// Keeps the forum clean: hides, locks, moves and deletes posts, works the report queue.
    Moderator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Learner, Role::Mentor, Role::Moderator, Role::Admin];

    pub fn key(self) -> &'static str {
        match self {
            Role::Learner => "learner",
            Role::Mentor => "mentor",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == raw.trim())
    }
    pub fn label(self, s: &Strings) -> &'static str {
        match self {
            Role::Learner => s.role_learner,
            Role::Mentor => s.role_mentor,
            Role::Moderator => s.role_moderator,
            Role::Admin => s.role_admin,
        }
    }
}

/// What a set of roles allows; pages and server functions ask these, never compare roles.
pub trait Capabilities {
    fn has(&self, role: Role) -> bool;
    fn can_administer(&self) -> bool {
        self.has(Role::Admin)
    }
    fn can_mentor(&self) -> bool {
        self.has(Role::Mentor) || self.has(Role::Admin)
    }
    fn can_moderate(&self) -> bool {
        self.has(Role::Moderator) || self.has(Role::Admin)
    }
}

impl Capabilities for [Role] {
    fn has(&self, role: Role) -> bool {
        self.contains(&role)
    }
}

/// The signed-in user, as the pages see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub email_verified: bool,
}

/// A profile as its owner sees and edits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub bio: String,
    pub skills: Vec<Skill>,
    pub languages: Vec<String>,
    pub timezone: String,
    pub roles: Vec<Role>,
    pub email_verified: bool,
}

/// A parsed, valid profile edit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub display_name: DisplayName,
    pub bio: String,
    pub skills: Vec<Skill>,
    pub languages: Vec<String>,
    pub timezone: Timezone,
}

impl ProfileUpdate {
    pub fn parse(
        display_name: &str,
        bio: &str,
        skills: &str,
        languages: &str,
        timezone: &str,
    ) -> Result<Self, Problem> {
        Ok(ProfileUpdate {
            display_name: DisplayName::parse(display_name)?,
            bio: parse_bio(bio)?,
            skills: parse_skills(skills)?,
            languages: parse_languages(languages)?,
            timezone: Timezone::parse(timezone)?,
        })
    }
}

/// A demo account shown on the home page in demo mode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoAccount {
    pub email: String,
    pub password: String,
    pub role: Role,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased_and_nonsense_is_refused() {
        assert_eq!(
            Email::parse("  Ada@Example.ORG ").map(|e| e.0),
            Ok("ada@example.org".into())
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@example",
            "a b@example.org",
            "ada@.org",
            "a@b@c.org",
        ] {
            assert_eq!(Email::parse(bad), Err(Problem::EmailInvalid), "{bad}");
        }
    }

    #[test]
    fn passwords_must_be_8_to_128_characters_counted_as_characters_not_bytes() {
        assert_eq!(
            Password::parse("1234567").err(),
            Some(Problem::PasswordTooShort)
        );
        assert!(Password::parse("密码密码密码密码").is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(129)).err(),
            Some(Problem::PasswordTooLong)
        );
        assert!(Password::parse(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn display_names_collapse_spaces_and_must_not_be_blank() {
        assert_eq!(
            DisplayName::parse("  Ada   Lovelace ").map(|n| n.0),
            Ok("Ada Lovelace".into())
        );
        assert_eq!(DisplayName::parse("   "), Err(Problem::NameEmpty));
        assert_eq!(
            DisplayName::parse(&"n".repeat(61)),
            Err(Problem::NameTooLong)
        );
    }

    #[test]
    fn skills_parse_one_per_line_with_a_level() {
        let skills =
            parse_skills("Rust: intermediate\n\n  Async Rust : EXPERT ").unwrap_or_default();
        assert_eq!(
            skills,
            vec![
                Skill {
                    name: "Rust".into(),
                    level: Level::Intermediate
                },
                Skill {
                    name: "Async Rust".into(),
                    level: Level::Expert
                },
            ]
        );
        assert_eq!(parse_skills("Rust"), Err(Problem::SkillInvalid));
        assert_eq!(parse_skills("Rust: guru"), Err(Problem::SkillInvalid));
        assert_eq!(
            parse_skills("Rust: beginner\nrust: expert"),
            Err(Problem::SkillInvalid)
        );
        assert_eq!(parse_skills(&format_skills(&skills)), Ok(skills));
    }

    #[test]
    fn languages_are_normalised_and_deduplicated() {
        assert_eq!(
            parse_languages("EN, zh-hans-cn, pt-br, en"),
            Ok(vec!["en".into(), "zh-Hans-CN".into(), "pt-BR".into()])
        );
        assert_eq!(parse_languages("english"), Err(Problem::LanguageInvalid));
        assert_eq!(parse_languages(""), Ok(vec![]));
    }

    #[test]
    fn time_zones_must_exist() {
        assert_eq!(
            Timezone::parse("Asia/Shanghai").map(|t| t.0),
            Ok("Asia/Shanghai".into())
        );
        assert_eq!(
            Timezone::parse("Mars/Olympus"),
            Err(Problem::TimezoneInvalid)
        );
    }

    #[test]
    fn capabilities_follow_roles() {
        assert!([Role::Admin][..].can_mentor());
        assert!(![Role::Learner][..].can_administer());
        assert!([Role::Learner, Role::Mentor][..].can_mentor());
    }
}
