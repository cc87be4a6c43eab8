// Dashboard page latency: 64 connections, each signed in as a different learner of a database
// seeded with `pairwise seed-history` (10,000 learners × 500 courses of history), requesting
// the server-rendered `/progress` page (scores computed from the records, today's snapshot,
// the 30-day trend, points and badges, recommendations from the trained model) back to back
// for the given seconds after a warm-up. Prints requests/s and p50/p90/p99 latency.
// Usage: node bench/dashboard.mjs http://127.0.0.1:3200 [seconds] [connections] [learners seeded]
const base = process.argv[2] ?? 'http://127.0.0.1:3200';
const SECONDS = Number(process.argv[3] ?? 15);
const CONNECTIONS = Number(process.argv[4] ?? 64);
const LEARNERS = Number(process.argv[5] ?? 10_000);
const PASSWORD = 'bench passphrase for pairwise';

async function signIn(i) {
  const res = await fetch(`${base}/api/sign_in`, {
    method: 'POST',
    headers: { Origin: base, Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email: `bench-learner-${i}@example.org`, password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`sign in ${i}: ${res.status} ${await res.text()}`);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

async function page(cookie) {
  const t = performance.now();
  const res = await fetch(`${base}/progress`, { headers: { Cookie: cookie } });
  const body = await res.text();
  if (!res.ok || !body.includes('data-testid="course-score"')) throw new Error(`dashboard: ${res.status}`);
  return performance.now() - t;
}

// Learners spread over the id range (the sign-in limit allows a few per second per address,
// so sign in sequentially, a few hundred ms apart if refused).
const cookies = [];
for (let i = 0; i < CONNECTIONS; i++) {
  const learner = (i * 149) % LEARNERS;
  for (let attempt = 0; ; attempt++) {
    try {
      cookies.push(await signIn(learner));
      break;
    } catch (e) {
      if (attempt > 20) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
// Warm-up: one page each (the first view of the day writes the snapshot; the model trains).
await Promise.all(cookies.map(page));

const times = [];
const end = performance.now() + SECONDS * 1000;
await Promise.all(
  cookies.map(async (cookie) => {
    while (performance.now() < end) times.push(await page(cookie));
  }),
);
times.sort((a, b) => a - b);
const q = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
console.log(
  `dashboard /progress, ${CONNECTIONS} connections, ${SECONDS} s: ${(times.length / SECONDS).toFixed(1)} pages/s, ` +
    `p50 ${q(0.5).toFixed(1)} ms, p90 ${q(0.9).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms (${times.length} pages)`,
);
