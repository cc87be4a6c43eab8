// Chat fan-out with 1,000 connected room sockets: 50 rooms × 20 connections (the demo mentor
// hosts every room and holds its first connection; 19 learners, signed up for the run through
// run.sh's mailbox, are invited to all and hold one connection each per room — an account may
// hold 64 live sockets, so 1,000 cannot come from two accounts).
// In every room one connection sends messages stamped with the send time; every other
// connection records when it arrived (one process, one clock). Prints p50/p99 fan-out latency
// and the server's resident memory idle, with 1,000 sockets, and after the traffic.
// Usage: node bench/chat-fanout.mjs http://127.0.0.1:3200 SERVER_PID [ms between rounds]
// (100 ms: 500 messages/s in all, what the server sustains at most here; 1000 ms: 50/s.)
import { readFileSync } from 'node:fs';
import WebSocket from '../end2end/node_modules/ws/wrapper.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:3200';
const pid = process.argv[3];
const ROOMS = 50;
const PER_ROOM = 20;
const MESSAGES = 20; // per room
const INTERVAL = Number(process.argv[4] ?? 100);
const rss = () => {
  if (!pid) return NaN;
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
};

async function signIn(email, password) {
  const res = await fetch(`${base}/api/sign_in`, {
    method: 'POST',
    headers: { Origin: base, Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password }),
  });
  if (!res.ok) throw new Error(`sign in ${email}: ${res.status}`);
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}
async function call(cookie, name, form) {
  const res = await fetch(`${base}/api/${name}`, {
    method: 'POST',
    headers: { Origin: base, Accept: 'application/json', Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  if (!res.ok) throw new Error(`${name}: ${res.status} ${await res.text()}`);
  return res.headers.get('content-type')?.includes('json') ? res.json() : null;
}

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
async function signUp(email) {
  const form = { email, display_name: 'Fan-out learner', password: 'a perfectly fine passphrase', accept: 'yes' };
  const res = await fetch(`${base}/api/sign_up`, {
    method: 'POST',
    headers: { Origin: base, Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  if (!res.ok) throw new Error(`sign up ${email}: ${res.status}`);
  const confirmed = await fetch(`${base}/api/verify_email`, {
    method: 'POST',
    headers: { Origin: base, Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: await mailedToken(email) }),
  });
  if (!confirmed.ok) throw new Error(`confirm ${email}: ${confirmed.status}`);
  return confirmed.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

const mentor = await signIn('mentor@pairwise.test', 'pairwise-mentor-demo');
const tag = Date.now();
const learners = [];
for (let i = 1; i < PER_ROOM; i++) {
  const email = `fanout-${tag}-${i}@example.org`;
  learners.push({ email, cookie: await signUp(email) });
}
for (let r = 0; r < ROOMS; r++) await call(mentor, 'create_room', { title: `Fan-out ${tag} ${r}` });
const rooms = (await call(mentor, 'my_rooms', {})).filter((r) => r.title.startsWith(`Fan-out ${tag}`)).map((r) => r.id);
for (const id of rooms) {
  for (const l of learners) await call(mentor, 'invite_to_room', { room: id, email: l.email });
}

const idle = rss();
const wsBase = base.replace('http', 'ws');
const sockets = [];
const latencies = [];
let received = 0;
await Promise.all(
  rooms.flatMap((id, r) =>
    Array.from({ length: PER_ROOM }, (_, c) => new Promise((resolve, reject) => {
      const ws = new WebSocket(`${wsBase}/rooms/${id}/ws?since=0`, {
        headers: { Origin: base, Cookie: c === 0 ? mentor : learners[c - 1].cookie },
      });
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString());
        if (msg.type === 'welcome') resolve();
        if (msg.type === 'chat' && c !== 0) {
          latencies.push(performance.now() - Number(msg.message.body.split(' ')[1]));
          received++;
        }
      });
      ws.on('error', reject);
      sockets.push({ ws, r, c });
    })),
  ),
);
await new Promise((r) => setTimeout(r, 1000));
const connected = rss();
// Senders: connection 0 of each room, one message every INTERVAL ms (a socket may send 30/s).
const senders = sockets.filter((s) => s.c === 0);
for (let m = 0; m < MESSAGES; m++) {
  for (const s of senders) {
    s.ws.send(JSON.stringify({ type: 'chat', key: `bench-${tag}-${s.r}-${m}`, body: `t ${performance.now()}` }));
  }
  await new Promise((r) => setTimeout(r, INTERVAL));
}
const expected = ROOMS * MESSAGES * (PER_ROOM - 1);
const deadline = Date.now() + 30_000;
while (received < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
const after = rss();
for (const s of sockets) s.ws.terminate();
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
console.log(
  `chat fan-out, ${sockets.length} sockets in ${ROOMS} rooms, ${Math.round((ROOMS * 1000) / INTERVAL)} msg/s: ${received}/${expected} deliveries, p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms`,
);
console.log(
  `server RSS: ${idle.toFixed(0)} MiB before, ${connected.toFixed(0)} MiB with ${sockets.length} sockets, ${after.toFixed(0)} MiB after ${ROOMS * MESSAGES} messages`,
);
