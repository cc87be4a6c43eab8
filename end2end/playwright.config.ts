import { defineConfig, devices } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The server under test: the debug binary `make test` just built, on its own port, with a
// fresh embedded database in demo mode (so the demo accounts exist).
const port = Number(process.env.PAIRWISE_E2E_PORT ?? 3107);
const baseURL = `http://127.0.0.1:${port}`;
const bin = process.env.PAIRWISE_BIN ?? `${process.env.HOME}/.cache/pairwise/target/debug/pairwise`;
const dataDir = process.env.PAIRWISE_E2E_DATA ?? mkdtempSync(join(tmpdir(), 'pairwise-e2e-'));
// The tests' mailbox (mail-sink.mjs): the app relays its mail there over SMTP; the tests read
// it over HTTP (fixtures/app.ts, `mailedLink`).
// The server's stderr is also kept here: `server-panics.ts` fails the run if it shows a panic
// (a panic is a 500 for somebody, even when no test step happened to look at that page).
const serverLog = join(dataDir, 'server.log');
process.env.PAIRWISE_E2E_SERVER_LOG = serverLog;
const smtpPort = port + 1;
const mailPort = port + 2;

// Debian's Chromium with the flags a closed network needs (see shared/BUILD-NOTES.md).
const chromium = {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // Live rooms: a fake camera and microphone granted without a prompt, ICE over loopback
    // (the only interface in CI), and playback that does not wait for a tap.
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--allow-loopback-in-peer-connection',
    '--autoplay-policy=no-user-gesture-required',
  ],
};

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  timeout: 60_000,
  // A hung browser or server must not hang CI: the whole run stops (and fails) after this.
  // The suite takes 12-15 min here; CI has taken 25 min on a day the machine ran at half speed.
  globalTimeout: 45 * 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  globalTeardown: './server-panics.ts',
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: chromium,
  },
  projects: [
    { name: 'desktop', use: { ...devices['Desktop Chrome'], launchOptions: chromium } },
    { name: 'no-javascript', use: { ...devices['Desktop Chrome'], javaScriptEnabled: false, launchOptions: chromium } },
    {
      name: 'phone',
      use: {
        viewport: { width: 360, height: 740 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
        userAgent: devices['Pixel 7'].userAgent,
        launchOptions: chromium,
      },
    },
  ],
  webServer: [
  {
    command: `node mail-sink.mjs ${smtpPort} ${mailPort}`,
    url: `http://127.0.0.1:${mailPort}/healthz`,
    reuseExistingServer: false,
    timeout: 20_000,
  },
  {
    command: `bash -c 'exec "$0" serve 2> >(tee -a "$1" >&2)' '${bin}' '${serverLog}'`,
    url: `${baseURL}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      PAIRWISE_ADDR: `127.0.0.1:${port}`,
      PAIRWISE_DATA_DIR: dataDir,
      PAIRWISE_DEMO: 'true',
      PAIRWISE_SITE_ROOT: process.env.PAIRWISE_SITE_ROOT ?? '../target/site',
      PAIRWISE_WRITE_RATE: '2000',
      PAIRWISE_WRITE_BURST: '500',
      PAIRWISE_READ_RATE: '20000',
      PAIRWISE_READ_BURST: '5000',
      PAIRWISE_LOG: 'warn',
      // Mentoring: a slot may start a second after it is booked, so the phone flow can join
      // the session's room at once; the jobs run every second.
      PAIRWISE_BOOKING_NOTICE: '1s',
      PAIRWISE_JOBS_INTERVAL: '1s',
      PAIRWISE_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      PAIRWISE_MAIL_POLL: '1s',
    },
  },
  ],
});
