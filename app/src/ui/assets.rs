//! Where the site's static files are served: each logical path (`/pkg/pairwise.css`) has a
//! versioned address with a hash of its content in the name, which the server works out when it
//! starts and provides to the pages through this table. It also knows which ES modules each
//! editor module imports, so a page can ask for all of them at once.

use std::{collections::HashMap, sync::Arc};

/// Logical path → versioned address, and module → every address it loads.
#[derive(Clone, Debug, Default)]
pub struct AssetUrls {
    urls: Arc<HashMap<String, String>>,
    modules: Arc<HashMap<String, Vec<String>>>,
}

impl AssetUrls {
    pub fn insert(&mut self, logical: String, versioned: String) {
        Arc::make_mut(&mut self.urls).insert(logical, versioned);
    }

    pub fn get(&self, logical: &str) -> Option<String> {
        self.urls.get(logical).cloned()
    }

    /// Records that loading module `key` fetches `addresses` (itself first, then everything
    /// it imports statically, at the addresses those imports resolve to).
    pub fn set_module(&mut self, key: String, addresses: Vec<String>) {
        Arc::make_mut(&mut self.modules).insert(key, addresses);
    }

    /// What loading module `key` fetches (empty for an unknown module).
    pub fn module(&self, key: &str) -> &[String] {
        self.modules.get(key).map_or(&[], Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.urls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.urls.is_empty()
    }
}

/// The versioned address of `logical` for the page being rendered; the logical path itself
/// when the site has no such file (tests without a compiled site).
pub fn asset_url(logical: &str) -> String {
    leptos::prelude::use_context::<AssetUrls>()
        .and_then(|a| a.get(logical))
        .unwrap_or_else(|| logical.to_string())
}

/// Every address module `key` loads, for `<link rel="modulepreload">`; empty when the site has
/// no such module.
pub fn module_addresses(key: &str) -> Vec<String> {
    leptos::prelude::use_context::<AssetUrls>()
        .map(|a| a.module(key).to_vec())
        .unwrap_or_default()
}
