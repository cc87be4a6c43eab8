// Pairwise code editor: CodeMirror 6 behind a small API, bundled by esbuild (see ../editor.mk)
// into minified ES modules: public/editor/codemirror.js, and the chunks it imports on demand
// (one per language grammar, one for the shared editor's Yjs code) under public/editor/chunks/
// (generated, gitignored). The WASM front end loads it lazily with
// `import('/editor/codemirror.js')` and binds `create` and the `Editor` methods through
// wasm_bindgen, so every argument is a plain value.
//
// All CodeMirror packages are pinned exactly in app/package.json. Anything that must share
// CodeMirror's state with this editor (the Yjs binding `y-codemirror.next` for pair
// programming) has to be imported from THIS build, statically or by a dynamic import that
// esbuild splits: the chunks share one copy of @codemirror/state and @codemirror/view. A second
// copy in another bundle breaks CodeMirror's instanceof checks ("Unrecognized extension value
// ... multiple instances of @codemirror/state").
//
// Styling: all CSS goes through CodeMirror's own theming (EditorView.theme/baseTheme), which
// style-mod writes into ONE <style> element at the start of <head> (a Document has a head, so
// style-mod never uses adoptedStyleSheets there; only shadow roots do). Under the app's CSP
// (`style-src 'self' 'nonce-…'`) that element needs the page's nonce: pass it as `create`'s
// 8th argument, which becomes EditorView.cspNonce and is set on the <style> element before it
// is inserted. The rest of CodeMirror's inline styling goes through the CSSOM (`el.style.x =`,
// `style.cssText =`), which CSP does not block. Font family/size and colours of the page
// around the editor are left to the app's CSS (`.cm-editor`, `.cm-scroller`, `.cm-content`);
// because style-mod's <style> element comes first in <head>, app rules of equal specificity
// win. Use 16px for `.cm-content` on narrow screens so iOS does not zoom on focus.
//
// Keyboard: Tab / Shift-Tab indent and dedent (indentWithTab). To leave the editor with the
// keyboard, press Escape and then Tab (or Shift-Tab) within 2 seconds: CodeMirror's built-in
// keydown handler turns on "tab focus mode" on Escape (EditorView.setTabFocusMode docs and
// @codemirror/view InputState.keydown), during which Tab is not bound and the browser moves
// focus. If Escape is used by something else first (closing the search panel, collapsing a
// multiple selection), press it once more. In read-only mode Tab is not bound at all.

import { Annotation, Compartment, EditorState, StateEffect, StateField, Transaction } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  crosshairCursor,
  drawSelection,
  dropCursor,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from "@codemirror/view";
import {
  HighlightStyle,
  bracketMatching,
  foldGutter,
  foldKeymap,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { tags as t } from "@lezer/highlight";

/** Bundle version: bump when this file or the pinned CodeMirror versions change. */
export const version =
  "pairwise-editor 1.2.0 (@codemirror/view 6.43.15, @codemirror/state 6.7.6, yjs 13.6.33, y-codemirror.next 0.3.6)";

// ---------------------------------------------------------------------------------------------
// Languages

// Each grammar is a chunk of its own (esbuild splits at every dynamic import; the files under
// lang/ give the chunks names the server can find them by, to preload the one a page uses),
// fetched when an editor first needs it: an exercise page downloads CodeMirror and its one language, never the
// five others or the shared-editing code. The editor works as plain text until the grammar
// arrives, then highlights without losing anything typed meanwhile.
const LANGUAGES = {
  javascript: { indent: "  ", load: () => import("./lang/javascript.js") },
  python: { indent: "    ", load: () => import("./lang/python.js") },
  rust: { indent: "    ", load: () => import("./lang/rust.js") },
  html: { indent: "  ", load: () => import("./lang/html.js") },
  css: { indent: "  ", load: () => import("./lang/css.js") },
  sql: { indent: "  ", load: () => import("./lang/sql.js") },
};
const ALIASES = { js: "javascript", py: "python", rs: "rust", htm: "html" };

/** The language entry for `lang`, or null for an unknown name (or "text"/""): plain text. */
function languageOf(lang) {
  const key = String(lang || "").toLowerCase();
  return LANGUAGES[ALIASES[key] || key] || null;
}

/** What the editor has before (or without) the grammar: the language's indentation. */
function indentOf(lang) {
  const spec = languageOf(lang);
  return indentUnit.of(spec ? spec.indent : "    ");
}

// ---------------------------------------------------------------------------------------------
// Themes. Syntax colours meet WCAG AA (>= 4.5:1) against the editor background.

const light = {
  bg: "#ffffff", fg: "#1f2328", muted: "#59636e", border: "#d1d9e0", panel: "#f6f8fa",
  keyword: "#cf222e", string: "#0a3069", comment: "#59636e", number: "#0550ae",
  func: "#6639ba", type: "#953800", tag: "#116329", invalid: "#82071e",
  selection: "#b6d7ff", activeLine: "#eef3fb", match: "#1f883d33", focus: "#0969da",
};
const dark = {
  bg: "#1e2127", fg: "#e6edf3", muted: "#9198a1", border: "#3d444d", panel: "#161b22",
  keyword: "#ff7b72", string: "#a5d6ff", comment: "#9198a1", number: "#79c0ff",
  func: "#d2a8ff", type: "#ffa657", tag: "#7ee787", invalid: "#ffa198",
  selection: "#264f78", activeLine: "#ffffff0d", match: "#3fb95040", focus: "#4493f8",
};

function highlightStyle(c) {
  return HighlightStyle.define([
    { tag: [t.keyword, t.operatorKeyword, t.controlKeyword, t.definitionKeyword, t.moduleKeyword, t.modifier], color: c.keyword },
    { tag: [t.string, t.special(t.string), t.character, t.attributeValue], color: c.string },
    { tag: [t.regexp, t.escape], color: c.tag },
    { tag: [t.comment, t.lineComment, t.blockComment, t.docComment], color: c.comment, fontStyle: "italic" },
    { tag: [t.number, t.integer, t.float, t.bool, t.null, t.atom, t.unit, t.constant(t.name), t.standard(t.name)], color: c.number },
    { tag: [t.function(t.variableName), t.function(t.propertyName), t.function(t.definition(t.variableName)), t.macroName], color: c.func },
    { tag: [t.definition(t.variableName), t.definition(t.propertyName)], color: c.fg, fontWeight: "600" },
    { tag: [t.typeName, t.className, t.namespace, t.labelName, t.self, t.special(t.variableName)], color: c.type },
    { tag: [t.propertyName, t.attributeName], color: c.number },
    { tag: [t.tagName, t.angleBracket], color: c.tag },
    { tag: [t.meta, t.annotation, t.processingInstruction, t.documentMeta], color: c.muted },
    { tag: t.heading, fontWeight: "bold", color: c.keyword },
    { tag: t.strong, fontWeight: "bold" },
    { tag: t.emphasis, fontStyle: "italic" },
    { tag: t.strikethrough, textDecoration: "line-through" },
    { tag: [t.link, t.url], color: c.string, textDecoration: "underline" },
    { tag: t.invalid, color: c.invalid, textDecoration: "underline wavy" },
  ]);
}

function editorTheme(c, isDark) {
  return EditorView.theme(
    {
      "&": { color: c.fg, backgroundColor: c.bg },
      "&.cm-focused": { outline: `2px solid ${c.focus}`, outlineOffset: "-2px" },
      ".cm-content": { caretColor: c.fg },
      ".cm-cursor, .cm-dropCursor": { borderLeftColor: c.fg },
      "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection":
        { backgroundColor: c.selection },
      ".cm-activeLine": { backgroundColor: c.activeLine },
      ".cm-gutters": { backgroundColor: c.panel, color: c.muted, borderRight: `1px solid ${c.border}` },
      ".cm-activeLineGutter": { backgroundColor: c.activeLine, color: c.fg },
      "&.cm-focused .cm-matchingBracket": { backgroundColor: c.match, outline: `1px solid ${c.tag}` },
      "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "transparent", outline: `1px solid ${c.invalid}` },
      ".cm-selectionMatch": { backgroundColor: c.match },
      ".cm-searchMatch": { backgroundColor: isDark ? "#bb800966" : "#fff8c5", outline: `1px solid ${isDark ? "#d29922" : "#9a6700"}` },
      ".cm-searchMatch.cm-searchMatch-selected": { backgroundColor: isDark ? "#d2992299" : "#ffd33d" },
      ".cm-panels": { backgroundColor: c.panel, color: c.fg },
      ".cm-panels.cm-panels-top": { borderBottom: `1px solid ${c.border}` },
      ".cm-panels.cm-panels-bottom": { borderTop: `1px solid ${c.border}` },
      ".cm-textfield": { backgroundColor: c.bg, color: c.fg, border: `1px solid ${c.border}` },
      ".cm-button": { backgroundImage: "none", backgroundColor: c.bg, color: c.fg, border: `1px solid ${c.border}` },
      ".cm-foldPlaceholder": { backgroundColor: "transparent", border: `1px solid ${c.border}`, color: c.muted },
      ".cm-tooltip": { backgroundColor: c.panel, color: c.fg, border: `1px solid ${c.border}` },
    },
    { dark: isDark },
  );
}

const THEMES = {
  light: [editorTheme(light, false), syntaxHighlighting(highlightStyle(light))],
  dark: [editorTheme(dark, true), syntaxHighlighting(highlightStyle(dark))],
};
const themeExtension = (isDark) => (isDark ? THEMES.dark : THEMES.light);

// Layout only; no font sizes or families, which the app's CSS sets on `.cm-editor`.
const layout = EditorView.baseTheme({
  "&": { maxWidth: "100%", maxHeight: "70vh" },
  ".cm-scroller": { overflow: "auto" },
  ".cm-content, .cm-gutter": { minHeight: "12em" },
});

// ---------------------------------------------------------------------------------------------
// Read-only: EditorState.readOnly stops commands and typing, EditorView.editable=false drops
// contenteditable (no on-screen keyboard on phones). tabindex keeps a read-only editor
// reachable with Tab so keyboard users can scroll and select in it.

const readOnlyExtension = (readOnly) =>
  readOnly
    ? [EditorState.readOnly.of(true), EditorView.editable.of(false),
       EditorView.contentAttributes.of({ tabindex: "0" })] // aria-readonly: set by CodeMirror
    : [EditorState.readOnly.of(false), EditorView.editable.of(true)];

// One highlighted range (the replay's last change), drawn with a class (CSP: no style attributes).
const setMarkEffect = StateEffect.define();
const markField = StateField.define({
  create: () => Decoration.none,
  update(marks, tr) {
    for (const e of tr.effects) {
      if (e.is(setMarkEffect)) {
        const r = e.value;
        const len = tr.state.doc.length;
        marks = r && r.to > r.from && r.to <= len
          ? Decoration.set([Decoration.mark({ class: "cm-pw-changed" }).range(r.from, r.to)])
          : Decoration.none;
      }
    }
    return marks.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});
const markTheme = EditorView.baseTheme({
  ".cm-pw-changed": { backgroundColor: "#fff8c5", outline: "1px solid #9a6700" },
  "&dark .cm-pw-changed": { backgroundColor: "#bb800966", outline: "1px solid #d29922" },
});

/** Marks transactions made by `setValue`, which must not call `onChange`. */
const silent = Annotation.define();

/** The nonce of the page's CSP, if the caller passed none: read from any element carrying one. */
function pageNonce() {
  if (typeof document === "undefined") return "";
  const el = document.querySelector("script[nonce], style[nonce], link[nonce]");
  return (el && (el.nonce || el.getAttribute("nonce"))) || "";
}

export class Editor {
  /**
   * `extra.extensions` are added (the Yjs binding); `extra.history === false` leaves out
   * CodeMirror's own undo history (a shared document undoes through Yjs, per user).
   */
  constructor(parent, doc, language, readOnly, dark, label, onChange, nonce, extra) {
    const ownHistory = !(extra && extra.history === false);
    this._language = new Compartment();
    this._theme = new Compartment();
    this._readOnly = new Compartment();
    this._onChange = typeof onChange === "function" ? onChange : null;
    this._lang = language;
    this._isReadOnly = !!readOnly;
    this._isDark = !!dark;
    const cspNonce = typeof nonce === "string" && nonce ? nonce : pageNonce();

    const extensions = [
      // cspNonce first: it must be known when the view mounts its styles.
      cspNonce ? EditorView.cspNonce.of(cspNonce) : [],
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightSpecialChars(),
      ownHistory ? history() : [],
      foldGutter(),
      drawSelection(),
      dropCursor(),
      EditorState.allowMultipleSelections.of(true),
      indentOnInput(),
      bracketMatching(),
      closeBrackets(),
      rectangularSelection(),
      crosshairCursor(),
      highlightActiveLine(),
      highlightSelectionMatches(),
      keymap.of([
        ...closeBracketsKeymap,
        ...defaultKeymap,
        ...searchKeymap,
        ...(ownHistory ? historyKeymap : []),
        ...foldKeymap,
        indentWithTab,
      ]),
      layout,
      EditorView.contentAttributes.of({
        autocapitalize: "off",
        autocorrect: "off",
        spellcheck: "false",
        "aria-label": String(label || "Code editor"),
      }),
      this._language.of(indentOf(language)),
      this._theme.of(themeExtension(this._isDark)),
      this._readOnly.of(readOnlyExtension(this._isReadOnly)),
      markField,
      markTheme,
      (extra && extra.extensions) || [],
      EditorView.updateListener.of((update) => {
        if (!this._onChange || !update.docChanged) return;
        if (update.transactions.every((tr) => !tr.docChanged || tr.annotation(silent))) return;
        this._onChange(update.state.doc.toString());
      }),
    ];

    /** The CodeMirror EditorView, for extensions added later (e.g. Yjs collaboration). */
    this.view = new EditorView({
      parent,
      state: EditorState.create({ doc: String(doc ?? ""), extensions }),
    });
    /** Settles once the language's grammar is in place (or known to be unavailable). */
    this.languageReady = this._loadLanguage(language);
  }

  _loadLanguage(lang) {
    const spec = languageOf(lang);
    if (!spec) return Promise.resolve(false);
    return spec.load().then(
      ({ grammar }) => {
        // The language may have changed, or the editor gone, while the chunk was on its way.
        if (this._lang !== lang || this._destroyed) return false;
        this.view.dispatch({ effects: this._language.reconfigure([grammar(), indentOf(lang)]) });
        return true;
      },
      (e) => {
        console.warn("no syntax highlighting for", lang, e);
        return false;
      },
    );
  }

  /** The whole document text. */
  value() {
    return this.view.state.doc.toString();
  }

  /**
   * Replaces the whole document without calling onChange. Not recorded in undo history
   * (older history entries are mapped through it, so undo cannot resurrect replaced text).
   */
  setValue(text) {
    text = String(text ?? "");
    const state = this.view.state;
    if (state.doc.toString() === text) return;
    this.view.dispatch({
      changes: { from: 0, to: state.doc.length, insert: text },
      selection: { anchor: Math.min(state.selection.main.head, text.length) },
      annotations: [silent.of(true), Transaction.addToHistory.of(false)],
    });
  }

  /** Highlights `{from, to}` (or nothing, for null). */
  setMark(range) {
    this.view.dispatch({ effects: setMarkEffect.of(range || null) });
  }

  setReadOnly(readOnly) {
    readOnly = !!readOnly;
    if (readOnly === this._isReadOnly) return;
    this._isReadOnly = readOnly;
    this.view.dispatch({ effects: this._readOnly.reconfigure(readOnlyExtension(readOnly)) });
  }

  setDark(isDark) {
    isDark = !!isDark;
    if (isDark === this._isDark) return;
    this._isDark = isDark;
    this.view.dispatch({ effects: this._theme.reconfigure(themeExtension(isDark)) });
  }

  setLanguage(lang) {
    if (lang === this._lang) return;
    this._lang = lang;
    this.view.dispatch({ effects: this._language.reconfigure(indentOf(lang)) });
    this.languageReady = this._loadLanguage(lang);
  }

  focus() {
    this.view.focus();
  }

  destroy() {
    this._destroyed = true;
    this._onChange = null;
    this.view.destroy();
  }
}

/**
 * Creates an editor inside `parent`.
 *
 * @param {HTMLElement} parent   element the editor is appended to (it fills its width)
 * @param {string} doc           initial text
 * @param {string} language      "javascript" | "python" | "rust" | "html" | "css" | "sql"
 *                               (anything else: plain text)
 * @param {boolean} readOnly     start read-only
 * @param {boolean} dark         start with the dark theme
 * @param {string} label         accessible name (aria-label of the editable element)
 * @param {?function(string)} onChange  called with the full text after each user change
 *                               (not after setValue); do not call back into this editor
 *                               synchronously from it
 * @param {?string} nonce        the page's CSP nonce, put on the <style> element CodeMirror
 *                               creates (EditorView.cspNonce); null/undefined: taken from the
 *                               first script/style/link element in the page that has a nonce
 * @returns {Editor}
 */
export function create(parent, doc, language, readOnly, dark, label, onChange, nonce) {
  return new Editor(parent, doc, language, readOnly, dark, label, onChange, nonce);
}

/**
 * A shared (pair-programming) editor in `parent`: a Collab whose `editor` is an Editor and
 * whose `receive`/`connected`/`disconnected` carry the Yjs protocol (see collab.js). Yjs is a
 * chunk of its own, fetched only by the pages that share an editor: the result is a Promise.
 */
export async function createCollab(parent, language, dark, label, nonce, name) {
  const { Collab } = await import("./collab.js");
  return new Collab(
    (extensions) => new Editor(parent, "", language, false, dark, label, null, nonce, { extensions, history: false }),
    name,
  );
}

/**
 * A read-only editor replaying `steps` (`[{update: base64}]`) from `base` (base64, the document
 * before the first step, or null); `seek(k)` shows step k. A Promise, like createCollab.
 */
export async function createReplay(parent, steps, base, language, dark, label, nonce) {
  const { Replay } = await import("./collab.js");
  return new Replay(new Editor(parent, "", language, true, dark, label, null, nonce), steps, base);
}
