//! `pairwise backup <file>` and `pairwise restore <file>`: a SurrealQL export of the whole
//! database, and its import into an empty one. Run them with the server stopped: the embedded
//! database allows one process at a time.

use std::{
    io::Write,
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use app::db::Db;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

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

/// Streams the export into `file` (written to a temporary name, then renamed, so a failed
/// backup never leaves a truncated file under the real name).
pub async fn backup(db: &Db, file: &Path) -> anyhow::Result<u64> {
    let started = Instant::now();
    let tmp = file.with_extension("partial");
    // A backup holds every password hash and session: only its owner may read it (a
    // leftover from a failed run would keep its own mode, so it goes first).
    let _ = tokio::fs::remove_file(&tmp).await;
    let mut out = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .await
        .with_context(|| format!("creating {}", tmp.display()))?;
    let mut stream = db.export(()).await.context("starting the export")?;
    let mut written = 0u64;
    let mut last = Instant::now();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.context("reading the export")?;
        out.write_all(&chunk).await.context("writing the backup")?;
        written += chunk.len() as u64;
        if last.elapsed() > Duration::from_millis(200) {
            progress("backing up", written, started);
            last = Instant::now();
        }
    }
    out.sync_all().await.context("syncing the backup to disk")?;
    drop(out);
    tokio::fs::rename(&tmp, file)
        .await
        .with_context(|| format!("renaming to {}", file.display()))?;
    progress("backed up", written, started);
    eprintln!();
    Ok(written)
}

/// Imports `file` into an empty database, showing elapsed time while it runs.
pub async fn restore(db: &Db, file: &Path) -> anyhow::Result<()> {
    let size = tokio::fs::metadata(file)
        .await
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let mut res = db
        .query("RETURN array::len(object::keys((INFO FOR DB).tables ?? {}))")
        .await?;
    let tables: Option<i64> = res.take(0)?;
    if tables.unwrap_or(0) > 0 {
        bail!(
            "the database is not empty; restore only into a new data directory (set PAIRWISE_DATA_DIR to an empty folder)"
        );
    }
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
