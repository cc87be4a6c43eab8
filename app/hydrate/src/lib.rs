//! The WASM entry point of every chunk: the islands of the page hydrate; everything else stays
//! the server's HTML. Which islands a chunk holds is chosen by its features (see
//! `app::ui::islands`).

use wasm_bindgen::prelude::wasm_bindgen;

// The islands are exported by `app`; nothing here names them, so the crate is linked
// explicitly for its exports to reach the module.
use app as _;

/// Called by the island loader before it hydrates each island on the page.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // Islands read the interface language from context; in the browser it is the page's own.
    app::i18n::provide_page_locale();
}
