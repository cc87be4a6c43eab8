// One grammar, its own chunk: see LANGUAGES in ../index.js.
export { rust as grammar } from "@codemirror/lang-rust";
