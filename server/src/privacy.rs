//! `POST /account/export`: everything Pairwise holds about the caller, as one zip archive —
//! a JSON file per table (what `app::privacy::rules` names) and the files they uploaded. The
//! archive is written to a temporary file and streamed, so a course's videos never sit in
//! memory; a POST (behind the same-origin check) so no other site can start one.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use app::{
    accounts::{
        repo::{AuditEntry, AuditKind, audit},
        session,
    },
    error::AppError,
    privacy::repo as privacy_repo,
    state::AppState,
};
use axum::{
    body::Body,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use futures_util::{StreamExt, stream};
use tokio::io::AsyncReadExt;

use crate::security::error_response;

#[derive(Clone)]
pub struct ExportContext {
    pub state: AppState,
    pub media_dir: PathBuf,
    /// Where archives are written while they are made (inside the data folder).
    pub scratch_dir: PathBuf,
}

const README: &str = "Everything Pairwise holds about you.\n\n\
user.json is your account (without your password, which is stored only as a hash).\n\
Each other file is one table: every row in it refers to you. Links to other records are\n\
written as table:key. The media folder holds the files you uploaded to your courses.\n";

pub async fn export(State(ctx): State<ExportContext>, req: axum::extract::Request) -> Response {
    let headers = req.headers();
    let who = match session::authenticate(&ctx.state, headers).await {
        Ok(Some(who)) => who,
        Ok(None) => return error_response(AppError::Unauthenticated),
        Err(e) => return error_response(e),
    };
    let tables = match privacy_repo::export(&ctx.state.db, &who.user.id).await {
        Ok(t) => t,
        Err(e) => return error_response(e),
    };
    let media = match privacy_repo::uploads(&ctx.state.db, &who.user.id).await {
        Ok(m) => m,
        Err(e) => return error_response(e),
    };
    if let Err(e) = tokio::fs::create_dir_all(&ctx.scratch_dir).await {
        tracing::error!(error = %e, "export: scratch folder");
        return error_response(AppError::Internal);
    }
    let path = ctx
        .scratch_dir
        .join(format!("export-{}.zip", app::db::new_key()));
    let (written, media_dir) = (path.clone(), ctx.media_dir.clone());
    let made =
        tokio::task::spawn_blocking(move || write_zip(&written, &tables, &media_dir, &media))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
    if let Err(e) = made {
        tracing::error!(error = %e, "export: archive");
        let _ = tokio::fs::remove_file(&path).await;
        return error_response(AppError::Internal);
    }
    let entry = AuditEntry {
        user: Some(who.user.id.clone()),
        ip: session::ClientAddr::of(req.extensions()).map(|ip| ip.to_string()),
        ..Default::default()
    };
    let now = ctx.state.clock.now();
    if let Err(e) = audit(&ctx.state.db, AuditKind::DataExported, entry, now).await {
        let _ = tokio::fs::remove_file(&path).await;
        return error_response(e);
    }
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "export: reopen");
            return error_response(AppError::Internal);
        }
    };
    // Unlinked at once: the open handle keeps the data until the download ends, and
    // nothing of it is left behind if the client goes away.
    let _ = tokio::fs::remove_file(&path).await;
    // Read in 64 KiB pieces until the end (or a read error, which ends the download); fused,
    // because the layers above may ask again after the end.
    let pieces = stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    let body = Body::from_stream(pieces.fuse());
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"pairwise-my-data.zip\""),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

fn write_zip(
    path: &Path,
    tables: &[privacy_repo::ExportedTable],
    media_dir: &Path,
    media: &[String],
) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let mut zip = zip::ZipWriter::new(file);
    let text = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    // Videos are compressed already: stored as they are.
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("README.txt", text)?;
    zip.write_all(README.as_bytes())?;
    for t in tables {
        zip.start_file(format!("{}.json", t.name), text)?;
        serde_json::to_writer_pretty(&mut zip, &t.rows)?;
    }
    for name in media {
        let from = media_dir.join(name);
        let Ok(mut f) = std::fs::File::open(&from) else {
            continue;
        };
        zip.start_file(format!("media/{name}"), stored.large_file(true))?;
        std::io::copy(&mut f, &mut zip)?;
    }
    zip.finish()?.sync_all()?;
    Ok(())
}
