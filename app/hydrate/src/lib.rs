//! The WASM entry point: cargo-leptos builds this crate for `wasm32-unknown-unknown`.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the script cargo-leptos injects: hydrates the server-rendered page.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
