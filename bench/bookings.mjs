// Bookings per second under contention: 3 popular mentors, 45 learners who are each mentee of
// all three, everyone trying at once to book one of the mentors' first 400 free times (about four days) (as the
// booking page lists them when the run starts), for 15 s. Every attempt is a real
// `book_session` server call: the quarter-hour holds make all but one of each colliding
// group fail (409 "taken", or 422 once the time is no longer offered).
// Prints committed bookings/s, attempts/s, refusals, p50/p99 attempt latency, and checks that
// no two committed bookings of one mentor overlap.
// Usage: node bench/bookings.mjs http://127.0.0.1:3200 (a demo-mode server: it signs in as
// the demo admin to grant the mentor role).
const base = process.argv[2] ?? 'http://127.0.0.1:3200';
const MENTORS = 3;
const LEARNERS = 45;
const SECONDS = Number(process.argv[3] ?? 15);
const FIRST = 400;
const ALL_WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => `${d} 00:00-24:00`).join('\n');
const run = Date.now().toString(36);

async function post(cookie, name, form) {
  const res = await fetch(`${base}/api/${name}`, {
    method: 'POST',
    headers: { Origin: base, Accept: 'application/json', Cookie: cookie ?? '', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return res;
}
async function call(cookie, name, form) {
  const res = await post(cookie, name, form);
  if (!res.ok) throw new Error(`${name}: ${res.status} ${await res.text()}`);
  return res.headers.get('content-type')?.includes('json') ? res.json() : null;
}
const cookieOf = (res) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
// The mailbox run.sh starts beside the server (end2end/mail-sink.mjs): sign-up mails the
// link that confirms the address (and signs in); booking needs a confirmed address.
const MAILBOX = process.env.PAIRWISE_MAILBOX ?? 'http://127.0.0.1:3206';
async function mailedToken(email) {
  for (let i = 0; i < 100; i++) {
    const mail = await (await fetch(`${MAILBOX}/mail?to=${encodeURIComponent(email)}`)).json();
    const token = mail.map((m) => /verify-email\?token=([0-9a-f]+)/.exec(m.body)?.[1]).find(Boolean);
    if (token) return token;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no confirmation mail for ${email}`);
}
async function signUp(email, name) {
  const res = await post(null, 'sign_up', { email, display_name: name, password: 'a perfectly fine passphrase', accept: 'yes' });
  if (!res.ok) throw new Error(`sign up ${email}: ${res.status} ${await res.text()}`);
  const confirmed = await post(null, 'verify_email', { token: await mailedToken(email) });
  if (!confirmed.ok) throw new Error(`confirm ${email}: ${confirmed.status} ${await confirmed.text()}`);
  const cookie = cookieOf(confirmed);
  const me = await call(cookie, 'current_user', {});
  return { cookie, id: me.id };
}

const admin = cookieOf(await post(null, 'sign_in', { email: 'admin@pairwise.test', password: 'pairwise-admin-demo' }));
const t0 = Date.now();
const mentors = [];
for (let i = 0; i < MENTORS; i++) {
  const m = await signUp(`bench-mentor-${run}-${i}@example.org`, `Bench Mentor ${i}`);
  await call(admin, 'set_user_role', { user_id: m.id, role: 'mentor', granted: 'true' });
  await call(m.cookie, 'update_profile', { display_name: `Bench Mentor ${i}`, bio: '', skills: 'Rust: expert', languages: 'en', timezone: 'Europe/Berlin' });
  await call(m.cookie, 'save_mentor_settings', { headline: '', capacity: '50', session_minutes: '30', windows: ALL_WEEK });
  mentors.push(m);
}
const learners = [];
for (let i = 0; i < LEARNERS; i++) {
  const l = await signUp(`bench-learner-${run}-${i}@example.org`, `Bench Learner ${i}`);
  l.slots = {};
  for (const m of mentors) {
    await call(l.cookie, 'send_request', { mentor: m.id, goals: 'Rust', skills: 'Rust: beginner', languages: 'en', windows: 'mon 10:00-12:00', timezone: 'UTC' });
  }
  learners.push(l);
}
for (const m of mentors) {
  const home = await call(m.cookie, 'mentoring_home', {});
  for (const r of home.received.filter((r) => r.state === 'sent' || r.state === 'viewed')) {
    await call(m.cookie, 'answer_request', { id: r.id, accept: 'true' });
  }
}
for (const l of learners) {
  const home = await call(l.cookie, 'mentoring_home', {});
  l.mentorships = home.mentorships.map((m) => m.id);
  for (const id of l.mentorships) {
    const page = await call(l.cookie, 'get_mentorship', { id });
    l.slots[id] = page.slots.slice(0, FIRST).map((s) => s.start);
  }
}
console.log(`set-up: ${MENTORS} mentors, ${LEARNERS} learners, ${LEARNERS * MENTORS} mentorships in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

const lat = [];
let booked = 0, refused = 0, failed = 0;
const end = Date.now() + SECONDS * 1000;
const start = Date.now();
await Promise.all(learners.map(async (l) => {
  while (Date.now() < end) {
    const ms = l.mentorships[Math.floor(Math.random() * l.mentorships.length)];
    const slots = l.slots[ms];
    if (!slots.length) continue;
    const slot = slots[Math.floor(Math.random() * slots.length)];
    const t = performance.now();
    const res = await post(l.cookie, 'book_session', { mentorship: ms, start: slot });
    lat.push(performance.now() - t);
    await res.arrayBuffer();
    if (res.ok) booked++;
    else if (res.status === 409 || res.status === 422) refused++;
    else failed++;
  }
}));
const secs = (Date.now() - start) / 1000;
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(1);
// No mentor has two overlapping sessions.
let overlaps = 0;
for (const m of mentors) {
  const home = await call(m.cookie, 'mentoring_home', {});
  const s = home.upcoming.map((b) => [Date.parse(b.start), Date.parse(b.end)]).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < s.length; i++) if (s[i][0] < s[i - 1][1]) overlaps++;
}
console.log(`bookings under contention (${LEARNERS} learners, ${MENTORS} mentors, first ${FIRST} times each, ${secs.toFixed(1)} s):`);
console.log(`  ${(booked / secs).toFixed(1)} bookings/s committed, ${(lat.length / secs).toFixed(1)} attempts/s, ${booked} booked, ${refused} refused (taken), ${failed} other errors`);
console.log(`  attempt latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms; overlapping sessions found: ${overlaps}`);
if (failed > 0 || overlaps > 0) process.exit(1);
