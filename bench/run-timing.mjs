// Browser Run, click to verdict: signs in the demo learner, opens the FizzBuzz exercise and
// times Run from the click until the results are announced — the first Run of a fresh page
// (cold: the sandbox frame loads), then 10 more half a second apart (warm: as a person runs
// again after reading the results, the frame has its workers started), then 10 back to back
// (each click the moment the last results showed: the workers for it are still starting).
// Prints median and worst.
// Usage: node bench/run-timing.mjs http://127.0.0.1:3200 [python]
// With `python`: the Python demo course's first exercise; the cold Run downloads Pyodide (a
// fresh browser context each round, so nothing is cached) and starts it, the warm ones reuse
// its compiled WebAssembly. Every Run starts from a fresh interpreter, which the frame boots
// after the last one (about two seconds here), so Python's warm Runs are timed twice: half a
// second apart like JavaScript's (the click may wait for that boot), and with the next
// interpreter ready before the click (the frame's `pythonReady` message, counted on the page).
import { chromium } from '../end2end/node_modules/playwright-core/index.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:3200';
const python = process.argv[3] === 'python';
const slug = python ? 'python-for-data-work' : 'javascript-foundations';
const title = python ? 'Exercise: Clean a column of names' : 'Exercise: FizzBuzz';
const label = python ? 'Python' : 'JS';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
let page = await browser.newPage();
// Counts the sandbox frame's "interpreter ready" messages (Python); injected by the browser
// driver, so the page's CSP does not apply to it.
const countReady = () =>
  page.addInitScript(() => {
    window.__pythonReady = 0;
    addEventListener('message', (e) => {
      if (e.data && e.data.pythonReady === true) window.__pythonReady++;
    });
  });
await countReady();
const readyCount = () => page.evaluate(() => window.__pythonReady);
async function signIn() {
await page.goto(`${base}/signin`);
await page.locator('html[data-hydrated]').waitFor();
const form = page.getByTestId('sign-in-form');
await form.getByTestId('input-email').fill('learner@pairwise.test');
await form.getByTestId('input-password').fill('pairwise-learner-demo');
await form.getByTestId('submit').click();
await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
}
await signIn();
await page.goto(`${base}/courses/${slug}`);
await page.locator('html[data-hydrated]').waitFor();
const enrol = page.getByTestId('course-enrol');
if (await enrol.isVisible()) {
  await enrol.click();
  await page.getByTestId('course-resume').waitFor();
}
const lesson = await page.getByRole('link', { name: title, exact: true }).getAttribute('href');

async function timeRun() {
  const results = page.getByTestId('run-results');
  const before = Number(await results.getAttribute('data-runs'));
  const t0 = Date.now();
  await page.getByTestId('run').click();
  await page.locator(`[data-testid="run-results"][data-runs="${before + 1}"] [data-testid="run-summary"]`).waitFor();
  return Date.now() - t0;
}

const cold = [];
const warm = [];
const ready = [];
const burst = [];
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
for (let round = 0; round < 3; round++) {
  if (python && round > 0) {
    // A new context: an empty cache, so the cold Run downloads Python again.
    await page.context().close();
    page = await (await browser.newContext()).newPage();
    await countReady();
    await signIn();
  }
  await page.goto(`${base}${lesson}`);
  await page.locator('html[data-hydrated]').waitFor();
  await page.locator('.cm-editor').waitFor();
  cold.push(await timeRun());
  for (let i = 0; i < 10; i++) {
    await pause(500);
    warm.push(await timeRun());
  }
  if (python) {
    for (let i = 0; i < 10; i++) {
      // Read right after the last Run, whose last test started the next interpreter's boot
      // (seconds, so its ready message comes after this read).
      const seen = await readyCount();
      await page
        .waitForFunction((n) => window.__pythonReady > n, seen, { timeout: 15_000 })
        .catch(() => console.error('no interpreter ready message within 15 s; timing anyway'));
      ready.push(await timeRun());
    }
  }
  for (let i = 0; i < 10; i++) burst.push(await timeRun());
}
const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]} ms, worst ${s[s.length - 1]} ms (n=${s.length})`;
};
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.95 * xs.length))];
console.log(`browser Run ${label}, cold (new page) ${stat(cold)}`);
console.log(`browser Run ${label}, warm            ${stat(warm)}, p95 ${p95(warm)} ms`);
if (python) console.log(`browser Run ${label}, interpreter ready ${stat(ready)}, p95 ${p95(ready)} ms`);
console.log(`browser Run ${label}, back to back     ${stat(burst)}, p95 ${p95(burst)} ms`);
await browser.close();
