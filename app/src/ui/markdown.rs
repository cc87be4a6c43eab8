//! Markdown to safe HTML (server only): pulldown-cmark renders, code blocks are highlighted,
//! and ammonia removes everything that could run (scripts, event handlers, `javascript:`
//! links, styles, frames). Lessons, course descriptions and later forum posts all use this.

use std::{collections::HashSet, sync::LazyLock};

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
pub fn render(markdown: &str) -> String {
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
