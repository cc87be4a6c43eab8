// One grammar, its own chunk: see LANGUAGES in ../index.js.
export { css as grammar } from "@codemirror/lang-css";
