// One grammar, its own chunk: see LANGUAGES in ../index.js.
export { javascript as grammar } from "@codemirror/lang-javascript";
