// Join → first remote video frame: the demo mentor waits in a call; the demo learner opens
// the room and presses Join, again and again (a fresh page each time). Measured in the
// learner's page from the click (`__pairwiseJoinAt`) to the remote <video>'s first
// `playing` event (`data-first-frame-at`), both on the page's performance clock. Chromium's
// fake camera, WebRTC over loopback. Prints p50/p95 and worst.
// Usage: node bench/call-setup.mjs http://127.0.0.1:3200 [rounds]
import { launch, mentorRoom } from './browser.mjs';

const base = process.argv[2] ?? 'http://127.0.0.1:3200';
const rounds = Number(process.argv[3] ?? 20);
const browser = await launch([
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
]);
const { mentor, learner, path } = await mentorRoom(browser, base, 'Benchmark');
await mentor.locator('[data-testid=room][data-conn=live]').waitFor();
await mentor.getByTestId('call-join').click();
await mentor.locator('[data-testid=room][data-in-call=true]').waitFor();

const times = [];
for (let i = 0; i < rounds + 1; i++) {
  await learner.goto(`${base}${path}`);
  await learner.locator('[data-testid=room][data-conn=live]').waitFor();
  await learner.getByTestId('call-join').click();
  const video = learner.locator('video[data-testid=remote-video][data-first-frame-at]');
  await video.waitFor({ state: 'attached', timeout: 30_000 });
  const ms = await learner.evaluate(() => {
    const v = document.querySelector('video[data-testid=remote-video][data-first-frame-at]');
    return Number(v.getAttribute('data-first-frame-at')) - window.__pairwiseJoinAt;
  });
  if (i > 0) times.push(ms); // the first round warms caches and the fake devices
  await learner.getByTestId('call-leave').click();
}
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
console.log(
  `join → first remote frame (${times.length} joins): p50 ${at(0.5).toFixed(0)} ms, p95 ${at(0.95).toFixed(0)} ms, worst ${times[times.length - 1].toFixed(0)} ms`,
);
await browser.close();
