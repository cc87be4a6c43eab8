import { devices } from '@playwright/test';
import { test, expect, uniqueEmail, PASSWORD, PairwiseApp } from './fixtures/app';

const MENTOR = { email: 'mentor@pairwise.test', password: 'pairwise-mentor-demo' };

/**
 * The forum as people use it, in every project (desktop, phone, and without JavaScript, where
 * each form is a plain post): a new learner asks in the general space, the demo mentor
 * answers, the learner votes and accepts, and anyone can read the solved thread.
 */
test('a question is asked, answered and accepted, and reads for everyone', async ({ page, app, browser }, testInfo) => {
  test.setTimeout(90_000);
  const email = uniqueEmail(testInfo, 'forum');
  await app.signUp(email, 'Quinn Question', PASSWORD);

  await app.goto('/forum');
  await expect(page).toHaveTitle(/Community/);
  await page.getByTestId('space-item').getByRole('link', { name: 'General' }).click();
  await app.hydrated();
  const title = `Why is my loop endless? (${testInfo.project.name} ${Date.now()})`;
  const form = page.getByTestId('thread-form');
  await form.getByTestId('thread-title').fill(title);
  await form.getByTestId('thread-body').fill('```js\nwhile (i < 10) { console.log(i); }\n```\nIt never ends.');
  await form.getByTestId('thread-tags').fill('javascript, loops');
  await form.getByTestId('thread-submit').click();
  await expect(page).toHaveURL(/\/forum\/threads\/[0-9a-f]+/);
  await expect(page.getByTestId('thread-title')).toHaveText(title);
  // The code block is highlighted on the server (no script needed to read it).
  await expect(page.getByTestId('opening-post').locator('pre.code')).toContainText('console.log');
  const threadUrl = new URL(page.url()).pathname;

  // The demo mentor answers from another browser.
  const context = await browser.newContext({ ...devices['Desktop Chrome'] });
  const mentor = new PairwiseApp(await context.newPage(), true);
  await mentor.signIn(MENTOR.email, MENTOR.password);
  await mentor.expectSignedIn();
  await mentor.goto(threadUrl);
  await mentor.page.getByTestId('reply-body').fill('`i` never changes: add `i++` inside the loop.');
  await mentor.page.getByTestId('reply-submit').click();
  await expect(mentor.page.getByTestId('reply')).toContainText('i++');
  await context.close();

  // The asker is told, votes the answer up and accepts it.
  await app.goto(threadUrl);
  const reply = page.getByTestId('reply').first();
  await expect(reply).toContainText('i++');
  await reply.getByTestId('vote-up').click();
  await expect(page.getByTestId('reply').first().getByTestId('score')).toHaveText('1');
  await page.getByTestId('reply').first().getByTestId('accept').click();
  await expect(page.getByTestId('solved-badge')).toBeVisible();
  await expect(page.getByTestId('reply').first().getByTestId('accepted-badge')).toBeVisible();

  // A visitor (no account) reads it, solved, with no way to vote.
  const visitorContext = await browser.newContext({ ...devices['Desktop Chrome'] });
  const visitor = await visitorContext.newPage();
  const res = await visitor.goto(threadUrl);
  expect(res?.status()).toBe(200);
  await expect(visitor.getByTestId('solved-badge')).toBeVisible();
  await expect(visitor.getByTestId('vote-up')).toHaveCount(0);
  await expect(visitor.getByTestId('sign-in-to-post')).toBeVisible();
  await visitorContext.close();

  // The space lists it as solved.
  await app.goto('/forum/spaces/general');
  const item = page.getByTestId('thread-item').filter({ hasText: title });
  await expect(item.getByTestId('solved-badge')).toBeVisible();
});

test('a thread that does not exist is a 404 page with a title', async ({ page }) => {
  const res = await page.goto('/forum/threads/nosuchthread');
  expect(res?.status()).toBe(404);
  expect((await page.title()).length).toBeGreaterThan(0);
});
