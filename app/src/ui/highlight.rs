//! A small syntax highlighter for code blocks in lessons: comments, strings, numbers and
//! keywords of the languages courses use. It runs on the server while Markdown is rendered,
//! so pages arrive highlighted and no highlighting code ships to the browser.

/// How one language spells comments, strings and keywords.
struct Grammar {
    line_comment: &'static [&'static str],
    block_comment: Option<(&'static str, &'static str)>,
    quotes: &'static [char],
    keywords: &'static [&'static str],
}

const JS: Grammar = Grammar {
    line_comment: &["//"],
    block_comment: Some(("/*", "*/")),
    quotes: &['"', '\'', '`'],
    keywords: &[
        "async",
        "await",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "default",
        "delete",
        "do",
        "else",
        "export",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "instanceof",
        "let",
        "new",
        "null",
        "of",
        "return",
        "static",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "undefined",
        "var",
        "void",
        "while",
        "yield",
        "interface",
        "type",
        "enum",
        "implements",
    ],
};

const RUST: Grammar = Grammar {
    line_comment: &["//"],
    block_comment: Some(("/*", "*/")),
    quotes: &['"'],
    keywords: &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
        "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait",
        "true", "type", "unsafe", "use", "where", "while",
    ],
};

const PYTHON: Grammar = Grammar {
    line_comment: &["#"],
    block_comment: None,
    quotes: &['"', '\''],
    keywords: &[
        "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "False", "finally", "for", "from", "global", "if", "import",
        "in", "is", "lambda", "None", "nonlocal", "not", "or", "pass", "raise", "return", "True",
        "try", "while", "with", "yield",
    ],
};

const SHELL: Grammar = Grammar {
    line_comment: &["#"],
    block_comment: None,
    quotes: &['"', '\''],
    keywords: &[
        "if", "then", "else", "elif", "fi", "for", "in", "do", "done", "while", "case", "esac",
        "function", "return", "export", "local", "git", "cd", "echo", "npm", "cargo",
    ],
};

const C_LIKE: Grammar = Grammar {
    line_comment: &["//"],
    block_comment: Some(("/*", "*/")),
    quotes: &['"', '\''],
    keywords: &[
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "default",
        "do",
        "else",
        "enum",
        "false",
        "final",
        "for",
        "func",
        "go",
        "if",
        "import",
        "interface",
        "new",
        "nil",
        "null",
        "package",
        "private",
        "protected",
        "public",
        "return",
        "static",
        "struct",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "var",
        "void",
        "while",
        "int",
        "char",
        "float",
        "double",
        "long",
        "bool",
        "string",
    ],
};

const DATA: Grammar = Grammar {
    line_comment: &["#"],
    block_comment: None,
    quotes: &['"', '\''],
    keywords: &["true", "false", "null"],
};

fn grammar(lang: &str) -> Option<&'static Grammar> {
    Some(match lang.to_ascii_lowercase().as_str() {
        "js" | "javascript" | "ts" | "typescript" | "jsx" | "tsx" | "mjs" => &JS,
        "rust" | "rs" => &RUST,
        "python" | "py" => &PYTHON,
        "sh" | "bash" | "shell" | "console" | "zsh" => &SHELL,
        "c" | "cpp" | "c++" | "java" | "go" | "kotlin" | "csharp" | "cs" | "swift" => &C_LIKE,
        "json" | "toml" | "yaml" | "yml" => &DATA,
        _ => return None,
    })
}

/// Appends `text` to `out` with HTML's special characters escaped.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn span(out: &mut String, class: &str, text: &str) {
    out.push_str("<span class=\"");
    out.push_str(class);
    out.push_str("\">");
    escape_into(out, text);
    out.push_str("</span>");
}

/// The code as escaped HTML with `tok-*` spans; unknown languages are only escaped.
pub fn highlight(code: &str, lang: &str) -> String {
    let mut out = String::with_capacity(code.len() * 2);
    let Some(g) = grammar(lang) else {
        escape_into(&mut out, code);
        return out;
    };
    let mut rest = code;
    while let Some(c) = rest.chars().next() {
        if g.line_comment.iter().any(|p| rest.starts_with(p)) {
            let end = rest.find('\n').unwrap_or(rest.len());
            span(&mut out, "tok-com", &rest[..end]);
            rest = &rest[end..];
        } else if let Some((open, close)) = g.block_comment.filter(|(o, _)| rest.starts_with(o)) {
            let end = rest[open.len()..]
                .find(close)
                .map_or(rest.len(), |i| open.len() + i + close.len());
            span(&mut out, "tok-com", &rest[..end]);
            rest = &rest[end..];
        } else if g.quotes.contains(&c) {
            // To the closing quote (skipping escapes); a plain string also ends at the line.
            let open = c.len_utf8();
            let mut end = rest.len();
            let mut escaped = false;
            for (i, ch) in rest[open..].char_indices() {
                if escaped {
                    escaped = false;
                } else if ch == '\\' {
                    escaped = true;
                } else if ch == c {
                    end = open + i + ch.len_utf8();
                    break;
                } else if ch == '\n' && c != '`' {
                    end = open + i;
                    break;
                }
            }
            span(&mut out, "tok-str", &rest[..end]);
            rest = &rest[end..];
        } else if c.is_ascii_digit() {
            let end = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '_'))
                .unwrap_or(rest.len());
            span(&mut out, "tok-num", &rest[..end]);
            rest = &rest[end..];
        } else if c.is_alphabetic() || c == '_' || c == '$' {
            let end = rest
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '$'))
                .unwrap_or(rest.len());
            let word = &rest[..end];
            if g.keywords.contains(&word) {
                span(&mut out, "tok-kw", word);
            } else {
                escape_into(&mut out, word);
            }
            rest = &rest[end..];
        } else {
            escape_into(&mut out, &rest[..c.len_utf8()]);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_strings_numbers_and_comments_get_their_own_spans() {
        let html = highlight("const x = \"a<b\"; // note\nreturn 42;", "js");
        assert_eq!(
            html,
            "<span class=\"tok-kw\">const</span> x = <span class=\"tok-str\">&quot;a&lt;b&quot;</span>; \
             <span class=\"tok-com\">// note</span>\n<span class=\"tok-kw\">return</span> \
             <span class=\"tok-num\">42</span>;"
        );
    }

    #[test]
    fn an_unterminated_string_or_comment_ends_with_the_code() {
        assert_eq!(
            highlight("'abc", "python"),
            "<span class=\"tok-str\">&#39;abc</span>"
        );
        assert_eq!(
            highlight("/* open", "rust"),
            "<span class=\"tok-com\">/* open</span>"
        );
    }

    #[test]
    fn unknown_languages_are_escaped_only() {
        assert_eq!(highlight("<b>if</b>", "brainfuck"), "&lt;b&gt;if&lt;/b&gt;");
    }
}
