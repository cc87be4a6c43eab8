// One grammar, its own chunk: see LANGUAGES in ../index.js.
export { html as grammar } from "@codemirror/lang-html";
