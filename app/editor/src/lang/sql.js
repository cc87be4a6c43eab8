// One grammar, its own chunk: see LANGUAGES in ../index.js.
export { sql as grammar } from "@codemirror/lang-sql";
