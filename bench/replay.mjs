// The replay of the largest room allowed (issue 18): `pairwise seed-room --steps 20500` made a
// room whose shared-code log holds the 20,000 steps a room keeps, with 500 older ones folded
// into the log's base. Its host asks for the replay 20 times, one after another: p50 and max
// of the whole request (server reads the log and the base, JSON out), and the bytes sent.
// A room of large pastes (`seed-room --paste-bytes`) is the heaviest: its log is cut by
// weight (16 MiB of base64), not by steps.
// Usage: node bench/replay.mjs http://127.0.0.1:3201 ROOM [LABEL]
const [base, room, label = 'the largest room'] = process.argv.slice(2);
if (!base || !room) throw new Error('usage: node bench/replay.mjs BASE ROOM [LABEL]');
const post = (cookie, name, form) =>
  fetch(`${base}/api/${name}`, {
    method: 'POST',
    headers: { origin: base, accept: 'application/json', cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
const signedIn = await post('', 'sign_in', { email: 'bench-host@example.org', password: 'bench passphrase for pairwise' });
if (!signedIn.ok) throw new Error(`sign in: ${signedIn.status} ${await signedIn.text()}`);
const cookie = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
const times = [];
let bytes = 0;
let steps = 0;
let hasBase = false;
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  const res = await post(cookie, 'room_replay', { room });
  const text = await res.text();
  times.push(performance.now() - t);
  if (!res.ok) throw new Error(`room_replay: ${res.status} ${text.slice(0, 200)}`);
  bytes = text.length;
  const view = JSON.parse(text);
  steps = view.steps.length;
  hasBase = Boolean(view.base);
}
times.sort((a, b) => a - b);
console.log(
  `replay of ${label} (${steps} steps${hasBase ? ' + folded base' : ''}, ${(bytes / 1024 / 1024).toFixed(1)} MiB JSON): ` +
    `p50 ${times[10].toFixed(0)} ms, max ${times[19].toFixed(0)} ms`,
);
