//! Courses as code: a course folder (`course.toml`, `description.md`, one Markdown file per
//! lesson, `media/` for videos) read into a bundle and written back out. Import checks every
//! field and reports problems with the file and line they come from.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use app::{
    courses::{
        bundle::{CourseBundle, LessonBundle},
        model::{
            DESCRIPTION_MAX, LessonKind, Level, SUMMARY_MAX, Slug, TITLE_MAX, parse_language,
            parse_tags,
        },
        repo,
    },
    exercises::{grading::grade_solution, model::ExerciseSpec},
    i18n::EN,
    state::AppState,
};

/// Largest video accepted, by upload or import.
pub const VIDEO_MAX_BYTES: u64 = 200 * 1024 * 1024;

/// What a video file is, judged by its first bytes (never by its name or declared type).
pub fn sniff_video(head: &[u8]) -> Option<&'static str> {
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return Some("mp4");
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) && head.windows(4).take(64).any(|w| w == b"webm")
    {
        return Some("webm");
    }
    None
}

/// The 1-based line of `course.toml` where `needle` first appears (for error messages).
fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map_or(1, |at| text[..at].matches('\n').count() + 1)
}

/// Refuses a path under `dir` that is, or passes through, a symbolic link: a course folder
/// comes from an author, and a link in it could make the server read (and publish) any file
/// it can reach, such as its own database or keys. Only real files inside the folder.
fn real_file(dir: &Path, path: &Path) -> anyhow::Result<()> {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    let mut at = dir.to_path_buf();
    for part in rel.components() {
        at.push(part);
        let meta = std::fs::symlink_metadata(&at)
            .with_context(|| format!("{}:1: cannot read", at.display()))?;
        if meta.file_type().is_symlink() {
            bail!(
                "{}:1: a symbolic link; a course folder takes real files only (a link could point anywhere on the server)",
                at.display()
            );
        }
    }
    if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        bail!("{}:1: not a regular file", path.display());
    }
    Ok(())
}

/// Reads and checks a course folder.
pub fn read_folder(dir: &Path) -> anyhow::Result<CourseBundle> {
    let toml_path = dir.join("course.toml");
    real_file(dir, &toml_path)?;
    let text = std::fs::read_to_string(&toml_path)
        .with_context(|| format!("{}: cannot read", toml_path.display()))?;
    let mut bundle: CourseBundle = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(1, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        anyhow::anyhow!("{}:{line}: {}", toml_path.display(), e.message())
    })?;
    let at = |needle: &str, problem: &str| -> anyhow::Error {
        anyhow::anyhow!(
            "{}:{}: {problem}",
            toml_path.display(),
            line_of(&text, needle)
        )
    };
    let words = |p: app::error::Problem| p.text(&EN).to_string();
    Slug::parse(&bundle.slug).map_err(|p| at("slug", &words(p)))?;
    let title = bundle.title.trim();
    if title.is_empty() || title.chars().count() > TITLE_MAX {
        return Err(at("title", "the title must be 1 to 120 characters"));
    }
    if bundle.summary.chars().count() > SUMMARY_MAX {
        return Err(at("summary", "the summary must be at most 300 characters"));
    }
    Level::parse(&bundle.level).map_err(|p| at("level", &words(p)))?;
    bundle.language = parse_language(&bundle.language).map_err(|p| at("language", &words(p)))?;
    bundle.tags = parse_tags(&bundle.tags.join(",")).map_err(|p| at("tags", &words(p)))?;
    for date in [&bundle.starts_on, &bundle.ends_on].into_iter().flatten() {
        chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| at(date, "dates look like 2026-03-01"))?;
    }
    let description = dir.join("description.md");
    bundle.description = if std::fs::symlink_metadata(&description).is_ok() {
        real_file(dir, &description)?;
        std::fs::read_to_string(&description)
            .with_context(|| format!("{}: cannot read", description.display()))?
    } else {
        String::new()
    };
    if bundle.description.chars().count() > DESCRIPTION_MAX {
        bail!("{}:1: longer than 50,000 characters", description.display());
    }
    for section in &mut bundle.sections {
        if section.title.trim().is_empty() {
            return Err(at("[[section]]", "every section needs a title"));
        }
        for lesson in &mut section.lessons {
            check_lesson(dir, lesson, &at)?;
        }
    }
    Ok(bundle)
}

fn check_lesson(
    dir: &Path,
    lesson: &mut LessonBundle,
    at: &dyn Fn(&str, &str) -> anyhow::Error,
) -> anyhow::Result<()> {
    let here = format!("\"{}\"", lesson.file);
    let kind = LessonKind::parse(&lesson.kind)
        .map_err(|_| at(&here, "kind must be text, video, quiz or exercise"))?;
    if lesson.title.trim().is_empty() || lesson.title.chars().count() > TITLE_MAX {
        return Err(at(&here, "the lesson title must be 1 to 120 characters"));
    }
    // Lesson files stay inside the folder.
    if lesson.file.contains("..") || Path::new(&lesson.file).is_absolute() {
        return Err(at(
            &here,
            "the lesson file must be inside the course folder",
        ));
    }
    let path = dir.join(&lesson.file);
    real_file(dir, &path)?;
    lesson.body = std::fs::read_to_string(&path)
        .with_context(|| format!("{}:1: cannot read the lesson file", path.display()))?;
    if lesson.body.chars().count() > DESCRIPTION_MAX {
        bail!("{}:1: longer than 50,000 characters", path.display());
    }
    match kind {
        LessonKind::Video => {
            let video = lesson
                .video
                .as_deref()
                .ok_or_else(|| at(&here, "a video lesson needs `video`"))?;
            if !(lesson.video_secs.is_some_and(|d| d > 0.0 && d.is_finite())) {
                return Err(at(
                    &here,
                    "a video lesson needs `video_secs` (its duration)",
                ));
            }
            if !video.starts_with("https://") {
                let file = media_path(dir, video).map_err(|e| at(&here, &e.to_string()))?;
                let head = read_head(&file)?;
                if sniff_video(&head).is_none() {
                    bail!("{}: not an MP4 or WebM video", file.display());
                }
            }
            if let Some(captions) = lesson
                .captions
                .as_deref()
                .filter(|c| !c.starts_with("https://"))
            {
                let file = media_path(dir, captions).map_err(|e| at(&here, &e.to_string()))?;
                if !read_head(&file)?.starts_with(b"WEBVTT") {
                    bail!("{}:1: captions must be a WebVTT file", file.display());
                }
            }
        }
        LessonKind::Quiz => {
            if lesson.questions.is_empty() {
                return Err(at(
                    &here,
                    "a quiz needs at least one [[section.lesson.question]]",
                ));
            }
            if lesson.attempts.is_some_and(|n| !(1..=20).contains(&n)) {
                return Err(at(
                    &here,
                    "`attempts` must be from 1 to 20 (leave it out for no limit)",
                ));
            }
            for q in &lesson.questions {
                let qhere = q.prompt.lines().next().unwrap_or_default();
                if q.choices.len() < 2 || q.choices.len() > 10 {
                    return Err(at(qhere, "a question needs 2 to 10 choices"));
                }
                if q.correct.is_empty() || q.correct.iter().any(|c| *c as usize >= q.choices.len())
                {
                    return Err(at(qhere, "`correct` must list choice numbers from 0"));
                }
            }
        }
        LessonKind::Exercise => {
            let file = lesson.exercise.as_deref().ok_or_else(|| {
                at(
                    &here,
                    "an exercise lesson needs `exercise = \"exercises/<name>.toml\"`",
                )
            })?;
            let name = file
                .strip_prefix("exercises/")
                .filter(|n| n.ends_with(".toml") && !n.contains('/') && !n.contains(".."))
                .ok_or_else(|| at(&here, "`exercise` must be exercises/<name>.toml"))?;
            let path = dir.join("exercises").join(name);
            real_file(dir, &path)?;
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("{}:1: cannot read the exercise file", path.display()))?;
            let spec = ExerciseSpec::from_toml(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            lesson.exercise_spec = Some(spec);
        }
        LessonKind::Text => {}
    }
    Ok(())
}

/// Runs every exercise's reference solution through the grader: a course whose exercise
/// nobody could pass is refused, with the failing tests named.
pub async fn validate_exercises(state: &AppState, bundle: &CourseBundle) -> anyhow::Result<()> {
    for lesson in bundle.sections.iter().flat_map(|s| &s.lessons) {
        let Some(spec) = &lesson.exercise_spec else {
            continue;
        };
        let graded = grade_solution(state.grader.as_ref(), "course-import", spec)
            .await
            .map_err(|e| anyhow::anyhow!("grading the reference solution: {e}"))?;
        let failing: Vec<String> = graded
            .results
            .iter()
            .filter(|r| !r.verdict.passed)
            .map(|r| format!("\"{}\" ({:?})", r.test.name, r.verdict.outcome))
            .collect();
        if !failing.is_empty() {
            bail!(
                "{}: the reference solution fails {}",
                lesson.exercise.as_deref().unwrap_or(&lesson.file),
                failing.join(", ")
            );
        }
    }
    Ok(())
}

/// `media/<name>` inside the folder, refusing anything that would leave it.
fn media_path(dir: &Path, rel: &str) -> anyhow::Result<PathBuf> {
    let name = rel
        .strip_prefix("media/")
        .filter(|n| !n.is_empty() && !n.contains('/') && !n.contains("..") && !n.contains('\\'))
        .with_context(|| format!("`{rel}` must be media/<file> or an https:// URL"))?;
    let path = dir.join("media").join(name);
    real_file(dir, &path)?;
    Ok(path)
}

fn read_head(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = vec![0u8; 64];
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("{}: cannot open the video", path.display()))?;
    let n = f.read(&mut head)?;
    head.truncate(n);
    Ok(head)
}

/// Imports a folder: its videos are copied into `media_dir` under server-made names, then the
/// course is written in one transaction (replacing a course with the same slug).
pub async fn import(state: &AppState, media_dir: &Path, dir: &Path) -> anyhow::Result<String> {
    let bundle = read_folder(dir)?;
    validate_exercises(state, &bundle).await?;
    std::fs::create_dir_all(media_dir)
        .with_context(|| format!("creating {}", media_dir.display()))?;
    let mut stored: Vec<(String, String)> = Vec::new();
    for lesson in bundle.sections.iter().flat_map(|s| &s.lessons) {
        if let Some(captions) = lesson
            .captions
            .as_deref()
            .filter(|c| !c.starts_with("https://"))
        {
            let from = media_path(dir, captions)?;
            let name = format!("{}.vtt", app::db::new_key());
            std::fs::copy(&from, media_dir.join(&name))
                .with_context(|| format!("copying {}", from.display()))?;
            stored.push((captions.to_string(), name));
        }
        if let Some(video) = lesson
            .video
            .as_deref()
            .filter(|v| !v.starts_with("https://"))
        {
            let from = media_path(dir, video)?;
            let ext = sniff_video(&read_head(&from)?).unwrap_or("bin");
            let len = std::fs::metadata(&from)?.len();
            if len > VIDEO_MAX_BYTES {
                bail!(
                    "{}: larger than {} MB",
                    from.display(),
                    VIDEO_MAX_BYTES >> 20
                );
            }
            let name = format!("{}.{ext}", app::db::new_key());
            std::fs::copy(&from, media_dir.join(&name))
                .with_context(|| format!("copying {}", from.display()))?;
            stored.push((video.to_string(), name));
        }
    }
    let authors = repo::users_by_email(&state.db, &bundle.authors).await?;
    let stored_name = |v: &String| {
        stored
            .iter()
            .find(|(from, _)| from == v)
            .map_or_else(|| v.clone(), |(_, name)| name.clone())
    };
    let mut bundle = bundle;
    for lesson in bundle.sections.iter_mut().flat_map(|s| &mut s.lessons) {
        lesson.video = lesson.video.as_ref().map(stored_name);
        lesson.captions = lesson.captions.as_ref().map(stored_name);
    }
    repo::import_bundle(&state.db, &bundle, &authors, state.clock.now())
        .await
        .map_err(|e| anyhow::anyhow!("storing the course: {e}"))?;
    // Imports are rare and may publish, unpublish or rewrite the course: index everything anew.
    state
        .catalog
        .rebuild(&state.db)
        .await
        .map_err(|e| anyhow::anyhow!("indexing the catalog: {e}"))?;
    Ok(bundle.slug)
}

/// Writes a course out as a folder that [`import`] reads back to the same course.
pub async fn export(
    state: &AppState,
    media_dir: &Path,
    slug: &str,
    dir: &Path,
) -> anyhow::Result<()> {
    let mut bundle = repo::export_bundle(&state.db, slug)
        .await
        .map_err(|e| anyhow::anyhow!("reading the course: {e}"))?
        .with_context(|| format!("no course with the address {slug}"))?;
    std::fs::create_dir_all(dir.join("lessons"))?;
    std::fs::write(dir.join("description.md"), &bundle.description)?;
    for (si, section) in bundle.sections.iter_mut().enumerate() {
        for (li, lesson) in section.lessons.iter_mut().enumerate() {
            lesson.file = format!("lessons/{:02}-{:02}.md", si + 1, li + 1);
            std::fs::write(dir.join(&lesson.file), &lesson.body)?;
            if let Some(spec) = &lesson.exercise_spec {
                let name = format!("exercises/{:02}-{:02}.toml", si + 1, li + 1);
                std::fs::create_dir_all(dir.join("exercises"))?;
                let text =
                    toml::to_string_pretty(&spec.to_file()).context("writing an exercise")?;
                std::fs::write(dir.join(&name), text)?;
                lesson.exercise = Some(name);
            }
            // Named by position, so exporting the same course twice gives the same folder.
            for file in [&mut lesson.video, &mut lesson.captions] {
                if let Some(name) = file.clone().filter(|v| !v.starts_with("https://")) {
                    let ext = Path::new(&name)
                        .extension()
                        .and_then(|e| e.to_str())
                        .unwrap_or("bin");
                    let out = format!("{:02}-{:02}.{ext}", si + 1, li + 1);
                    std::fs::create_dir_all(dir.join("media"))?;
                    std::fs::copy(media_dir.join(&name), dir.join("media").join(&out))
                        .with_context(|| format!("copying the media file {name}"))?;
                    *file = Some(format!("media/{out}"));
                }
            }
        }
    }
    let text = toml::to_string_pretty(&bundle).context("writing course.toml")?;
    std::fs::write(dir.join("course.toml"), text)?;
    Ok(())
}

// `DEMO_COURSE_FILES`: every file under `server/demo-courses/`, by its path there (build.rs).
include!(concat!(env!("OUT_DIR"), "/demo_courses.rs"));

/// The demo courses shipped with Pairwise, loaded in demo mode when no course exists yet.
/// They are compiled into the binary and unpacked into a temporary folder for the import, so a
/// binary finds them wherever it runs.
pub async fn ensure_demo_courses(state: &AppState, media_dir: &Path) -> anyhow::Result<()> {
    if repo::course_count(&state.db)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        > 0
    {
        return Ok(());
    }
    let unpacked = tempfile::tempdir().context("creating a folder for the demo courses")?;
    let root = unpacked.path();
    for (relative, bytes) in DEMO_COURSE_FILES {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes).with_context(|| format!("unpacking {relative}"))?;
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("course.toml").exists())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        tracing::warn!("this build holds no demo course: none loaded");
    }
    for dir in dirs {
        let slug = import(state, media_dir, &dir).await?;
        tracing::info!(%slug, "demo course loaded");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_carries_every_demo_course_folder_whole() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo-courses");
        for entry in std::fs::read_dir(&root).unwrap() {
            let course = entry.unwrap().file_name().into_string().unwrap();
            let manifest = format!("{course}/course.toml");
            let embedded = DEMO_COURSE_FILES
                .iter()
                .find(|(path, _)| *path == manifest)
                .unwrap_or_else(|| panic!("{manifest} is not in the binary"));
            assert_eq!(
                embedded.1,
                std::fs::read(root.join(&manifest)).unwrap().as_slice()
            );
        }
    }

    #[test]
    fn videos_are_recognised_by_their_bytes_not_their_name() {
        let mut mp4 = vec![0, 0, 0, 0x20];
        mp4.extend_from_slice(b"ftypisom\0\0\0\0");
        assert_eq!(sniff_video(&mp4), Some("mp4"));
        let mut webm = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01];
        webm.extend_from_slice(b"\x42\x82\x84webm");
        assert_eq!(sniff_video(&webm), Some("webm"));
        assert_eq!(sniff_video(b"<html><script>alert(1)</script>"), None);
        assert_eq!(sniff_video(b""), None);
    }

    #[test]
    fn media_paths_cannot_leave_the_folder_or_follow_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::create_dir(dir.join("media")).unwrap();
        std::fs::write(dir.join("media/a.webm"), b"x").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", dir.join("media/b.webm")).unwrap();
        assert!(media_path(dir, "media/a.webm").is_ok());
        let err = media_path(dir, "media/b.webm").unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        for bad in [
            "media/../x",
            "../media/a",
            "/etc/passwd",
            "media/",
            "media/a/b",
        ] {
            assert!(media_path(dir, bad).is_err(), "{bad}");
        }
    }
}
