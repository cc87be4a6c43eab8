// One grammar, its own chunk: see LANGUAGES in ../index.js.
export { python as grammar } from "@codemirror/lang-python";
