//! Markdown to safe HTML (server only): pulldown-cmark renders, code blocks are highlighted,
//! and ammonia removes everything that could run (scripts, event handlers, `javascript:`
//! links, styles, frames). Lessons, course descriptions and later forum posts all use this.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, LazyLock, Mutex},
};

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd, html};

use super::highlight::highlight;

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        // Only the classes the highlighter writes; anything else an author types is dropped.
        .allowed_classes(
            [
                (
                    "span",
                    ["tok-kw", "tok-str", "tok-num", "tok-com"].as_slice(),
                ),
                ("pre", ["code"].as_slice()),
            ]
            .into_iter()
            .map(|(tag, classes)| (tag, classes.iter().copied().collect()))
            .collect(),
        )
        // Code blocks scroll sideways on a phone: a keyboard must be able to reach them too.
        .set_tag_attribute_value("pre", "tabindex", "0");
    b
});

/// Renders Markdown to HTML that is safe to insert into a page.
///
/// The result depends on the text alone, so it is kept by the text's SHA-256 (see
/// [`Rendered`]): a forum thread of 500 answers would otherwise parse, highlight and clean
/// 500 posts on every view, which is most of what the page costs.
pub fn render(markdown: &str) -> String {
    RENDERED.get_or_render(markdown)
}

/// Rendered Markdown by the SHA-256 of its text, up to `budget` bytes of HTML;
/// past that the least recently used half goes. A digest, not the text, is the key so the
/// cache holds each text's HTML once; a collision-resistant one so no post can be written
/// to take another's place.
struct Rendered {
    entries: Mutex<RenderedEntries>,
    budget: usize,
}

#[derive(Default)]
struct RenderedEntries {
    by_digest: HashMap<[u8; 32], (Arc<str>, u64)>,
    bytes: usize,
    tick: u64,
}

static RENDERED: LazyLock<Rendered> = LazyLock::new(|| Rendered::new(32 * 1024 * 1024));

impl Rendered {
    fn new(budget: usize) -> Self {
        Self {
            entries: Mutex::new(RenderedEntries::default()),
            budget,
        }
    }

    fn get_or_render(&self, markdown: &str) -> String {
        use sha2::{Digest, Sha256};
        let digest: [u8; 32] = Sha256::digest(markdown.as_bytes()).into();
        if let Some(html) = self.lookup(&digest) {
            return html.to_string();
        }
        // Rendered outside the lock: two readers of a new post may both render it, which
        // costs little, where holding the lock would queue every page behind one render.
        let html = render_uncached(markdown);
        self.insert(digest, Arc::from(html.as_str()));
        html
    }

    fn lookup(&self, digest: &[u8; 32]) -> Option<Arc<str>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.tick += 1;
        let tick = entries.tick;
        entries.by_digest.get_mut(digest).map(|(html, used)| {
            *used = tick;
            html.clone()
        })
    }

    fn insert(&self, digest: [u8; 32], html: Arc<str>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.tick += 1;
        let tick = entries.tick;
        entries.bytes += html.len();
        if let Some((old, _)) = entries.by_digest.insert(digest, (html, tick)) {
            entries.bytes -= old.len();
        }
        if entries.bytes > self.budget {
            // Keep the more recently used half (an O(n log n) pass at most once per half
            // of the budget written).
            let mut ticks: Vec<u64> = entries.by_digest.values().map(|(_, t)| *t).collect();
            ticks.sort_unstable();
            let cut = ticks[ticks.len() / 2];
            entries.by_digest.retain(|_, (_, t)| *t >= cut);
            entries.bytes = entries.by_digest.values().map(|(h, _)| h.len()).sum();
        }
    }
}

fn render_uncached(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut events = Vec::new();
    let mut code: Option<(String, String)> = None;
    for event in Parser::new_ext(markdown, options) {
        match (&mut code, event) {
            (None, Event::Start(Tag::CodeBlock(kind))) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            (Some((_, text)), Event::Text(t)) => text.push_str(&t),
            (Some(_), Event::End(TagEnd::CodeBlock)) => {
                if let Some((lang, text)) = code.take() {
                    events.push(Event::Html(
                        format!(
                            "<pre class=\"code\"><code>{}</code></pre>\n",
                            highlight(&text, &lang)
                        )
                        .into(),
                    ));
                }
            }
            (Some(_), _) => {}
            (None, event) => events.push(event),
        }
    }
    let mut raw = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut raw, events.into_iter());
    CLEANER.clean(&raw).to_string()
}

/// The text of each code block in `markdown`, in order (what "open in the editor" offers).
pub fn code_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new_ext(markdown, Options::empty()) {
        match (&mut current, event) {
            (None, Event::Start(Tag::CodeBlock(_))) => current = Some(String::new()),
            (Some(text), Event::Text(t)) => text.push_str(&t),
            (Some(_), Event::End(TagEnd::CodeBlock)) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_render_cache_answers_what_rendering_would_and_keeps_to_its_budget() {
        let cache = Rendered::new(2_000);
        let texts: Vec<String> = (0..40)
            .map(|i| format!("post {i} with `code` and <script>alert({i})</script>"))
            .collect();
        for t in &texts {
            assert_eq!(cache.get_or_render(t), render_uncached(t));
        }
        // Read again (some from the cache, the evicted ones rendered anew): the same HTML.
        for t in &texts {
            assert_eq!(cache.get_or_render(t), render_uncached(t));
        }
        let entries = cache.entries.lock().unwrap();
        assert!(entries.bytes <= 2_000, "{} bytes kept", entries.bytes);
        assert!(!entries.by_digest.is_empty());
        assert_eq!(
            entries.bytes,
            entries
                .by_digest
                .values()
                .map(|(h, _)| h.len())
                .sum::<usize>()
        );
        // The most recently read text is still there.
        let last: [u8; 32] = {
            use sha2::{Digest, Sha256};
            Sha256::digest(texts[39].as_bytes()).into()
        };
        assert!(entries.by_digest.contains_key(&last));
    }

    #[test]
    fn code_blocks_are_found_in_order_and_inline_code_is_not() {
        let md = "Try `x`:\n\n```js\nconst a = 1;\n```\n\ntext\n\n    indented()\n\n````\n```nested```\n````\n";
        assert_eq!(
            code_blocks(md),
            vec!["const a = 1;\n", "indented()\n", "```nested```\n"]
        );
        assert!(code_blocks("no code here, only `inline`").is_empty());
    }

    #[test]
    fn scripts_event_handlers_and_javascript_links_render_inert() {
        let html = render(
            "Hi <script>alert(1)</script>\n\n[click](javascript:alert(2)) \
             <img src=x onerror=alert(3)> <a href=\"#\" onclick=\"alert(4)\">x</a> \
             <iframe src=\"https://evil.example\"></iframe>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("alert(1)"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("onclick"), "{html}");
        assert!(!html.contains("<iframe"), "{html}");
    }

    #[test]
    fn code_blocks_are_highlighted_and_their_html_escaped() {
        let html = render("```js\nconst a = '<b>';\n```\n");
        assert!(
            html.contains("<span class=\"tok-kw\">const</span>"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
    }

    #[test]
    fn links_open_safely_and_tables_render() {
        let html = render("[docs](https://example.org)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
        assert!(html.contains("<table>"), "{html}");
    }

    #[test]
    fn classes_other_than_the_highlighters_are_dropped() {
        let html = render("<span class=\"tok-kw evil\">x</span>");
        assert!(!html.contains("evil"), "{html}");
    }
}
