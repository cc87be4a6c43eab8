import type { Browser, BrowserContext, Page } from '@playwright/test';
import { devices } from '@playwright/test';
import { test, expect, uniqueEmail, PASSWORD, PairwiseApp } from './fixtures/app';

const MENTOR = { email: 'mentor@pairwise.test', password: 'pairwise-mentor-demo', name: 'Maya Mentor' };
const ALL_WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => `${d} 00:00-24:00`).join('\n');

async function mentorContext(browser: Browser): Promise<{ context: BrowserContext; app: PairwiseApp }> {
  const context = await browser.newContext({ ...devices['Desktop Chrome'] });
  const app = new PairwiseApp(await context.newPage(), true);
  await app.signIn(MENTOR.email, MENTOR.password);
  await app.expectSignedIn();
  return { context, app };
}

/** The demo mentor is free all week (so a session can start within a quarter hour). */
async function freeAllWeek(mentor: PairwiseApp) {
  await mentor.goto('/mentoring/profile');
  const form = mentor.page.getByTestId('mentor-settings-form');
  await form.getByTestId('input-windows').fill(ALL_WEEK);
  await form.getByTestId('input-capacity').fill('50');
  await form.getByTestId('save-settings').click();
  await expect(mentor.page.getByTestId('settings-ok')).toBeVisible();
}

/** The learner finds the demo mentor in the ranking (with reasons) and sends a request. */
async function requestMentor(learner: PairwiseApp) {
  await learner.goto('/mentors/find');
  const form = learner.page.getByTestId('find-form');
  await form.getByTestId('input-goals').fill('Write my first web service in Rust');
  await form.getByTestId('input-skills').fill('Rust: intermediate');
  await form.getByTestId('input-languages').fill('en');
  await form.getByTestId('input-windows').fill('mon 18:00-21:00\nsat 09:00-12:00');
  await form.getByTestId('find-submit').click();
  const card = learner.page.getByTestId('mentor-card').filter({ hasText: MENTOR.name });
  await expect(card.getByTestId('match-reasons')).toContainText('1 of 1 skills');
  await learner.hydrated();
  await card.getByTestId('send-request').click();
  await expect(learner.page.getByTestId('request-sent')).toBeVisible();
}

/** The mentor opens the learner's request (it becomes "seen") and accepts it. */
async function accept(mentor: PairwiseApp, learnerName: string) {
  await mentor.goto('/mentoring');
  await mentor.page.getByTestId('received-requests').getByRole('link', { name: learnerName }).click();
  // Loading the page changes nothing; once it runs it tells the server it was seen.
  await expect(mentor.page.getByTestId('request-state')).toHaveAttribute('data-state', 'sent');
  await mentor.hydrated();
  await expect(mentor.page.getByTestId('request-seen')).toHaveAttribute('data-seen', 'true');
  await mentor.page.reload();
  await expect(mentor.page.getByTestId('request-state')).toHaveAttribute('data-state', 'viewed');
  await mentor.hydrated();
  await mentor.page.getByTestId('accept-request').click();
  await expect(mentor.page).toHaveURL(/\/mentorships\//);
}

async function openMentorship(learner: PairwiseApp) {
  await learner.goto('/mentoring');
  await learner.page.getByTestId('mentorship-item').getByRole('link', { name: MENTOR.name }).click();
  await expect(learner.page.getByTestId('book-form')).toBeVisible();
  await learner.hydrated();
}

async function noSideways(page: Page) {
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(wide).toBeLessThanOrEqual(0);
}

test('bookable times are shown in the learner\'s own time zone', async ({ browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'one zone check is enough');
  test.setTimeout(120_000);
  const zone = 'America/New_York';
  const context = await browser.newContext({ ...devices['Desktop Chrome'], timezoneId: zone });
  const learner = new PairwiseApp(await context.newPage(), true);
  const name = `Zoe ${Date.now()}`;
  await learner.signUp(uniqueEmail(testInfo, 'zone'), name, PASSWORD);
  await learner.expectSignedIn();
  await learner.goto('/profile');
  const form = learner.page.getByTestId('profile-form');
  await form.getByTestId('input-timezone').fill(zone);
  // Saving is idempotent, so a click lost to a re-render (seen once under load) is retried
  // until the page confirms; a response that is not OK fails with its words on the page.
  await expect(async () => {
    await form.getByTestId('save-profile').click();
    await expect(learner.page.getByTestId('profile-ok')).toBeVisible({ timeout: 3_000 });
  }).toPass({ timeout: 30_000 });
  const mentor = await mentorContext(browser);
  await requestMentor(learner);
  await accept(mentor.app, name);
  await openMentorship(learner);
  await expect(learner.page.getByTestId('viewer-zone')).toHaveText(zone);
  // The browser is in the same zone as the profile: no warning.
  await expect(learner.page.getByTestId('zone-mismatch')).toHaveCount(0);
  const times = learner.page.locator('[data-testid="book-form"] time');
  expect(await times.count()).toBeGreaterThan(3);
  for (let i = 0; i < 4; i++) {
    const t = times.nth(i);
    const [iso, text] = [await t.getAttribute('datetime'), await t.textContent()];
    // What the browser itself says that instant is, in its own zone.
    const local = await learner.page.evaluate(
      (iso) => new Date(iso!).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
      iso,
    );
    expect(text?.trim()).toBe(local);
  }
  // The learner was told the request was seen and accepted; one is marked read on its own.
  await learner.goto('/notifications');
  const unread = learner.page.getByTestId('mark-one-read');
  const before = await unread.count();
  expect(before).toBeGreaterThanOrEqual(2);
  await unread.first().click();
  await expect(unread).toHaveCount(before - 1);
  await mentor.context.close();
  await context.close();
});

test('on a phone: request, accept, book, join the room, rate', async ({ page, browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'phone', 'the phone flow');
  test.setTimeout(180_000);
  const mentor = await mentorContext(browser);
  await freeAllWeek(mentor.app);
  const learner = new PairwiseApp(page, true);
  const name = `Pat ${Date.now()}`;
  await learner.signUp(uniqueEmail(testInfo, 'phone-mentee'), name, PASSWORD);
  await learner.expectSignedIn();

  await requestMentor(learner);
  await noSideways(page);
  await accept(mentor.app, name);

  // The learner was told (the badge counts it).
  await learner.goto('/mentoring');
  await expect(learner.nav('unread-count')).toBeVisible();
  await openMentorship(learner);
  await noSideways(page);
  await page.getByTestId('slot').first().check();
  await page.getByTestId('book-submit').tap();
  await expect(page).toHaveURL(/\/bookings\//);
  await expect(page.getByTestId('session-time')).toBeVisible();
  await noSideways(page);
  const booking = page.url();

  // The first free time starts within a quarter hour: the room link is there already.
  await learner.hydrated();
  await page.getByTestId('join-room').tap();
  await expect(page.getByTestId('room')).toHaveAttribute('data-conn', 'live');

  // Having been in the room, the learner rates the session.
  await learner.goto(new URL(booking).pathname);
  const rate = page.getByTestId('rate-form');
  await rate.getByTestId('stars-5').check();
  await rate.getByTestId('rate-comment').fill('Patient and precise.');
  await rate.getByTestId('rate-submit').tap();
  await expect(page.getByTestId('my-feedback')).toContainText('5★');
  await noSideways(page);

  // The mentor sees the session and the rating.
  await mentor.app.goto(new URL(booking).pathname);
  await expect(mentor.app.page.getByTestId('their-feedback')).toContainText('Patient and precise.');
  await mentor.context.close();
});

test('without JavaScript: the ranking and the request are plain forms', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'no-javascript', 'the no-JavaScript path');
  const learner = new PairwiseApp(page, false);
  await learner.signUp(uniqueEmail(testInfo, 'nojs-mentee'), `Noa ${Date.now()}`, PASSWORD);
  await learner.expectSignedIn();
  await requestMentor(learner);
  await expect(page.getByTestId('sent-requests').getByTestId('request-item')).toHaveAttribute('data-state', 'sent');
});
