// Shared by the browser benchmarks: Chromium as the end-to-end tests launch it, the demo
// accounts signed in, and a room the demo mentor opens with the demo learner invited.
import { chromium } from '../end2end/node_modules/playwright-core/index.mjs';

export async function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', ...extraArgs],
  });
}

/** A page of its own context, signed in as `email`. */
export async function signedIn(browser, base, email, password) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/signin`);
  await page.locator('html[data-hydrated]').waitFor();
  const form = page.getByTestId('sign-in-form');
  await form.getByTestId('input-email').fill(email);
  await form.getByTestId('input-password').fill(password);
  await form.getByTestId('submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/signin'));
  return page;
}

/** The demo mentor and learner, and a new room of the mentor's with the learner invited. */
export async function mentorRoom(browser, base, title) {
  const mentor = await signedIn(browser, base, 'mentor@pairwise.test', 'pairwise-mentor-demo');
  const learner = await signedIn(browser, base, 'learner@pairwise.test', 'pairwise-learner-demo');
  await mentor.goto(`${base}/rooms`);
  await mentor.locator('html[data-hydrated]').waitFor();
  await mentor.getByTestId('room-title').fill(`${title} ${Date.now()}`);
  await mentor.getByTestId('create-room').click();
  await mentor.getByTestId('room').waitFor();
  await mentor.locator('html[data-hydrated]').waitFor();
  await mentor.getByTestId('invite-email').fill('learner@pairwise.test');
  await mentor.getByTestId('invite-submit').click();
  await mentor.getByTestId('invited').waitFor();
  return { mentor, learner, path: new URL(mentor.url()).pathname };
}
