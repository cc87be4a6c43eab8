// Keystroke in one browser → the character rendered in the other's shared editor. The demo
// mentor and learner open one room (two browser contexts, one Chromium, loopback); the mentor
// types N characters, one every 80 ms, at the end of the document. Each keydown is stamped in
// the typing page and each newly rendered character in the watching page (a MutationObserver
// on CodeMirror's content), both as performance.timeOrigin + performance.now() (the same wall
// clock, sub-millisecond). Every keystroke passes the server: checked, applied, appended to
// SurrealDB (synced to disk) and relayed. Prints p50/p95/p99 and worst.
// Usage: node bench/pair-latency.mjs http://127.0.0.1:3200 [keystrokes]
import { launch, mentorRoom } from './browser.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:3200';
const n = Number(process.argv[3] ?? 300);
const browser = await launch();
const { mentor, learner, path } = await mentorRoom(browser, base, 'Latency');
await learner.goto(`${base}${path}`);
for (const p of [mentor, learner]) {
  await p.locator('[data-testid=room][data-conn=live]').waitFor();
  await p.locator('[data-testid=code-editor][data-ready=true]').waitFor();
}

await mentor.evaluate(() => {
  window.__keys = [];
  document.addEventListener('keydown', () => window.__keys.push(performance.timeOrigin + performance.now()), true);
});
await learner.evaluate(() => {
  window.__seen = [];
  const content = document.querySelector('[data-testid=code-editor] .cm-content');
  const length = () => {
    let len = 0;
    for (const line of content.querySelectorAll('.cm-line')) {
      let t = line.textContent ?? '';
      for (const c of line.querySelectorAll('.cm-pw-caret')) t = t.replace(c.textContent ?? '', '');
      len += t.length;
    }
    return len;
  };
  new MutationObserver(() => {
    const at = performance.timeOrigin + performance.now();
    const len = length();
    while (window.__seen.length < len) window.__seen.push(at);
  }).observe(content, { childList: true, subtree: true, characterData: true });
});

await mentor.locator('[data-testid=code-editor] .cm-content').click();
for (let i = 0; i < n; i++) {
  await mentor.keyboard.press('x');
  await mentor.waitForTimeout(80);
}
await learner.waitForFunction((k) => window.__seen.length >= k, n, { timeout: 30_000 });
const keys = await mentor.evaluate(() => window.__keys);
const seen = await learner.evaluate(() => window.__seen);
const lat = keys.slice(0, n).map((t, i) => seen[i] - t).sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
console.log(
  `keystroke → rendered in the other browser (${n} keys, 1 per 80 ms): ` +
    `p50 ${q(50).toFixed(1)} ms, p95 ${q(95).toFixed(1)} ms, p99 ${q(99).toFixed(1)} ms, worst ${lat[lat.length - 1].toFixed(1)} ms`,
);
await browser.close();
