// Grading benchmark: a 20-test exercise (bench/exercise-20.mjs) replaces the demo FizzBuzz,
// saved by its author (the demo mentor) through `validate_exercise`; the demo learner then
// submits a correct solution
//   - one at a time, 40 times: server grading time (as stored with each submission) and the
//     whole request (HTTP + grading + the transaction), p50 and p95;
//   - 2 × cores learners (signed up for the run) submitting at once for 20 s, one submission
//     in flight each (the per-learner limit): submissions per second.
// Grading times are read by the exercise's author: learners are not shown them.
// Usage: node bench/grading.mjs http://127.0.0.1:3200 [python]
// With `python`, the same exercise in Python replaces the Python demo course's first exercise.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

const base = process.argv[2] ?? 'http://127.0.0.1:3200';
const python = process.argv[3] === 'python';
const slug = python ? 'python-for-data-work' : 'javascript-foundations';
const title = python ? 'Exercise: Clean a column of names' : 'Exercise: FizzBuzz';
const label = python ? 'Python' : 'JavaScript';

async function call(cookie, name, form) {
  const res = await fetch(`${base}/api/${name}`, {
    method: 'POST',
    headers: { origin: base, accept: 'application/json', cookie: cookie ?? '', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
    redirect: 'manual',
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${name}: ${res.status} ${text}`);
  return { res, text };
}

async function signIn(email, password) {
  const { res } = await call('', 'sign_in', { email, password });
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

const mentor = await signIn('mentor@pairwise.test', 'pairwise-mentor-demo');
const learner = await signIn('learner@pairwise.test', 'pairwise-learner-demo');
const course = JSON.parse((await call(learner, 'get_course', { slug })).text);
const lesson = course.sections.flatMap((s) => s.lessons).find((l) => l.title === title);
if (!lesson) throw new Error(`no lesson "${title}" in the demo course`);
const toml = execFileSync(process.execPath, [new URL('./exercise-20.mjs', import.meta.url).pathname, python ? 'python' : '']).toString();
const saved = JSON.parse((await call(mentor, 'validate_exercise', { lesson_id: lesson.id, toml, save: 'on' })).text);
if (!saved.saved) throw new Error(`the 20-test exercise was not saved: ${JSON.stringify(saved)}`);
try { await call(learner, 'enrol_course', { slug }); } catch { /* already enrolled */ }

const code = toml.split("solution = '''")[1].split("'''")[0];
const submit = () => call(learner, 'submit_exercise', { lesson_id: lesson.id, code });
const latest = async () => {
  const id = JSON.parse((await call(learner, 'get_exercise', { lesson_id: lesson.id })).text).submissions[0].id;
  return JSON.parse((await call(mentor, 'get_submission', { id, against: '' })).text).summary;
};

const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };

await submit(); // warm-up
const grading = [];
const whole = [];
for (let i = 0; i < 40; i++) {
  const t0 = performance.now();
  await submit();
  whole.push(performance.now() - t0);
  const s = await latest();
  if (s.passed !== s.total || s.total !== 20) throw new Error(`unexpected verdict ${JSON.stringify(s)}`);
  grading.push(s.grading_ms);
}
console.log(`grading a 20-test ${label.padEnd(10)} exercise p50 ${pct(grading, 0.5)} ms, p95 ${pct(grading, 0.95)} ms (server grading time, n=40)`);
console.log(`submit request (20 ${label} tests) p50 ${pct(whole, 0.5).toFixed(0)} ms, p95 ${pct(whole, 0.95).toFixed(0)} ms (HTTP + grading + commit)`);

const inFlight = 2 * cpus().length;
const learners = [];
for (let i = 0; i < inFlight; i++) {
  const email = `bench-${Date.now()}-${i}@example.org`;
  await call('', 'sign_up', { email, display_name: `Bench ${i}`, password: 'a perfectly fine passphrase', accept: 'yes' });
  const cookie = await signIn(email, 'a perfectly fine passphrase');
  await call(cookie, 'enrol_course', { slug });
  learners.push(cookie);
}
const until = performance.now() + 20_000;
let done = 0;
await Promise.all(learners.map(async (cookie) => {
  while (performance.now() < until) {
    await call(cookie, 'submit_exercise', { lesson_id: lesson.id, code });
    done++;
  }
}));
console.log(`${label} submissions/s, all cores busy ${(done / 20).toFixed(1)} (${inFlight} learners at once, 20 tests each, 20 s)`);
