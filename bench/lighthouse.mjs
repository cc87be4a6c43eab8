// Lighthouse, mobile (its default: a mid-range phone, simulated slow 4G and 4× CPU slowdown),
// on the pages a learner meets first, with Debian's Chromium. Prints per page: performance,
// accessibility and best-practices scores, LCP, TBT, time to interactive and bytes sent.
// Usage: node bench/lighthouse.mjs http://127.0.0.1:3200
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';

const base = process.argv[2] ?? 'http://127.0.0.1:3200';
const chromePath = process.env.CHROMIUM ?? '/usr/bin/chromium';

// A session cookie for the demo learner (signed in through the API, like a browser would).
async function signIn(email, password) {
  const res = await fetch(`${base}/api/sign_in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: base, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password }),
  });
  const cookie = (res.headers.getSetCookie?.() ?? [res.headers.get('set-cookie')])
    .map((c) => c.split(';')[0])
    .find((c) => c.includes('pw_session='));
  if (!cookie) throw new Error(`could not sign in ${email}: ${res.status}`);
  return cookie;
}

async function lessons(cookie) {
  const headers = { cookie, origin: base, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
  await fetch(`${base}/api/enrol_course`, { method: 'POST', headers, body: 'slug=javascript-foundations' });
  const res = await fetch(`${base}/api/get_course`, { method: 'POST', headers, body: 'slug=javascript-foundations' });
  const course = await res.json();
  const all = course.sections.flatMap((s) => s.lessons);
  return {
    reading: `/lessons/${all.find((l) => l.kind === 'text').id}`,
    exercise: `/lessons/${all.find((l) => l.kind === 'exercise').id}`,
  };
}

const cookie = await signIn('learner@pairwise.test', 'pairwise-learner-demo');
const { reading, exercise } = await lessons(cookie);
const pages = [
  ['home', '/', false],
  ['catalog', '/courses', false],
  ['course', '/courses/javascript-foundations', false],
  ['reading lesson', reading, true],
  ['exercise', exercise, true],
  ['progress', '/progress', true],
];

const chrome = await chromeLauncher.launch({
  chromePath,
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
const fmt = (ms) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
try {
  for (const [name, path, signedIn] of pages) {
    const flags = {
      port: chrome.port,
      output: 'json',
      logLevel: 'error',
      onlyCategories: ['performance', 'accessibility', 'best-practices'],
      ...(signedIn ? { extraHeaders: { Cookie: cookie } } : {}),
    };
    const { lhr } = await lighthouse(`${base}${path}`, flags);
    const score = (c) => Math.round((lhr.categories[c]?.score ?? 0) * 100);
    const audit = (a) => lhr.audits[a]?.numericValue;
    console.log(
      `lighthouse ${name.padEnd(15)} performance ${score('performance')}, accessibility ${score('accessibility')}, ` +
        `best practices ${score('best-practices')}; LCP ${fmt(audit('largest-contentful-paint'))}, ` +
        `TBT ${Math.round(audit('total-blocking-time') ?? 0)} ms, TTI ${fmt(audit('interactive'))}, ` +
        `${((audit('total-byte-weight') ?? 0) / 1024).toFixed(1)} KiB`,
    );
    for (const c of ['accessibility', 'best-practices']) {
      const failed = Object.values(lhr.categories[c]?.auditRefs ?? [])
        .map((r) => lhr.audits[r.id])
        .filter((a) => a && a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative' && a.scoreDisplayMode !== 'manual');
      for (const a of failed) console.log(`  ${c}: ${a.id} — ${a.title}`);
    }
  }
} finally {
  await chrome.kill();
}
