//! Which WebAssembly a page loads. Pages are server-rendered HTML; only `#[island]`
//! components run in the browser. The islands are built into a few chunks so that a page
//! downloads only the code it uses: the small `pairwise` chunk has the islands that reading
//! pages use (the live notification count, the video player, the time-zone check), and each
//! heavy part (the exercise editor and Run, the live room, the authoring tools, the forum's
//! drafts and similar questions) is a chunk of its own that also holds the small islands. A page with no island loads no WebAssembly.

#[cfg(feature = "ssr")]
use leptos::prelude::*;

/// A WASM chunk, named as its files are (`/pkg/<name>.js`, `/pkg/<name>.wasm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Chunk {
    Lite,
    Exercise,
    Room,
    Author,
    Forum,
}

impl Chunk {
    pub const ALL: [Chunk; 5] = [
        Chunk::Lite,
        Chunk::Exercise,
        Chunk::Room,
        Chunk::Author,
        Chunk::Forum,
    ];

    pub fn name(self) -> &'static str {
        match self {
            // cargo-leptos builds this one under the project's output name.
            Chunk::Lite => "pairwise",
            Chunk::Exercise => "exercise",
            Chunk::Room => "room",
            Chunk::Author => "author",
            Chunk::Forum => "forum",
        }
    }
}

/// The islands that only a heavy chunk has, by component name. Any other island is in every
/// chunk. A page holds islands of at most one heavy chunk.
pub const HEAVY_ISLANDS: &[(&str, Chunk)] = &[
    ("ExerciseWorkbench", Chunk::Exercise),
    ("LiveRoom", Chunk::Room),
    ("ReplayPlayer", Chunk::Room),
    ("MarkdownEditor", Chunk::Author),
    ("VideoUpload", Chunk::Author),
    ("ExerciseValidator", Chunk::Author),
    ("DraftKeeper", Chunk::Forum),
    ("SimilarQuestions", Chunk::Forum),
];

/// Finds the page's islands once the document is parsed (a module script runs then), picks
/// the one chunk that has them all, and hydrates each island in document order. Marks
/// `<html data-hydrated>` when done (`none` on a page without islands), which is what the
/// browser tests wait for.
#[cfg(feature = "ssr")]
const LOADER: &str = r#"async (chunks, heavy) => {
  const root = document.documentElement;
  const islands = [...document.querySelectorAll('leptos-island')];
  if (islands.length === 0) { root.dataset.hydrated = 'none'; return; }
  let chunk = 'pairwise';
  for (const el of islands) {
    const name = (el.dataset.component || '').replace(/_\d+$/, '');
    if (heavy[name]) chunk = heavy[name];
  }
  const files = chunks[chunk];
  const mod = await import(files.js);
  await mod.default({ module_or_path: files.wasm });
  mod.hydrate();
  for (const el of islands) {
    const hydrateIsland = mod[el.dataset.component];
    if (hydrateIsland) await hydrateIsland(el);
    else console.warn('no code for the island', el.dataset.component, 'in chunk', chunk);
  }
  root.dataset.chunk = chunk;
  root.dataset.hydrated = 'true';
}"#;

/// In `<head>`: switches the renderer to islands (only islands get hydration keys) and
/// writes the loader with this response's CSP nonce and the chunks' versioned addresses.
#[cfg(feature = "ssr")]
#[component]
pub fn IslandLoader() -> impl IntoView {
    use crate::ui::assets::asset_url;
    if let Some(sc) = Owner::current_shared_context() {
        sc.set_is_hydrating(false);
    }
    let chunks: serde_json::Map<String, serde_json::Value> = Chunk::ALL
        .iter()
        .map(|c| {
            let name = c.name();
            (
                name.to_string(),
                serde_json::json!({
                    "js": asset_url(&format!("/pkg/{name}.js")),
                    "wasm": asset_url(&format!("/pkg/{name}.wasm")),
                }),
            )
        })
        .collect();
    let heavy: serde_json::Map<String, serde_json::Value> = HEAVY_ISLANDS
        .iter()
        .map(|(island, chunk)| (island.to_string(), chunk.name().into()))
        .collect();
    let script = format!(
        "({LOADER})({}, {});",
        serde_json::Value::Object(chunks),
        serde_json::Value::Object(heavy)
    );
    view! { <script type="module" nonce=leptos::nonce::use_nonce()>{script}</script> }
}
