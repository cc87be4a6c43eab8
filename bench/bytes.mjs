// Bytes a phone downloads before a page is interactive, as sent over the wire (compressed,
// headers excluded), first visit and second visit (warm cache), for the pages a learner reads.
// "Interactive" is the island loader's mark: <html data-hydrated> is `true` once every island
// runs, or `none` at once on a page without islands.
// Usage: node bench/bytes.mjs http://127.0.0.1:3200
import { chromium } from '../end2end/node_modules/playwright-core/index.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:3200';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const context = await browser.newContext({
  viewport: { width: 360, height: 740 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
});
const page = await context.newPage();

async function signIn(email, password) {
  await page.goto(`${base}/signin`);
  const form = page.getByTestId('sign-in-form');
  await form.getByTestId('input-email').fill(email);
  await form.getByTestId('input-password').fill(password);
  await form.getByTestId('submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
}

/** Loads `path`, returns { bytes, requests, wasm } transferred until the page is interactive. */
async function measure(path, { cache }) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: !cache });
  const urls = new Map();
  let bytes = 0;
  let requests = 0;
  let wasm = 0;
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => {
    bytes += e.encodedDataLength;
    if (e.encodedDataLength > 0) requests += 1;
    if ((urls.get(e.requestId) ?? '').endsWith('.wasm')) wasm += e.encodedDataLength;
  });
  await page.goto(`${base}${path}`);
  await page.locator('html[data-hydrated]').waitFor();
  await page.waitForLoadState('networkidle');
  await cdp.detach();
  return { bytes, requests, wasm };
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
async function report(label, path) {
  const first = await measure(path, { cache: false });
  const second = await measure(path, { cache: true });
  console.log(
    `${label.padEnd(34)} first visit ${kib(first.bytes)} in ${first.requests} responses (WASM ${kib(first.wasm)}); ` +
      `second visit ${kib(second.bytes)} in ${second.requests}`,
  );
}

await report('bytes: home (signed out)', '/');
await report('bytes: catalog (signed out)', '/courses');
await report('bytes: course page (signed out)', '/courses/javascript-foundations');
await signIn('learner@pairwise.test', 'pairwise-learner-demo');
await page.goto(`${base}/courses/javascript-foundations`);
const enrol = page.getByTestId('course-enrol');
if (await enrol.isVisible()) {
  await enrol.click();
  await page.getByTestId('course-resume').waitFor();
}
const links = await page.locator('a[href^="/lessons/"]').evaluateAll((as) =>
  as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim() })),
);
const reading = links.find((l) => !/exercise|quiz|video|tour/i.test(l.text))?.href ?? links[0].href;
const exercise = links.find((l) => /fizzbuzz/i.test(l.text))?.href;
await report('bytes: catalog (signed in)', '/courses');
await report('bytes: course page (signed in)', '/courses/javascript-foundations');
await report('bytes: reading lesson (signed in)', reading);
if (exercise) await report('bytes: exercise with editor', exercise);
await report('bytes: progress dashboard', '/progress');
await browser.close();
