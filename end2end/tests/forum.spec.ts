import { type Browser, devices } from '@playwright/test';
import { test, expect, uniqueEmail, PASSWORD, PairwiseApp, enrolAndOpen } from './fixtures/app';

const MENTOR = { email: 'mentor@pairwise.test', password: 'pairwise-mentor-demo' };

/** The demo mentor answers the thread at `threadUrl` from a browser of their own. */
async function mentorAnswers(browser: Browser, app: PairwiseApp, threadUrl: string, words: string, shown: string) {
  const context = await browser.newContext({ ...devices['Desktop Chrome'] });
  // A context made here takes the project's settings (no JavaScript in that project).
  const mentor = new PairwiseApp(await context.newPage(), app.jsEnabled);
  await mentor.signIn(MENTOR.email, MENTOR.password);
  await mentor.expectSignedIn();
  await mentor.goto(threadUrl);
  await mentor.page.getByTestId('reply-body').fill(words);
  await mentor.page.getByTestId('reply-submit').click();
  await expect(mentor.page.getByTestId('reply')).toContainText(shown);
  await context.close();
}

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
  await mentorAnswers(browser, app, threadUrl, '`i` never changes: add `i++` inside the loop.', 'i++');

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

test('a learner stuck on an exercise asks for help with the code and failures filled in', async ({ page, app, browser }, testInfo) => {
  test.setTimeout(90_000);
  await app.signUp(uniqueEmail(testInfo, 'stuck'), 'Stu Ck', PASSWORD);
  await enrolAndOpen(app, page, 'Exercise: FizzBuzz');
  // The starter code fails its tests.
  await page.getByTestId('submit').click();
  await expect(page).toHaveURL(/\/submissions\/[a-z0-9]+$/);
  await app.hydrated();
  await page.getByTestId('ask-for-help').click();
  await expect(page).toHaveURL(/\/forum\/ask\?submission=/);
  const form = page.getByTestId('ask-form');
  await expect(form.getByTestId('thread-title')).toHaveValue('Stuck on “Exercise: FizzBuzz”');
  const body = await form.getByTestId('thread-body').inputValue();
  expect(body).toContain('```js');
  expect(body).toContain('fizzbuzz(');
  expect(body).toContain('expected');
  await form.getByTestId('thread-body').fill(body.replace('What I tried: ', 'What I tried: reading the lesson again.'));
  await form.getByTestId('thread-submit').click();
  await expect(page).toHaveURL(/\/forum\/threads\/[0-9a-f]+/);
  await expect(page.getByTestId('opening-post').locator('pre.code')).toBeVisible();
  await expect(page.getByTestId('space-link')).toHaveText('JavaScript foundations');
  const threadUrl = new URL(page.url()).pathname;

  // The demo mentor answers with code; the learner opens it in the exercise, as a draft.
  await mentorAnswers(
    browser,
    app,
    threadUrl,
    'Return the words, not the number:\n\n```js\nfunction fizzbuzz(n) { /* from-the-answer */ return Array.from({ length: n }, (_, k) => k + 1).map((i) => i % 15 === 0 ? "FizzBuzz" : i % 3 === 0 ? "Fizz" : i % 5 === 0 ? "Buzz" : i); }\n```',
    'from-the-answer',
  );

  await app.goto(threadUrl);
  await page.getByTestId('reply').first().getByTestId('open-code').click();
  await expect(page).toHaveURL(/\/lessons\/[a-z0-9]+\?answer=/);
  await expect(page.getByTestId('answer-code')).toBeVisible();
  await expect(page.locator('textarea[name="code"]')).toHaveValue(/from-the-answer/);
  await app.hydrated();
  if (app.jsEnabled) {
    await expect(page.getByTestId('exercise').locator('.cm-content')).toContainText('from-the-answer');
    // It stays the draft on this device when the exercise is opened again.
    await app.goto(new URL(page.url()).pathname);
    await app.hydrated();
    await expect(page.getByTestId('draft-restored')).toBeVisible();
    await expect(page.getByTestId('exercise').locator('.cm-content')).toContainText('from-the-answer');
  }
  // Submitted as it is, it passes.
  await page.getByTestId('submit').click();
  await expect(page).toHaveURL(/\/submissions\/[a-z0-9]+$/);
  const verdict = page.getByTestId('submission');
  await expect(verdict).toHaveAttribute('data-passed', (await verdict.getAttribute('data-total')) ?? 'all');

  // The question links back to the exercise.
  await app.goto(threadUrl);
  await page.getByTestId('opening-post').getByRole('link', { name: 'Exercise: FizzBuzz' }).click();
  await expect(page.getByTestId('lesson-title')).toHaveText('Exercise: FizzBuzz');
});

test('what is typed is kept on this device until it is posted, and similar questions show while typing', async ({ page, app }, testInfo) => {
  test.skip(!app.jsEnabled, 'drafts and the similar list need the page script; without it the forms simply post');
  test.setTimeout(90_000);
  await app.signUp(uniqueEmail(testInfo, 'drafter'), 'Dee Rafter', PASSWORD);
  await app.goto('/forum/courses/javascript-foundations');
  await app.hydrated();
  const form = page.getByTestId('thread-form');
  await form.getByTestId('thread-title').fill('sort puts 10 before 2');
  await form.getByTestId('thread-body').fill('My numbers come out in a strange order.');
  // The demo question about the same thing is offered before asking.
  await expect(page.getByTestId('similar-item').first()).toContainText('Why does [1, 2, 10].sort() put 10 before 2?');

  // A reload (or a closed tab) keeps what was written; it can be thrown away.
  await page.reload();
  await app.hydrated();
  await expect(page.getByTestId('draft-restored')).toBeVisible();
  await expect(form.getByTestId('thread-title')).toHaveValue('sort puts 10 before 2');
  await expect(form.getByTestId('thread-body')).toHaveValue('My numbers come out in a strange order.');
  await page.getByTestId('draft-discard').click();
  await expect(form.getByTestId('thread-title')).toHaveValue('');
  await page.reload();
  await app.hydrated();
  await expect(page.getByTestId('draft-restored')).toHaveCount(0);
  await expect(form.getByTestId('thread-title')).toHaveValue('');

  // An answer being written survives a reload, and is gone once posted.
  const thread = page.getByTestId('thread-item').filter({ hasText: 'Why does [1, 2, 10].sort()' });
  await thread.getByRole('link').first().click();
  await app.hydrated();
  const words = `Pass a compare function (${testInfo.project.name} ${Date.now()}).`;
  await page.getByTestId('reply-body').fill(words);
  await page.reload();
  await app.hydrated();
  await expect(page.getByTestId('reply-body')).toHaveValue(words);
  await page.getByTestId('reply-submit').click();
  await expect(page.getByTestId('reply').filter({ hasText: words })).toBeVisible();
  await app.hydrated();
  await expect(page.getByTestId('reply-body')).toHaveValue('');
  await page.reload();
  await app.hydrated();
  await expect(page.getByTestId('reply-body')).toHaveValue('');
  await expect(page.getByTestId('draft-restored')).toHaveCount(0);
});

test('search finds a thread from the box on the forum page, without JavaScript too', async ({ page, app }) => {
  await app.goto('/forum');
  await page.getByTestId('forum-q').fill('sort 10 before 2');
  await page.getByTestId('forum-search-submit').click();
  await expect(page).toHaveURL(/\/forum\/search\?q=/);
  const hit = page.getByTestId('search-hit').first();
  await expect(hit).toContainText('Why does [1, 2, 10].sort() put 10 before 2?');
  await expect(hit.locator('mark').first()).toBeVisible();
});
