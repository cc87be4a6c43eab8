// Honest users while others attack (issue 18), against the release build:
//   - grading: the demo learner submits the 20-test exercise's solution (bench/grading.mjs
//     saved it in place of the demo FizzBuzz) 30 times, one after another, with the grader
//     idle and then while 3 accounts keep it busy with endless loops (each sends a new one as
//     soon as the last is cut off): p50/p95 of the whole request and the ratio;
//   - sign-in: an honest account signs in 30 times, idle and while 50 addresses (each its
//     own X-Forwarded-For: run.sh starts the server trusting 127.0.0.1 as its proxy) try wrong
//     passwords against other accounts as fast as they are answered: p50/p95 and the ratio.
// Usage: node bench/attacks.mjs http://127.0.0.1:3200
import { execFileSync } from 'node:child_process';

const base = process.argv[2] ?? 'http://127.0.0.1:3200';
const PASSWORD = 'a perfectly fine passphrase';

async function call(cookie, name, form, from) {
  const headers = { origin: base, accept: 'application/json', cookie: cookie ?? '', 'content-type': 'application/x-www-form-urlencoded' };
  if (from) headers['x-forwarded-for'] = from;
  const res = await fetch(`${base}/api/${name}`, { method: 'POST', headers, body: new URLSearchParams(form), redirect: 'manual' });
  return { res, text: await res.text() };
}
async function ok(cookie, name, form, from) {
  const r = await call(cookie, name, form, from);
  if (r.res.status >= 400) throw new Error(`${name}: ${r.res.status} ${r.text}`);
  return r;
}
const cookieOf = (res) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
const signIn = async (email, password, from) => cookieOf((await ok('', 'sign_in', { email, password }, from)).res);
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const timed = async (n, f) => { const out = []; for (let i = 0; i < n; i++) { const t = performance.now(); await f(i); out.push(performance.now() - t); } return out; };
const line = (what, idle, busy) => console.log(
  `${what.padEnd(34)} idle p50 ${pct(idle, 0.5).toFixed(0)} ms, p95 ${pct(idle, 0.95).toFixed(0)} ms; ` +
  `under attack p50 ${pct(busy, 0.5).toFixed(0)} ms, p95 ${pct(busy, 0.95).toFixed(0)} ms (×${(pct(busy, 0.95) / pct(idle, 0.95)).toFixed(2)} at p95)`);

// Grading.
const learner = await signIn('learner@pairwise.test', 'pairwise-learner-demo', '10.200.0.1');
const course = JSON.parse((await ok(learner, 'get_course', { slug: 'javascript-foundations' })).text);
const lesson = course.sections.flatMap((s) => s.lessons).find((l) => l.title === 'Exercise: FizzBuzz');
if (!lesson) throw new Error('no FizzBuzz lesson in the demo course');
const toml = execFileSync(process.execPath, [new URL('./exercise-20.mjs', import.meta.url).pathname]).toString();
const code = toml.split("solution = '''")[1].split("'''")[0];
// Times the submission only; then checks its verdict (a flood must not change it).
const honest = async (n) => {
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await ok(learner, 'submit_exercise', { lesson_id: lesson.id, code });
    out.push(performance.now() - t);
    const latest = JSON.parse((await ok(learner, 'get_exercise', { lesson_id: lesson.id })).text).submissions[0];
    if (!latest || latest.passed !== latest.total || latest.total === 0) throw new Error(`wrong verdict ${JSON.stringify(latest)}`);
  }
  return out;
};
await honest(1);
const gradingIdle = await honest(30);
const flooders = [];
for (let i = 0; i < 3; i++) {
  const email = `flood-${Date.now()}-${i}@example.org`;
  await ok('', 'sign_up', { email, display_name: `Flood ${i}`, password: PASSWORD, accept: 'yes' }, `10.201.0.${i + 1}`);
  const cookie = await signIn(email, PASSWORD, `10.201.0.${i + 1}`);
  await ok(cookie, 'enrol_course', { slug: 'javascript-foundations' });
  flooders.push(cookie);
}
let flooding = true;
let loops = 0;
const floods = flooders.map(async (cookie) => {
  while (flooding) {
    // Refused while its last loop is still queued (one per account), cut off at the limit
    // otherwise: either way it comes straight back.
    const r = await call(cookie, 'submit_exercise', { lesson_id: lesson.id, code: 'while (true) {}' });
    if (r.res.status < 400) loops++;
    else await new Promise((done) => setTimeout(done, 20));
  }
});
await new Promise((done) => setTimeout(done, 1000));
const gradingBusy = await honest(30);
flooding = false;
await Promise.all(floods);
line('honest submission (20 tests)', gradingIdle, gradingBusy);
console.log(`${''.padEnd(34)} (${loops} endless loops graded meanwhile)`);

// Sign-in.
const honestSignIn = () => signIn('learner@pairwise.test', 'pairwise-learner-demo', '10.200.0.1');
const signInIdle = await timed(30, honestSignIn);
let guessing = true;
let guesses = 0;
const targets = ['mentor@pairwise.test', 'admin@pairwise.test', 'nobody@example.org'];
const guessers = Array.from({ length: 50 }, async (_, i) => {
  for (let n = 0; guessing; n++) {
    await call('', 'sign_in', { email: targets[(i + n) % targets.length], password: `guess ${i} ${n}` }, `10.202.${i >> 8}.${(i & 255) + 1}`);
    guesses++;
  }
});
await new Promise((done) => setTimeout(done, 1000));
const signInBusy = await timed(30, honestSignIn);
guessing = false;
await Promise.all(guessers);
line('honest sign-in', signInIdle, signInBusy);
console.log(`${''.padEnd(34)} (${guesses} wrong guesses from 50 addresses meanwhile)`);
