//! Where the site's static files are served: each logical path (`/pkg/pairwise.css`) has a
//! versioned address with a hash of its content in the name, which the server works out when it
//! starts and provides to the pages through this table.

use std::{collections::HashMap, sync::Arc};

/// Logical path → versioned address.
#[derive(Clone, Debug, Default)]
pub struct AssetUrls(Arc<HashMap<String, String>>);

impl AssetUrls {
    pub fn insert(&mut self, logical: String, versioned: String) {
        Arc::make_mut(&mut self.0).insert(logical, versioned);
    }

    pub fn get(&self, logical: &str) -> Option<String> {
        self.0.get(logical).cloned()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The versioned address of `logical` for the page being rendered; the logical path itself
/// when the site has no such file (tests without a compiled site).
pub fn asset_url(logical: &str) -> String {
    leptos::prelude::use_context::<AssetUrls>()
        .and_then(|a| a.get(logical))
        .unwrap_or_else(|| logical.to_string())
}
