//! The compiled site's static files (WASM chunks, their JS, the stylesheet, the code editor
//! bundle, icons), served from memory.
//!
//! Every file gets a second, versioned address with a hash of its content in the name
//! (`/pkg/lite.1f3a9c0d2b.wasm`): pages link only to those, which are cached for a year as
//! `immutable`, so a second visit downloads nothing but the HTML and a new build can never be
//! mixed with an old cached file. The plain address still answers (`no-cache`, validated by
//! ETag) for anything that cannot know the hash, such as the manifest's icon.
//!
//! The build writes brotli and gzip copies beside the big files (`.ci/site.mjs`); the one the
//! browser accepts is sent as it is, so nothing is compressed per request.
//!
//! The code editor is ES modules split by esbuild: the entry (`editor/codemirror.js`, linked
//! by its versioned address) and chunks it imports by the names esbuild gave them
//! (`editor/chunks/<name>-<HASH>.js`, the hash already of their content). A chunk must be
//! fetched at exactly the address its import names (another address would be a second copy of
//! the module), so those names are the ones cached for good. The table of what each module
//! imports lets a page preload a module with everything under it in one round trip.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use app::ui::assets::AssetUrls;
use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

/// One file, with whatever compressed copies the build made.
#[derive(Debug)]
struct Asset {
    content_type: &'static str,
    raw: Bytes,
    br: Option<Bytes>,
    gzip: Option<Bytes>,
    etag: HeaderValue,
    /// Served at its hashed address: may be cached for good.
    immutable: bool,
}

/// Every static file of the site, by the path it is served at.
#[derive(Debug, Default)]
pub struct Assets {
    by_path: HashMap<String, Arc<Asset>>,
    urls: AssetUrls,
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "webmanifest" => "application/manifest+json",
        "json" => "application/json",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `pkg/lite.js` + `1f3a9c0d2b` → `pkg/lite.1f3a9c0d2b.js`.
fn versioned(rel: &str, hash: &str) -> String {
    match rel.rsplit_once('.') {
        Some((stem, ext)) if !stem.ends_with('/') => format!("{stem}.{hash}.{ext}"),
        _ => format!("{rel}.{hash}"),
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Files at most this big are compressed when the server starts if the build left no
/// compressed copy (the small ones, and JavaScript rewritten below); bigger ones rely on the
/// build's copies.
const COMPRESS_AT_LOAD: usize = 1 << 20;

/// esbuild's chunks of the editor: their names carry a hash of their content.
const EDITOR_CHUNKS: &str = "editor/chunks/";

/// The relative specifiers of a module's static imports (`import … from "./x.js"`,
/// `import "./x.js"`; not `import("./x.js")`, which loads on demand).
fn static_imports(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for keyword in ["from", "import"] {
        let mut rest = text;
        while let Some(i) = rest.find(keyword) {
            rest = &rest[i + keyword.len()..];
            let after = rest.trim_start();
            let Some(quote) = after.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
                continue;
            };
            let body = &after[1..];
            if let Some(end) = body.find(quote) {
                let spec = &body[..end];
                if spec.starts_with("./") || spec.starts_with("../") {
                    out.push(spec);
                }
            }
        }
    }
    out
}

/// `editor/codemirror.js` + `./chunks/a.js` → `editor/chunks/a.js`.
fn resolve(importer: &str, spec: &str) -> String {
    let mut parts: Vec<&str> = importer.split('/').collect();
    parts.pop();
    for segment in spec.split('/') {
        match segment {
            "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// `editor/chunks/javascript-5X7DWJ4S.js` → `javascript`.
fn chunk_name(rel: &str) -> Option<&str> {
    let file = rel.strip_prefix(EDITOR_CHUNKS)?.strip_suffix(".js")?;
    Some(file.rsplit_once('-').map_or(file, |(name, _hash)| name))
}

fn brotli(raw: &[u8]) -> Option<Bytes> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &raw[..], &mut out, &params).ok()?;
    Some(Bytes::from(out))
}

fn gzip(raw: &[u8]) -> Option<Bytes> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(raw).ok()?;
    enc.finish().ok().map(Bytes::from)
}

fn short_hash(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..5])
}

impl Assets {
    /// Reads the site under `root`. A missing site (tests, an API-only deployment) gives an
    /// empty table and a warning: pages still render, without scripts or styles.
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        let mut files = Vec::new();
        if let Err(e) = walk(root, &mut files) {
            tracing::warn!(root = %root.display(), error = %e, "no compiled site: pages are served without styles or scripts");
            return Ok(Self::default());
        }
        files.retain(|p| {
            let name = p.to_string_lossy();
            !name.ends_with(".br") && !name.ends_with(".gz")
        });
        let rel_of = |p: &Path| {
            p.strip_prefix(root)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default()
        };
        // wasm-bindgen's JS imports its snippets by relative path: those files are versioned
        // first, and the importing JS is rewritten to name the versioned files, so that a
        // changed snippet changes the name of everything that loads it.
        let (snippets, others): (Vec<PathBuf>, Vec<PathBuf>) = files
            .into_iter()
            .partition(|p| rel_of(p).contains("/snippets/"));
        let mut assets = Assets::default();
        let mut renames = Vec::new();
        let mut modules = HashMap::new();
        for path in &snippets {
            let raw = std::fs::read(path)?;
            let rel = rel_of(path);
            let hashed = assets.add(&rel, path, raw, false);
            if let (Some((_, from)), Some((_, to))) = (
                rel.split_once("/snippets/"),
                hashed.split_once("/snippets/"),
            ) {
                renames.push((format!("./snippets/{from}"), format!("./snippets/{to}")));
            }
        }
        for path in &others {
            let mut raw = std::fs::read(path)?;
            let rel = rel_of(path);
            let mut rewritten = false;
            if rel.ends_with(".js") && !renames.is_empty() {
                let text = String::from_utf8_lossy(&raw).into_owned();
                let mut changed = text.clone();
                // Only the import statements: the same path also names the module in the
                // WASM's import table, which must keep its original name.
                for (from, to) in &renames {
                    for q in ['\'', '"'] {
                        changed = changed
                            .replace(&format!("from {q}{from}{q}"), &format!("from {q}{to}{q}"));
                    }
                }
                if changed != text {
                    raw = changed.into_bytes();
                    rewritten = true;
                }
            }
            if rel.starts_with("editor/") && rel.ends_with(".js") {
                let imports = static_imports(&String::from_utf8_lossy(&raw))
                    .into_iter()
                    .map(|spec| resolve(&rel, spec))
                    .collect::<Vec<_>>();
                modules.insert(rel.clone(), imports);
            }
            assets.add(&rel, path, raw, rewritten);
        }
        assets.link_modules(&modules);
        tracing::info!(files = assets.urls.len(), "static files loaded");
        Ok(assets)
    }

    /// For each editor module, every address loading it fetches (see the module comment): the
    /// entry under its logical path, a named chunk as `/editor/chunks/<name>`.
    fn link_modules(&mut self, imports: &HashMap<String, Vec<String>>) {
        for rel in imports.keys() {
            let key = match chunk_name(rel) {
                Some("chunk") => continue, // shared code, only ever loaded by another module
                Some(name) => format!("/{EDITOR_CHUNKS}{name}"),
                None => format!("/{rel}"),
            };
            let (mut seen, mut todo, mut addresses) = (Vec::new(), vec![rel.clone()], Vec::new());
            while let Some(module) = todo.pop() {
                if seen.contains(&module) {
                    continue;
                }
                let logical = format!("/{module}");
                addresses.push(if module.starts_with(EDITOR_CHUNKS) {
                    logical
                } else {
                    self.urls.get(&logical).unwrap_or(logical)
                });
                todo.extend(imports.get(&module).into_iter().flatten().cloned());
                seen.push(module);
            }
            self.urls.set_module(key, addresses);
        }
    }

    /// Registers one file under its plain and its versioned address; returns the latter.
    fn add(&mut self, rel: &str, path: &Path, raw: Vec<u8>, rewritten: bool) -> String {
        let hash = short_hash(&raw);
        // A compressed copy of content the server rewrote would be stale.
        let sibling = |ext: &str| {
            if rewritten {
                return None;
            }
            let mut p = path.to_path_buf().into_os_string();
            p.push(ext);
            std::fs::read(PathBuf::from(p)).ok().map(Bytes::from)
        };
        let (mut br, mut gz) = (sibling(".br"), sibling(".gz"));
        if raw.len() <= COMPRESS_AT_LOAD && raw.len() > 256 {
            br = br.or_else(|| brotli(&raw));
            gz = gz.or_else(|| gzip(&raw));
        }
        let raw = Bytes::from(raw);
        let etag = HeaderValue::from_str(&format!("\"{hash}\""))
            .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
        let make = |immutable| {
            Arc::new(Asset {
                content_type: content_type(path),
                raw: raw.clone(),
                br: br.clone(),
                gzip: gz.clone(),
                etag: etag.clone(),
                immutable,
            })
        };
        let hashed = format!("/{}", versioned(rel, &hash));
        self.by_path
            .insert(format!("/{rel}"), make(rel.starts_with(EDITOR_CHUNKS)));
        self.by_path.insert(hashed.clone(), make(true));
        self.urls.insert(format!("/{rel}"), hashed.clone());
        hashed
    }

    /// Logical path (`/pkg/lite.js`) → versioned address, for the pages.
    pub fn urls(&self) -> AssetUrls {
        self.urls.clone()
    }

    /// The response for `path`, or `None` when no file has that address.
    pub fn respond(&self, method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
        let asset = self.by_path.get(path)?;
        if method != Method::GET && method != Method::HEAD {
            return Some(StatusCode::METHOD_NOT_ALLOWED.into_response());
        }
        let mut res = if headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == asset.etag.as_bytes())
        {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let accepts = |coding: &str| {
                headers
                    .get_all(header::ACCEPT_ENCODING)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .any(|item| {
                        let mut parts = item.split(';');
                        parts.next().is_some_and(|c| c.trim() == coding)
                            && !parts.any(|p| {
                                p.trim()
                                    .strip_prefix("q=")
                                    .is_some_and(|q| q.trim().parse::<f32>() == Ok(0.0))
                            })
                    })
            };
            let (body, coding) = match (&asset.br, &asset.gzip) {
                (Some(br), _) if accepts("br") => (br.clone(), Some("br")),
                (_, Some(gz)) if accepts("gzip") => (gz.clone(), Some("gzip")),
                _ => (asset.raw.clone(), None),
            };
            let len = body.len();
            let mut res = if method == Method::HEAD {
                Response::new(Body::empty())
            } else {
                Response::new(Body::from(body))
            };
            let h = res.headers_mut();
            if let Some(coding) = coding {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
            }
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            );
            res
        };
        let h = res.headers_mut();
        h.insert(header::ETAG, asset.etag.clone());
        if asset.br.is_some() || asset.gzip.is_some() {
            h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(if asset.immutable {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            }),
        );
        Some(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_versioned_name_keeps_the_extension_last() {
        assert_eq!(versioned("pkg/lite.js", "abc"), "pkg/lite.abc.js");
        assert_eq!(versioned("pkg/lite_bg.wasm", "abc"), "pkg/lite_bg.abc.wasm");
        assert_eq!(versioned("favicon.svg", "abc"), "favicon.abc.svg");
        assert_eq!(versioned("LICENSE", "abc"), "LICENSE.abc");
    }

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("pkg")).expect("pkg");
        std::fs::write(dir.path().join("pkg/lite.js"), "export default 1;").expect("js");
        std::fs::write(dir.path().join("pkg/lite.js.br"), "BR").expect("br");
        std::fs::write(dir.path().join("pkg/lite.js.gz"), "GZ").expect("gz");
        std::fs::write(dir.path().join("favicon.svg"), "<svg/>").expect("svg");
        dir
    }

    fn get(assets: &Assets, path: &str, accept: &str) -> Response {
        let mut h = HeaderMap::new();
        if !accept.is_empty() {
            h.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(accept).expect("header"),
            );
        }
        assets
            .respond(&Method::GET, path, &h)
            .expect("the file is served")
    }

    #[test]
    fn hashed_names_are_immutable_and_the_accepted_encoding_is_chosen() {
        let dir = site();
        let assets = Assets::load(dir.path()).expect("loaded");
        let url = assets.urls().get("/pkg/lite.js").expect("a versioned url");
        assert!(url.starts_with("/pkg/lite.") && url.ends_with(".js") && url.len() > 16);
        let res = get(&assets, &url, "gzip, deflate, br");
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(
            res.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(res.headers()[header::VARY], "accept-encoding");
        let res = get(&assets, &url, "gzip");
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        let res = get(&assets, &url, "br;q=0, gzip;q=0.5");
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        let res = get(&assets, &url, "");
        assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
        // The plain name still answers, but must be revalidated.
        let res = get(&assets, "/pkg/lite.js", "br");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
        // Content changes, name changes.
        std::fs::write(dir.path().join("pkg/lite.js"), "export default 2;").expect("js");
        let again = Assets::load(dir.path()).expect("loaded");
        assert_ne!(again.urls().get("/pkg/lite.js"), Some(url));
    }

    #[test]
    fn an_unchanged_file_is_not_sent_again() {
        let dir = site();
        let assets = Assets::load(dir.path()).expect("loaded");
        let first = get(&assets, "/favicon.svg", "");
        let etag = first.headers()[header::ETAG].clone();
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, etag);
        let res = assets
            .respond(&Method::GET, "/favicon.svg", &h)
            .expect("served");
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    }

    #[test]
    fn javascript_that_imports_a_snippet_names_its_versioned_file() {
        let dir = site();
        let snippet = dir.path().join("pkg/snippets/app-1/inline0.js");
        std::fs::create_dir_all(snippet.parent().expect("dir")).expect("dir");
        std::fs::write(&snippet, "export const a = 1;").expect("snippet");
        std::fs::write(
            dir.path().join("pkg/lite.js"),
            "import * as s from './snippets/app-1/inline0.js'; const imports = { './snippets/app-1/inline0.js': s };",
        )
        .expect("js");
        let first = Assets::load(dir.path()).expect("loaded");
        let glue = first.urls().get("/pkg/lite.js").expect("glue");
        let versioned = first
            .urls()
            .get("/pkg/snippets/app-1/inline0.js")
            .expect("snippet");
        let res = get(&first, &glue, "");
        let body =
            futures_util::FutureExt::now_or_never(axum::body::to_bytes(res.into_body(), 1 << 20))
                .expect("ready")
                .expect("body");
        let text = String::from_utf8_lossy(&body);
        let name = versioned.trim_start_matches("/pkg/");
        assert!(text.contains(&format!("from './{name}'")), "{text}");
        // The WASM import table's key keeps the name the module was built with.
        assert!(
            text.contains("{ './snippets/app-1/inline0.js': s }"),
            "{text}"
        );
        // A changed snippet changes the name of the JavaScript that loads it.
        std::fs::write(&snippet, "export const a = 2;").expect("snippet");
        let second = Assets::load(dir.path()).expect("loaded");
        assert_ne!(second.urls().get("/pkg/lite.js"), Some(glue));
    }

    #[test]
    fn an_editor_module_preloads_everything_it_imports_and_chunks_are_cached_for_good() {
        let dir = site();
        let chunks = dir.path().join("editor/chunks");
        std::fs::create_dir_all(&chunks).expect("dir");
        std::fs::write(
            dir.path().join("editor/codemirror.js"),
            r#"import{a as b}from"./chunks/chunk-AAAA1111.js";import"./chunks/chunk-BBBB2222.js";const l=()=>import("./chunks/javascript-CCCC3333.js");"#,
        )
        .expect("entry");
        std::fs::write(chunks.join("chunk-AAAA1111.js"), "export const a=1;").expect("chunk");
        std::fs::write(
            chunks.join("chunk-BBBB2222.js"),
            r#"import { a } from "./chunk-AAAA1111.js"; a;"#,
        )
        .expect("chunk");
        std::fs::write(
            chunks.join("javascript-CCCC3333.js"),
            r#"import{a}from"./chunk-DDDD4444.js";export{a as grammar};"#,
        )
        .expect("chunk");
        std::fs::write(chunks.join("chunk-DDDD4444.js"), "export const a=2;").expect("chunk");
        let assets = Assets::load(dir.path()).expect("loaded");
        let urls = assets.urls();

        let entry = urls.get("/editor/codemirror.js").expect("entry");
        let mut core = urls.module("/editor/codemirror.js").to_vec();
        assert_eq!(
            core.first(),
            Some(&entry),
            "the entry, at its versioned address, first"
        );
        core.sort();
        assert_eq!(
            core,
            [
                "/editor/chunks/chunk-AAAA1111.js".to_string(),
                "/editor/chunks/chunk-BBBB2222.js".into(),
                entry.clone(),
            ],
            "static imports at the addresses they name, once each; never the on-demand chunk"
        );
        assert_eq!(
            urls.module("/editor/chunks/javascript"),
            [
                "/editor/chunks/javascript-CCCC3333.js".to_string(),
                "/editor/chunks/chunk-DDDD4444.js".into()
            ]
        );
        assert!(urls.module("/editor/chunks/chunk").is_empty());
        // A chunk's own name is its content's: cached for good there.
        let res = get(&assets, "/editor/chunks/javascript-CCCC3333.js", "");
        assert_eq!(
            res.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        let res = get(&assets, "/editor/codemirror.js", "");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache");
    }

    #[test]
    fn a_missing_site_is_an_empty_table() {
        let assets = Assets::load(Path::new("/nonexistent/pairwise-site")).expect("no error");
        assert!(assets.urls().get("/pkg/lite.js").is_none());
    }
}
