//! Video upload for lessons: a multipart POST (a plain form without WASM, `XMLHttpRequest`
//! with a progress bar with it). The file is streamed to disk under a server-made name, its
//! type judged by its first bytes, its size capped; nothing changes unless all checks pass.

use std::path::PathBuf;

use app::{
    accounts::session,
    courses::{model::LessonKind, repo},
    error::{AppError, Problem},
    state::AppState,
};
use axum::{
    Json,
    extract::{Multipart, Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use tokio::io::AsyncWriteExt;
use tower::ServiceExt;

use crate::{
    course_files::{VIDEO_MAX_BYTES, sniff_video},
    security::error_response,
};

#[derive(Clone)]
pub struct UploadContext {
    pub state: AppState,
    pub media_dir: PathBuf,
}

pub async fn upload_video(
    State(ctx): State<UploadContext>,
    Path(lesson_id): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    match receive(&ctx, &lesson_id, &headers, multipart).await {
        Ok(src) if wants_json => {
            (StatusCode::OK, Json(serde_json::json!({ "src": src }))).into_response()
        }
        Ok(_) => {
            Redirect::to(&format!("/lessons/{lesson_id}/edit?done=upload_video")).into_response()
        }
        Err(e) => error_response(e),
    }
}

async fn receive(
    ctx: &UploadContext,
    lesson_id: &str,
    headers: &HeaderMap,
    mut multipart: Multipart,
) -> Result<String, AppError> {
    let who = session::authenticate(&ctx.state, headers)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if lesson_id.is_empty()
        || lesson_id.len() > 40
        || !lesson_id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(AppError::NotFound);
    }
    let lesson = repo::lesson(&ctx.state.db, lesson_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let course = repo::course_by_id(&ctx.state.db, &lesson.course)
        .await?
        .ok_or(AppError::NotFound)?;
    if !course.editable_by(&who) {
        return Err(if course.published {
            AppError::Forbidden
        } else {
            AppError::NotFound
        });
    }
    if lesson.kind() != LessonKind::Video {
        return Err(AppError::BadRequest {
            detail: "only video lessons take a video".into(),
        });
    }
    tokio::fs::create_dir_all(&ctx.media_dir)
        .await
        .map_err(io_error)?;
    let bad_form = |e: axum::extract::multipart::MultipartError| AppError::BadRequest {
        detail: format!("the upload could not be read: {}", e.body_text()),
    };
    while let Some(mut field) = multipart.next_field().await.map_err(bad_form)? {
        if field.name() != Some("video") {
            continue;
        }
        let key = app::db::new_key();
        let partial = ctx.media_dir.join(format!("{key}.part"));
        let mut file = tokio::fs::File::create(&partial).await.map_err(io_error)?;
        let mut size: u64 = 0;
        let mut head: Vec<u8> = Vec::with_capacity(64);
        let outcome: Result<&'static str, AppError> = async {
            while let Some(chunk) = field.chunk().await.map_err(bad_form)? {
                size += chunk.len() as u64;
                if size > VIDEO_MAX_BYTES {
                    return Err(Problem::VideoTooLarge.into());
                }
                if head.len() < 64 {
                    head.extend(chunk.iter().take(64 - head.len()));
                    // Refuse as soon as the first bytes say it is no video.
                    if head.len() >= 64 && sniff_video(&head).is_none() {
                        return Err(Problem::VideoType.into());
                    }
                }
                file.write_all(&chunk).await.map_err(io_error)?;
            }
            let ext = sniff_video(&head).ok_or(AppError::from(Problem::VideoType))?;
            file.sync_all().await.map_err(io_error)?;
            Ok(ext)
        }
        .await;
        drop(file);
        let ext = match outcome {
            Ok(ext) => ext,
            Err(e) => {
                let _ = tokio::fs::remove_file(&partial).await;
                return Err(e);
            }
        };
        let name = format!("{key}.{ext}");
        tokio::fs::rename(&partial, ctx.media_dir.join(&name))
            .await
            .map_err(io_error)?;
        let replaced = repo::set_video(&ctx.state.db, &lesson.id, &name).await?;
        // The file of the video this one replaces is nobody's any more (server-made names
        // are never shared; a URL is not ours to delete).
        if let Some(old) = replaced.filter(|old| {
            *old != name && !old.contains('/') && !old.contains("..") && !old.is_empty()
        }) && let Err(e) = tokio::fs::remove_file(ctx.media_dir.join(&old)).await
        {
            tracing::warn!(error = %e, file = %old, "could not remove a replaced video");
        }
        tracing::info!(lesson = %lesson.id, bytes = size, %name, "lesson video stored");
        return Ok(format!("/media/{name}"));
    }
    Err(AppError::BadRequest {
        detail: "choose a video file to upload".into(),
    })
}

/// `GET /media/<name>`: a lesson's stored video or captions, with Range requests (players
/// seek, phones stream). A file of a published course is for everyone, as its lesson pages
/// are; a draft's only for its authors and admins, since a random name is not a permission.
/// Anyone else, and a file no lesson uses, gets 404 (drafts do not reveal that they exist).
pub async fn media(
    State(ctx): State<UploadContext>,
    Path(name): Path<String>,
    req: axum::extract::Request,
) -> Response {
    // Server-made names: a key, a dot and an extension; nothing that could leave the folder.
    let valid = (3..=80).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        && !name.contains("..");
    if !valid {
        return error_response(AppError::NotFound);
    }
    let access = match repo::media_access(&ctx.state.db, &name).await {
        Ok(Some(access)) => access,
        Ok(None) => return error_response(AppError::NotFound),
        Err(e) => return error_response(e),
    };
    let cache = if access.published {
        "public, max-age=31536000, immutable"
    } else {
        use app::accounts::model::Capabilities;
        let who = match session::authenticate(&ctx.state, req.headers()).await {
            Ok(who) => who,
            Err(e) => return error_response(e),
        };
        let allowed = who.is_some_and(|w| {
            w.user.roles.can_administer() || access.author_ids.contains(&w.user.id.0)
        });
        if !allowed {
            return error_response(AppError::NotFound);
        }
        "private, no-store"
    };
    let file = tower_http::services::ServeFile::new(ctx.media_dir.join(&name));
    match file.oneshot(req).await {
        Ok(res) => {
            let mut res = res.map(axum::body::Body::new);
            if res.status().is_success() {
                res.headers_mut().insert(
                    header::CACHE_CONTROL,
                    header::HeaderValue::from_static(cache),
                );
            }
            res
        }
        Err(never) => match never {},
    }
}

fn io_error(e: std::io::Error) -> AppError {
    tracing::error!(error = %e, "storing an upload failed");
    AppError::Internal
}
