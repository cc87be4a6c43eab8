// Pair programming in the browser: a Yjs document bound to the CodeMirror editor
// (y-codemirror.next's sync and per-user undo), remote cursors drawn with classes (the
// app's CSP forbids style attributes, so y-codemirror.next's own cursor plugin, which sets
// them, is not used), and the y-protocols sync/awareness messages carried by the room's
// WebSocket, which the WASM side owns: it hands binary frames to `receive` and gives
// `connected` a function that sends one.
//
// Offline: the Y.Doc keeps every local edit. On (re)connect the server sends its state vector
// (SyncStep1) and this side answers with everything the server lacks (SyncStep2), so edits
// made while the network was away merge when it is back.

import * as Y from "yjs";
import * as syncProtocol from "y-protocols/sync";
import * as awarenessProtocol from "y-protocols/awareness";
import * as encoding from "lib0/encoding";
import * as decoding from "lib0/decoding";
import { yCollab, yUndoManagerKeymap } from "y-codemirror.next";
import { RangeSet, Annotation } from "@codemirror/state";
import { Decoration, EditorView, ViewPlugin, WidgetType, keymap } from "@codemirror/view";

const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;

/** The colours the server assigns (`user.slot`, 0–7), as in `rooms::code::live::colours`. */
export const PALETTE = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#bf3989", "#0a7ea4", "#6e7781"];

function slotOf(user) {
  const i = PALETTE.indexOf(user && user.color);
  return i < 0 ? 7 : i;
}

const paletteRules = {};
PALETTE.forEach((c, i) => {
  paletteRules[`.cm-pw-sel-${i}`] = { backgroundColor: c + "33" };
  paletteRules[`.cm-pw-caret-${i}`] = { borderLeftColor: c };
  paletteRules[`.cm-pw-caret-${i} .cm-pw-name`] = { backgroundColor: c };
});

export const peerTheme = EditorView.baseTheme({
  ...paletteRules,
  ".cm-pw-caret": {
    position: "relative",
    borderLeft: "2px solid",
    marginLeft: "-1px",
    marginRight: "-1px",
  },
  ".cm-pw-name": {
    position: "absolute",
    top: "-1.3em",
    left: "-2px",
    fontSize: "0.75em",
    lineHeight: "1.3",
    color: "#fff",
    padding: "0 3px",
    borderRadius: "3px 3px 3px 0",
    whiteSpace: "nowrap",
    pointerEvents: "none",
    zIndex: 10,
  },
});

class CaretWidget extends WidgetType {
  constructor(slot, name) {
    super();
    this.slot = slot;
    this.name = name;
  }
  toDOM() {
    const caret = document.createElement("span");
    caret.className = `cm-pw-caret cm-pw-caret-${this.slot}`;
    caret.setAttribute("data-peer-cursor", this.name);
    caret.appendChild(document.createTextNode("\u2060"));
    const label = document.createElement("span");
    label.className = "cm-pw-name";
    label.textContent = this.name;
    caret.appendChild(label);
    caret.appendChild(document.createTextNode("\u2060"));
    return caret;
  }
  eq(other) {
    return other.slot === this.slot && other.name === this.name;
  }
  ignoreEvent() {
    return true;
  }
}

const peersChanged = Annotation.define();

/** Publishes this editor's selection to awareness and draws everyone else's. */
function remoteCursors(ytext, awareness) {
  return ViewPlugin.fromClass(
    class {
      constructor(view) {
        this.decorations = RangeSet.of([]);
        this.listener = ({ added, updated, removed }) => {
          const ids = added.concat(updated, removed);
          if (ids.some((id) => id !== awareness.clientID)) {
            // Dispatching inside another update is not allowed: defer a tick.
            queueMicrotask(() => view.dispatch({ annotations: peersChanged.of(true) }));
          }
        };
        awareness.on("change", this.listener);
      }
      destroy() {
        awareness.off("change", this.listener);
      }
      update(update) {
        const local = awareness.getLocalState();
        if (local != null && (update.selectionSet || update.focusChanged || update.docChanged)) {
          const sel = update.view.hasFocus ? update.state.selection.main : null;
          if (sel) {
            const anchor = Y.createRelativePositionFromTypeIndex(ytext, sel.anchor);
            const head = Y.createRelativePositionFromTypeIndex(ytext, sel.head);
            const cur = local.cursor;
            if (
              !cur ||
              !Y.compareRelativePositions(Y.createRelativePositionFromJSON(cur.anchor), anchor) ||
              !Y.compareRelativePositions(Y.createRelativePositionFromJSON(cur.head), head)
            ) {
              awareness.setLocalStateField("cursor", { anchor, head });
            }
          }
        }
        const decos = [];
        const doc = ytext.doc;
        awareness.getStates().forEach((state, client) => {
          if (client === awareness.clientID || !state || !state.cursor) return;
          const { anchor, head } = state.cursor;
          if (!anchor || !head) return;
          let a, h;
          try {
            a = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(anchor), doc);
            h = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(head), doc);
          } catch (e) {
            return; // a malformed cursor from one peer must not take everyone's cursors down
          }
          if (!a || !h || a.type !== ytext || h.type !== ytext) return;
          const len = update.state.doc.length;
          const from = Math.min(a.index, h.index, len);
          const to = Math.min(Math.max(a.index, h.index), len);
          const slot = slotOf(state.user);
          const name = String((state.user && state.user.name) || "Someone");
          if (from < to) {
            decos.push(Decoration.mark({ class: `cm-pw-sel cm-pw-sel-${slot}` }).range(from, to));
          }
          const at = Math.min(h.index, len);
          decos.push(
            Decoration.widget({ widget: new CaretWidget(slot, name), side: h.index > a.index ? -1 : 1 }).range(at),
          );
        });
        this.decorations = Decoration.set(decos, true);
      }
    },
    { decorations: (v) => v.decorations },
  );
}

export class Collab {
  /**
   * @param {function(Array): Editor} makeEditor  builds the editor with extra extensions
   * @param {string} name  this user's display name (the server sets the real one)
   */
  constructor(makeEditor, name) {
    this.doc = new Y.Doc();
    this.text = this.doc.getText("code");
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    this.awareness.setLocalStateField("user", { name: String(name || "") });
    this.undoManager = new Y.UndoManager(this.text);
    this._send = null;
    // Live changes wait until this side has answered the server's state vector: that answer
    // carries everything typed before it (offline edits included), in the order the server
    // needs; a keystroke sent earlier would skip what the server has not seen and be refused.
    this._ready = false;
    this.synced = false;
    const extensions = [
      yCollab(this.text, null, { undoManager: this.undoManager }),
      remoteCursors(this.text, this.awareness),
      peerTheme,
      keymap.of(yUndoManagerKeymap),
    ];
    this.editor = makeEditor(extensions);
    this._onUpdate = (update, origin) => {
      // Remote updates are applied with this object as their origin: only local ones go out.
      if (origin === this || !this._send || !this._ready) return;
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, MESSAGE_SYNC);
      syncProtocol.writeUpdate(enc, update);
      this._send(encoding.toUint8Array(enc));
    };
    this.doc.on("update", this._onUpdate);
    this._onAwareness = ({ added, updated, removed }, origin) => {
      if (origin !== "local" || !this._send) return;
      this._sendAwareness(added.concat(updated, removed));
    };
    this.awareness.on("update", this._onAwareness);
  }

  _sendAwareness(clients) {
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, MESSAGE_AWARENESS);
    encoding.writeVarUint8Array(enc, awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients));
    this._send(encoding.toUint8Array(enc));
  }

  /** The socket is open: `send(Uint8Array)` sends one binary frame. */
  connected(send) {
    this._send = send;
    this._ready = false;
    this.synced = false;
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, MESSAGE_SYNC);
    syncProtocol.writeSyncStep1(enc, this.doc);
    send(encoding.toUint8Array(enc));
    // Re-set the local state: a newer clock than the removal the server sent when the old
    // connection left, so the others show this cursor again at once.
    const local = this.awareness.getLocalState();
    if (local !== null) this.awareness.setLocalState({ ...local });
  }

  /** The socket is gone: keep editing locally; forget the others' cursors until we are back. */
  disconnected() {
    this._send = null;
    this._ready = false;
    this.synced = false;
    const others = Array.from(this.awareness.getStates().keys()).filter((c) => c !== this.doc.clientID);
    awarenessProtocol.removeAwarenessStates(this.awareness, others, this);
    // Forget their clocks too: the server's snapshot after the reconnect carries the clocks
    // they had, which Awareness would otherwise ignore as old until each cursor moves.
    for (const c of others) this.awareness.meta.delete(c);
  }

  /** One binary frame from the server. */
  receive(bytes) {
    const dec = decoding.createDecoder(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    const type = decoding.readVarUint(dec);
    if (type === MESSAGE_SYNC) {
      const enc = encoding.createEncoder();
      encoding.writeVarUint(enc, MESSAGE_SYNC);
      const step = syncProtocol.readSyncMessage(dec, enc, this.doc, this);
      if (step === syncProtocol.messageYjsSyncStep2) this.synced = true;
      if (encoding.length(enc) > 1 && this._send) this._send(encoding.toUint8Array(enc));
      // Our answer to the server's state vector is on its way: live changes may follow it.
      if (step === syncProtocol.messageYjsSyncStep1 && this._send) this._ready = true;
    } else if (type === MESSAGE_AWARENESS) {
      awarenessProtocol.applyAwarenessUpdate(this.awareness, decoding.readVarUint8Array(dec), this);
    }
  }

  value() {
    return this.text.toString();
  }

  /** Names of the others whose cursors are shown. */
  peers() {
    const out = [];
    this.awareness.getStates().forEach((s, c) => {
      if (c !== this.doc.clientID && s && s.user) out.push(String(s.user.name || ""));
    });
    return out;
  }

  destroy() {
    this.doc.off("update", this._onUpdate);
    this.awareness.off("update", this._onAwareness);
    awarenessProtocol.removeAwarenessStates(this.awareness, [this.doc.clientID], "local");
    this.awareness.destroy();
    this.editor.destroy();
    this.doc.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Replay: the stored update log applied step by step to a fresh document.

const CHECKPOINT_EVERY = 200;

function b64bytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export class Replay {
  /**
   * @param {Editor} editor  a read-only editor showing the text
   * @param {Array<{update: string}>} steps  base64 updates, oldest first
   * @param {?string} base  base64 of the document before the first step
   */
  constructor(editor, steps, base) {
    this.editor = editor;
    this.updates = steps.map((s) => b64bytes(s.update));
    // The document before the first step (older history left out), or nothing.
    this.checkpoints = new Map([[0, base ? b64bytes(base) : null]]);
    this._fresh(this.checkpoints.get(0));
    this.at = 0;
  }

  _fresh(from) {
    if (this.doc) this.doc.destroy();
    this.doc = new Y.Doc();
    this.text = this.doc.getText("code");
    if (from) Y.applyUpdate(this.doc, from);
  }

  /** Moves to the state after `k` steps; returns the range the last step changed. */
  seek(k) {
    k = Math.max(0, Math.min(this.updates.length, k | 0));
    if (k < this.at) {
      let base = 0;
      for (const c of this.checkpoints.keys()) if (c <= k && c > base) base = c;
      this._fresh(this.checkpoints.get(base));
      this.at = base;
    }
    let changed = null;
    const watch = (event) => {
      let pos = 0;
      for (const op of event.delta) {
        if (op.retain) pos += op.retain;
        else if (op.insert) {
          const len = typeof op.insert === "string" ? op.insert.length : 1;
          changed = { from: pos, to: pos + len };
          pos += len;
        } else if (op.delete) changed = { from: pos, to: pos };
      }
    };
    while (this.at < k) {
      const last = this.at === k - 1;
      if (last) this.text.observe(watch);
      Y.applyUpdate(this.doc, this.updates[this.at]);
      if (last) this.text.unobserve(watch);
      this.at += 1;
      if (this.at % CHECKPOINT_EVERY === 0 && !this.checkpoints.has(this.at)) {
        this.checkpoints.set(this.at, Y.encodeStateAsUpdate(this.doc));
      }
    }
    this.editor.setValue(this.text.toString());
    this.editor.setMark(changed);
    return changed;
  }
}
