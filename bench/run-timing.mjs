// Browser Run, click to verdict: signs in the demo learner, opens the FizzBuzz exercise and
// times Run from the click until the results are announced — the first Run of a fresh page
// (cold: the sandbox frame loads) and then 10 more (warm). Prints median and worst.
// Usage: node bench/run-timing.mjs http://127.0.0.1:3200
import { chromium } from '../end2end/node_modules/playwright-core/index.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:3200';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const page = await browser.newPage();
await page.goto(`${base}/signin`);
await page.locator('html[data-hydrated]').waitFor();
const form = page.getByTestId('sign-in-form');
await form.getByTestId('input-email').fill('learner@pairwise.test');
await form.getByTestId('input-password').fill('pairwise-learner-demo');
await form.getByTestId('submit').click();
await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
await page.goto(`${base}/courses/javascript-foundations`);
await page.locator('html[data-hydrated]').waitFor();
const enrol = page.getByTestId('course-enrol');
if (await enrol.isVisible()) {
  await enrol.click();
  await page.getByTestId('course-resume').waitFor();
}
const lesson = await page.getByRole('link', { name: 'Exercise: FizzBuzz', exact: true }).getAttribute('href');

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
for (let round = 0; round < 3; round++) {
  await page.goto(`${base}${lesson}`);
  await page.locator('html[data-hydrated]').waitFor();
  await page.locator('.cm-editor').waitFor();
  cold.push(await timeRun());
  for (let i = 0; i < 10; i++) warm.push(await timeRun());
}
const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]} ms, worst ${s[s.length - 1]} ms (n=${s.length})`;
};
console.log(`browser Run, cold (new page)       ${stat(cold)}`);
console.log(`browser Run, warm                  ${stat(warm)}`);
await browser.close();
