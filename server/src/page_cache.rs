//! The pages a first-time visitor sees, rendered once instead of on every request.
//!
//! A visitor who sends no cookie is signed out and has chosen nothing, so the home page and
//! the catalog's first page (`/courses`, newest first, no query) are the same for every such
//! visitor who reads the same language — except for the CSP nonce, which must be new in
//! every response. This cache keeps those pages per language, cut at the nonce, and answers
//! by joining the pieces with the response's own nonce (the security headers, outside this
//! layer, put the same nonce in the CSP header). What the pages show comes from the catalog
//! index and the start-up state; an entry is used only while the catalog's version is the one
//! read before it was rendered, so a course published, changed or withdrawn shows on the next
//! request. Anything else — a cookie, a query, another path or method, a status other than
//! 200, a `Set-Cookie` — goes to the renderer untouched: searches, filters and signed-in
//! pages are rendered per request, and the catalog's search figures are the renderer's.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use app::{courses::index::CatalogIndex, i18n::Locale};
use axum::{
    body::{Body, Bytes, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::Response,
};

use crate::security::CspNonce;

/// The pages kept: the same for every visitor without cookies.
const PAGES: [&str; 2] = ["/", "/courses"];
/// A kept page is a few tens of KB; anything far larger is not one of them.
const MAX_PAGE_BYTES: usize = 1 << 20;

/// See the module documentation.
#[derive(Clone)]
pub struct PageCache {
    catalog: Arc<CatalogIndex>,
    entries: Arc<RwLock<HashMap<Key, Arc<Entry>>>>,
}

/// A kept page: its path, in a language.
type Key = (&'static str, Locale);

/// One rendered page: its headers, and its body cut wherever the nonce was.
struct Entry {
    version: u64,
    headers: HeaderMap,
    pieces: Vec<Bytes>,
}

impl PageCache {
    pub fn new(catalog: Arc<CatalogIndex>) -> Self {
        Self {
            catalog,
            entries: Arc::default(),
        }
    }

    fn get(&self, key: &Key, version: u64) -> Option<Arc<Entry>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.get(key).filter(|e| e.version == version).cloned()
    }

    fn put(&self, key: Key, entry: Entry) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        // A slower render of an older catalog never replaces a newer page.
        if entries.get(&key).is_none_or(|e| e.version <= entry.version) {
            entries.insert(key, Arc::new(entry));
        }
    }
}

/// The page this request may be answered with from the cache, if any.
fn cacheable(req: &Request) -> Option<Key> {
    let uri = req.uri();
    let headers = req.headers();
    if req.method() != Method::GET
        || uri.query().is_some()
        || headers.contains_key(header::COOKIE)
        || headers.contains_key(header::AUTHORIZATION)
    {
        return None;
    }
    let page = PAGES.into_iter().find(|p| *p == uri.path())?;
    Some((page, app::i18n::locale_from_headers(headers)))
}

/// The middleware (inside `security::headers`, which makes the nonce).
pub async fn serve(State(cache): State<PageCache>, req: Request, next: Next) -> Response {
    let (Some(key), Some(nonce)) = (
        cacheable(&req),
        req.extensions().get::<CspNonce>().map(|n| n.0.clone()),
    ) else {
        return next.run(req).await;
    };
    // Read before rendering: a change during the render makes what it rendered stale.
    let version = cache.catalog.version();
    if let Some(entry) = cache.get(&key, version) {
        return answer(&entry, &nonce);
    }
    let res = next.run(req).await;
    let keep = res.status() == StatusCode::OK
        && !res.headers().contains_key(header::SET_COOKIE)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"));
    if !keep {
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(body) = to_bytes(body, MAX_PAGE_BYTES).await else {
        tracing::warn!(page = key.0, "a page too large to keep could not be sent");
        return Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(Body::empty())
            .unwrap_or_default();
    };
    let mut headers = parts.headers.clone();
    headers.remove(header::CONTENT_LENGTH);
    cache.put(
        key,
        Entry {
            version,
            headers,
            pieces: cut(&body, nonce.as_bytes()),
        },
    );
    Response::from_parts(parts, Body::from(body))
}

/// `body` cut wherever `nonce` occurs (the nonce itself dropped).
fn cut(body: &Bytes, nonce: &[u8]) -> Vec<Bytes> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + nonce.len() <= body.len() {
        if body[i..].starts_with(nonce) {
            pieces.push(body.slice(start..i));
            i += nonce.len();
            start = i;
        } else {
            i += 1;
        }
    }
    pieces.push(body.slice(start..));
    pieces
}

/// The kept page with `nonce` wherever the rendered one was.
fn answer(entry: &Entry, nonce: &str) -> Response {
    let len = entry.pieces.iter().map(Bytes::len).sum::<usize>()
        + nonce.len() * entry.pieces.len().saturating_sub(1);
    let mut body = Vec::with_capacity(len);
    for (i, piece) in entry.pieces.iter().enumerate() {
        if i > 0 {
            body.extend_from_slice(nonce.as_bytes());
        }
        body.extend_from_slice(piece);
    }
    let mut res = Response::new(Body::from(body));
    *res.headers_mut() = entry.headers.clone();
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_page_cut_at_its_nonce_joins_again_with_another() {
        let body =
            Bytes::from_static(b"<script nonce=\"abc\">x</script><style nonce=\"abc\"></style>abc");
        let pieces = cut(&body, b"abc");
        assert_eq!(pieces.len(), 4);
        let entry = Entry {
            version: 0,
            headers: HeaderMap::new(),
            pieces,
        };
        let res = answer(&entry, "zz9");
        let body = to_bytes(res.into_body(), 1000).await.unwrap();
        assert_eq!(
            &body[..],
            b"<script nonce=\"zz9\">x</script><style nonce=\"zz9\"></style>zz9"
        );
        // No nonce in the page: one piece, the page as it was.
        assert_eq!(cut(&Bytes::from_static(b"plain"), b"abc").len(), 1);
    }
}
