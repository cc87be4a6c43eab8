//! `pairwise backup <file>` and `pairwise restore <file>`: one archive holding a SurrealQL
//! export of the whole database (`database.surql`) and the media folder (`media/…`), and its
//! import into an empty data directory.
//!
//! A backup is consistent while the server keeps serving: SurrealDB exports inside one read
//! transaction, so the database in it is as it was at one instant, whatever is written
//! meanwhile. The media files are copied just after that instant: uploads are new files under
//! new names, so one made meanwhile may be in the archive without the lesson that names it
//! (harmless), but a file the database names is never missing unless it was deleted in those
//! seconds. The embedded database allows one process at a time, so while a server runs,
//! `pairwise backup` asks it to write the archive (through `control`, a socket only the data
//! directory's owner can open); the server also writes them on a schedule
//! (`PAIRWISE_BACKUP_DIR`, `PAIRWISE_BACKUP_EVERY`, `PAIRWISE_BACKUP_KEEP`, see [`schedule`]).
//! `restore` also reads a bare `.surql` export (what earlier versions wrote).

use std::{
    io::Write,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use app::db::Db;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Prints a progress line on stderr, rewritten in place.
fn progress(what: &str, bytes: u64, started: Instant) {
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\r{what}: {} ({:.1} s)   ",
        human(bytes),
        started.elapsed().as_secs_f64()
    );
    let _ = err.flush();
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// Writes the archive `file`: the database export, then every file of `media`. Written under
/// a temporary name and renamed, so a failed backup never leaves a truncated file under the
/// real name; readable by its owner only (it holds every password hash). Answers its size.
pub async fn backup(db: &Db, media: &Path, file: &Path) -> anyhow::Result<u64> {
    backup_quietly(db, media, file, false).await
}

/// [`backup`], without the progress line when `quiet` (inside the server, whose log is not
/// a terminal).
async fn backup_quietly(db: &Db, media: &Path, file: &Path, quiet: bool) -> anyhow::Result<u64> {
    let started = Instant::now();
    let export = file.with_extension("partial-db");
    let written = export_to(db, &export, (!quiet).then_some(started)).await;
    let archive = match written {
        Ok(_) => {
            let (export, media, file) = (export.clone(), media.to_path_buf(), file.to_path_buf());
            tokio::task::spawn_blocking(move || write_archive(&export, &media, &file))
                .await
                .context("the archive task")?
        }
        Err(e) => Err(e),
    };
    let _ = tokio::fs::remove_file(&export).await;
    let size = archive?;
    if !quiet {
        progress("backed up", size, started);
        eprintln!();
    }
    Ok(size)
}

/// The database alone, as a bare SurrealQL export (the upgrade tests' fixtures): written
/// under a temporary name, then renamed.
pub async fn export_surql(db: &Db, file: &Path) -> anyhow::Result<u64> {
    let tmp = file.with_extension("partial");
    let written = export_to(db, &tmp, Some(Instant::now())).await?;
    tokio::fs::rename(&tmp, file)
        .await
        .with_context(|| format!("renaming to {}", file.display()))?;
    eprintln!();
    Ok(written)
}

/// Streams the database export into `to` (0600).
async fn export_to(db: &Db, to: &Path, started: Option<Instant>) -> anyhow::Result<u64> {
    // A leftover from a failed run would keep its own mode, so it goes first.
    let _ = tokio::fs::remove_file(to).await;
    let mut out = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(to)
        .await
        .with_context(|| format!("creating {}", to.display()))?;
    let mut stream = db.export(()).await.context("starting the export")?;
    let mut written = 0u64;
    let mut last = Instant::now();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.context("reading the export")?;
        out.write_all(&chunk).await.context("writing the backup")?;
        written += chunk.len() as u64;
        if let Some(started) = started
            && last.elapsed() > Duration::from_millis(200)
        {
            progress("backing up", written, started);
            last = Instant::now();
        }
    }
    out.sync_all().await.context("syncing the export to disk")?;
    Ok(written)
}

/// The name of the export inside an archive.
const DATABASE_ENTRY: &str = "database.surql";

fn write_archive(export: &Path, media: &Path, file: &Path) -> anyhow::Result<u64> {
    let tmp = file.with_extension("partial");
    let written = write_archive_to(export, media, &tmp, file);
    if written.is_err() {
        // Never a half-written archive left behind (it would hold password hashes too).
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

fn write_archive_to(export: &Path, media: &Path, tmp: &Path, file: &Path) -> anyhow::Result<u64> {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(tmp);
    let out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    let mut zip = zip::ZipWriter::new(out);
    let text = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    // Videos are compressed already: stored as they are.
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    zip.start_file(DATABASE_ENTRY, text)?;
    std::io::copy(
        &mut std::fs::File::open(export).context("reading the export")?,
        &mut zip,
    )?;
    for (name, path) in media_files(media)? {
        // A file deleted since the listing is simply not in this backup.
        let Ok(mut f) = std::fs::File::open(&path) else {
            continue;
        };
        zip.start_file(format!("media/{name}"), stored)?;
        std::io::copy(&mut f, &mut zip)?;
    }
    let out = zip.finish()?;
    out.sync_all().context("syncing the backup to disk")?;
    let size = out.metadata()?.len();
    drop(out);
    std::fs::rename(tmp, file).with_context(|| format!("renaming to {}", file.display()))?;
    Ok(size)
}

/// Every file under `root`, by its path relative to it (`/`-separated); none when there is no
/// such folder yet.
fn media_files(root: &Path) -> anyhow::Result<Vec<(String, std::path::PathBuf)>> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(dir) = folders.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_file()
                // An upload still arriving (`*.part`) is nobody's file yet.
                && path.extension().is_none_or(|e| e != "part")
                && let Ok(rel) = path.strip_prefix(root)
            {
                let name = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                found.push((name, path));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Restores an archive (or a bare export) into an empty database and media folder, showing
/// elapsed time while it runs.
pub async fn restore(db: &Db, media: &Path, file: &Path) -> anyhow::Result<()> {
    let mut magic = [0u8; 4];
    {
        let mut f = tokio::fs::File::open(file)
            .await
            .with_context(|| format!("reading {}", file.display()))?;
        let _ = f.read(&mut magic).await?;
    }
    if &magic != b"PK\x03\x04" {
        return import(db, file).await;
    }
    ensure_empty(db).await?;
    if !media_files(media)?.is_empty() {
        bail!(
            "{} is not empty; restore only into a new data directory (set PAIRWISE_DATA_DIR to an empty folder)",
            media.display()
        );
    }
    // The export is unpacked beside the media folder (inside the data directory, which is
    // the operator's), and removed on every way out: it holds every password hash.
    let export = media.with_file_name("restoring.surql");
    let unpacked = {
        let (file, export, media) = (file.to_path_buf(), export.clone(), media.to_path_buf());
        tokio::task::spawn_blocking(move || unpack(&file, &export, &media))
            .await
            .context("the archive task")
            .and_then(|r| r)
    };
    let done = match unpacked {
        Ok(()) => import(db, &export).await,
        Err(e) => Err(e),
    };
    let _ = tokio::fs::remove_file(&export).await;
    done
}

/// Writes the archive's export to `export` and its media under `media`.
fn unpack(file: &Path, export: &Path, media: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(file)?).context("reading the archive")?;
    {
        let mut entry = zip
            .by_name(DATABASE_ENTRY)
            .context("the archive holds no database.surql")?;
        if let Some(dir) = export.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // A leftover would keep its own mode: removed, then made anew as 0600.
        let _ = std::fs::remove_file(export);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(export)?;
        std::io::copy(&mut entry, &mut out)?;
    }
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i)?;
        // Only names that stay inside the folder (no `..`, no absolute paths).
        let Some(name) = entry.enclosed_name() else {
            continue;
        };
        let Ok(rel) = name.strip_prefix("media") else {
            continue;
        };
        if entry.is_dir() || rel.as_os_str().is_empty() {
            continue;
        }
        let to = media.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = std::fs::File::create(&to)?;
        std::io::copy(&mut entry, &mut out)?;
    }
    Ok(())
}

/// Refuses a database that has tables already: a restore never merges.
async fn ensure_empty(db: &Db) -> anyhow::Result<()> {
    let mut res = db
        .query("RETURN array::len(object::keys((INFO FOR DB).tables ?? {}))")
        .await?;
    let tables: Option<i64> = res.take(0)?;
    if tables.unwrap_or(0) > 0 {
        bail!(
            "the database is not empty; restore only into a new data directory (set PAIRWISE_DATA_DIR to an empty folder)"
        );
    }
    Ok(())
}

/// Imports a SurrealQL export into an empty database.
async fn import(db: &Db, file: &Path) -> anyhow::Result<()> {
    let size = tokio::fs::metadata(file)
        .await
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    ensure_empty(db).await?;
    let started = Instant::now();
    let import = std::future::IntoFuture::into_future(db.import(file));
    tokio::pin!(import);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            done = &mut import => {
                done.context("importing the backup")?;
                break;
            }
            _ = tick.tick() => progress(&format!("restoring {}", human(size)), 0, started),
        }
    }
    eprintln!(
        "\rrestored {} in {:.1} s          ",
        human(size),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

// ---- backups of a running server -------------------------------------------------------

/// The control socket of the server whose data directory is `data_dir`.
pub fn control_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("control.sock")
}

/// What `pairwise backup` sends: one JSON line.
#[derive(serde::Serialize, serde::Deserialize)]
struct Ask {
    backup: std::path::PathBuf,
}

/// And what it hears back: one JSON line.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Written { bytes: u64 },
    Failed { error: String },
}

/// Serves backups on the control socket at `path` until the task is dropped. The socket is
/// made 0600, so only the data directory's owner (who could read the database files anyway)
/// can ask; one backup runs at a time.
pub async fn serve_control(db: Db, media: std::path::PathBuf, path: std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    // A socket left by a server that was killed would refuse the bind.
    let _ = std::fs::remove_file(&path);
    let listener = match tokio::net::UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "no control socket: `pairwise backup` cannot reach this server");
            return;
        }
    };
    if let Err(e) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
        tracing::warn!(error = %e, "control socket permissions");
        return;
    }
    // The mode is set just after the bind, so a connection could slip in between: each
    // caller's user is checked against the socket's owner (this process's user) as well.
    let owner = {
        use std::os::unix::fs::MetadataExt;
        match std::fs::metadata(&path) {
            Ok(m) => m.uid(),
            Err(e) => {
                tracing::warn!(error = %e, "control socket owner");
                return;
            }
        }
    };
    let data_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let one_at_a_time = std::sync::Arc::new(tokio::sync::Mutex::new(()));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        if !stream.peer_cred().is_ok_and(|c| c.uid() == owner) {
            tracing::warn!("control socket: a connection from another user, refused");
            continue;
        }
        let (db, media, lock, data_dir) = (
            db.clone(),
            media.clone(),
            one_at_a_time.clone(),
            data_dir.clone(),
        );
        tokio::spawn(async move {
            if let Err(e) = answer(stream, &db, &media, &data_dir, &lock).await {
                tracing::warn!(error = %e, "control socket request");
            }
        });
    }
}

/// Where a backup may be written: an absolute `.zip` path outside the data directory (an
/// archive renamed over the database's own files would destroy it).
fn allowed_target(file: &Path, data_dir: &Path) -> Result<(), String> {
    if !file.is_absolute() {
        return Err("the backup's path must be absolute".into());
    }
    if file.extension().and_then(|e| e.to_str()) != Some("zip") {
        return Err("the backup's name must end in .zip".into());
    }
    let inside = |dir: &Path| {
        std::fs::canonicalize(dir).is_ok_and(|dir| {
            file.parent()
                .and_then(|p| std::fs::canonicalize(p).ok())
                .is_some_and(|p| p.starts_with(&dir))
        })
    };
    if inside(&data_dir.join("db")) || inside(&data_dir.join("media")) {
        return Err("a backup cannot be written inside the database or media folder".into());
    }
    Ok(())
}

async fn answer(
    stream: tokio::net::UnixStream,
    db: &Db,
    media: &Path,
    data_dir: &Path,
    one_at_a_time: &tokio::sync::Mutex<()>,
) -> anyhow::Result<()> {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    // One short line, soon; a client that says nothing must not hold up the next backup.
    tokio::time::timeout(
        Duration::from_secs(5),
        BufReader::new(read.take(4096)).read_line(&mut line),
    )
    .await
    .context("no request within 5 s")??;
    let reply = match serde_json::from_str::<Ask>(&line) {
        Ok(ask) => match allowed_target(&ask.backup, data_dir) {
            Ok(()) => {
                let _turn = one_at_a_time.lock().await;
                tracing::info!(file = %ask.backup.display(), "backup asked for on the control socket");
                match backup_quietly(db, media, &ask.backup, true).await {
                    Ok(bytes) => Answer::Written { bytes },
                    Err(e) => Answer::Failed {
                        error: format!("{e:#}"),
                    },
                }
            }
            Err(error) => Answer::Failed { error },
        },
        Err(_) => Answer::Failed {
            error: "expected {\"backup\": \"/absolute/path.zip\"}".into(),
        },
    };
    let mut text = serde_json::to_string(&reply)?;
    text.push('\n');
    write.write_all(text.as_bytes()).await?;
    Ok(())
}

/// Asks the server listening on `socket` to write the backup `file` (absolute). `None` when
/// no server listens there (then the caller opens the database itself).
pub async fn ask_server(socket: &Path, file: &Path) -> anyhow::Result<Option<u64>> {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let Ok(stream) = tokio::net::UnixStream::connect(socket).await else {
        return Ok(None);
    };
    let started = Instant::now();
    let (read, mut write) = stream.into_split();
    let mut ask = serde_json::to_string(&Ask {
        backup: file.to_path_buf(),
    })?;
    ask.push('\n');
    write.write_all(ask.as_bytes()).await?;
    let mut line = String::new();
    let mut reader = BufReader::new(read);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let read_line = reader.read_line(&mut line);
    tokio::pin!(read_line);
    loop {
        tokio::select! {
            done = &mut read_line => { done.context("reading the server's answer")?; break; }
            _ = tick.tick() => progress("the running server is backing up", 0, started),
        }
    }
    eprintln!();
    match serde_json::from_str::<Answer>(&line).context("the server's answer")? {
        Answer::Written { bytes } => Ok(Some(bytes)),
        Answer::Failed { error } => bail!("the running server could not back up: {error}"),
    }
}

/// Scheduled backups: every `every`, an archive named for the instant in `dir`; the newest
/// `keep` are kept.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub dir: std::path::PathBuf,
    pub every: Duration,
    pub keep: usize,
}

/// Runs `schedule` until the task is dropped (the first backup one period after start).
pub async fn run_schedule(db: Db, media: std::path::PathBuf, schedule: Schedule) {
    let mut tick = tokio::time::interval(schedule.every);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Err(e) = scheduled_once(&db, &media, &schedule, chrono::Utc::now()).await {
            tracing::error!(error = %format!("{e:#}"), "scheduled backup failed");
        }
    }
}

/// One scheduled backup at `now`, then the oldest beyond `keep` removed. Answers the file.
pub async fn scheduled_once(
    db: &Db,
    media: &Path,
    schedule: &Schedule,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<std::path::PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&schedule.dir)
        .with_context(|| format!("creating {}", schedule.dir.display()))?;
    let file = schedule
        .dir
        .join(format!("pairwise-{}.zip", now.format("%Y%m%dT%H%M%SZ")));
    // Leftovers of a backup cut short (the server stopped mid-way) go first.
    for entry in std::fs::read_dir(&schedule.dir)?.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("pairwise-") && name.contains(".partial") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let bytes = backup_quietly(db, media, &file, true).await?;
    tracing::info!(file = %file.display(), bytes, "scheduled backup written");
    let mut ours: Vec<std::path::PathBuf> = std::fs::read_dir(&schedule.dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("pairwise-") && n.ends_with(".zip"))
        })
        .collect();
    // The names sort by time.
    ours.sort();
    let surplus = ours.len().saturating_sub(schedule.keep.max(1));
    for old in ours.into_iter().take(surplus) {
        tracing::info!(file = %old.display(), "old backup removed");
        let _ = std::fs::remove_file(old);
    }
    Ok(file)
}
