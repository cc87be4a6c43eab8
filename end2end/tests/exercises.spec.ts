import type { Page } from '@playwright/test';
import { test, expect, uniqueEmail, PASSWORD, PairwiseApp, enrolAndOpen, demoExercises, setCode } from './fixtures/app';

const FIZZBUZZ = `function fizzbuzz(n) {
  const out = [];
  for (let i = 1; i <= n; i++) {
    out.push(i % 15 === 0 ? 'FizzBuzz' : i % 3 === 0 ? 'Fizz' : i % 5 === 0 ? 'Buzz' : i);
  }
  return out;
}`;

async function run(page: Page) {
  await page.getByTestId('run').click();
  await expect(page.getByTestId('run-summary')).toBeVisible({ timeout: 20_000 });
  const summary = page.getByTestId('run-summary');
  return {
    passed: Number(await summary.getAttribute('data-passed')),
    total: Number(await summary.getAttribute('data-total')),
  };
}

test('a learner solves an exercise: draft kept, Run advises, Submit is graded by the server', async ({ app, page }, testInfo) => {
  test.setTimeout(120_000);
  await app.signUp(uniqueEmail(testInfo, 'solver'), 'Sol Ver', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  await enrolAndOpen(app, page, 'Exercise: FizzBuzz');
  await expect(page.getByTestId('visible-tests')).toContainText('fizzbuzz(');
  await expect(page.getByTestId('no-attempts')).toBeVisible();

  if (app.jsEnabled) {
    // CodeMirror replaced the server-rendered text area, which stays the form's field.
    await expect(page.getByTestId('exercise').locator('.cm-editor')).toBeVisible();
    await expect(page.locator('textarea[name="code"]')).toBeHidden();
    const starter = await run(page);
    expect(starter.passed).toBe(0);
    await expect(page.getByTestId('run-results').getByTestId('test-result').first()).toHaveAttribute('data-passed', 'false');

    // A draft survives a reload on this device.
    await setCode(app, page, 'function fizzbuzz(n) { return "draft"; }');
    await page.reload();
    await app.hydrated();
    await expect(page.getByTestId('draft-restored')).toBeVisible();
    await expect(page.getByTestId('exercise').locator('.cm-content')).toContainText('return "draft"');
  }

  await setCode(app, page, FIZZBUZZ);
  if (app.jsEnabled) {
    // Run needs no network once the page is loaded.
    await page.context().setOffline(true);
    const solved = await run(page);
    await page.context().setOffline(false);
    expect(solved.passed).toBe(solved.total);
    expect(solved.total).toBeGreaterThan(0);
  }
  await page.getByTestId('submit').click();
  await expect(page).toHaveURL(/\/submissions\/[a-z0-9]+$/);
  await app.hydrated();
  const sub = page.getByTestId('submission');
  await expect(sub).toBeVisible();
  expect(await sub.getAttribute('data-passed')).toBe(await sub.getAttribute('data-total'));
  // Hidden tests were graded too, shown only as passed.
  await expect(page.locator('[data-testid="test-result"][data-hidden="true"]').first()).toHaveAttribute('data-passed', 'true');
  await expect(page.getByTestId('code-lines')).toContainText("FizzBuzz");

  if (testInfo.project.name === 'phone') {
    // Results, code and comments fit a 360 px screen: nothing scrolls sideways.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  }

  await page.getByTestId('back-to-exercise').click();
  await expect(page.getByTestId('attempts').getByTestId('attempt')).toHaveCount(1);
  await expect(page.getByTestId('lesson-done')).toBeVisible();
  if (testInfo.project.name === 'phone') {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  }
});

test('a Run that never ends times out while the page stays responsive', async ({ app, page }, testInfo) => {
  test.skip(!app.jsEnabled, 'Run needs JavaScript');
  test.setTimeout(90_000);
  await app.signUp(uniqueEmail(testInfo, 'looper'), 'Lou Per', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  await enrolAndOpen(app, page, 'Exercise: FizzBuzz');
  await setCode(app, page, 'function fizzbuzz(n) { while (true) {} }');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('run')).toHaveAttribute('aria-busy', 'true');
  // While the learner's loop spins in its worker, this page still answers at once.
  const answered = await page.evaluate(() => new Promise<number>((resolve) => {
    const t0 = performance.now();
    setTimeout(() => resolve(performance.now() - t0), 0);
  }));
  expect(answered).toBeLessThan(500);
  await page.getByTestId('exercise').locator('.cm-content').click();
  await page.keyboard.insertText('// still typing\n');
  await expect(page.getByTestId('run-summary')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('run-results')).toContainText('Timed out');
  await expect(page.getByTestId('exercise').locator('.cm-content')).toContainText('still typing');
});

test('the editor works from the keyboard: Tab indents, Escape then Tab moves on', async ({ app, page }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'a keyboard check');
  await app.signUp(uniqueEmail(testInfo, 'keys'), 'Kay Board', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  await enrolAndOpen(app, page, 'Exercise: FizzBuzz');
  await setCode(app, page, 'x');
  // Edits within half a second join one undo step; keep the indent a step of its own.
  await page.waitForTimeout(600);
  await page.keyboard.press('Home');
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('exercise').locator('.cm-content')).toHaveText('  x');
  await expect(page.getByTestId('exercise').locator('.cm-content')).toBeFocused();
  // Undo takes the indentation back.
  await page.keyboard.press('ControlOrMeta+z');
  await expect(page.getByTestId('exercise').locator('.cm-content')).toHaveText('x');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('run')).toBeFocused();
  // The form posts what the editor shows.
  await expect(page.locator('textarea[name="code"]')).toHaveValue('x');
});

test("learner code in Run cannot call Pairwise with the viewer's session", async ({ app, page }, testInfo) => {
  test.skip(!app.jsEnabled, 'Run needs JavaScript');
  await app.signUp(uniqueEmail(testInfo, 'sneaky'), 'Sne Aky', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  await enrolAndOpen(app, page, 'Exercise: FizzBuzz');
  // The page itself is signed in: the same request from it carries the session.
  const own = await page.evaluate(async () => {
    const r = await fetch('/api/current_user', { method: 'POST', headers: { accept: 'application/json' } });
    return r.text();
  });
  expect(own).toContain('Sne Aky');
  await setCode(app, page, `function fizzbuzz(n) {
  return fetch('/api/current_user', { method: 'POST', credentials: 'include', headers: { accept: 'application/json' } })
    .then((r) => r.text()).then((t) => 'LEAK ' + t, (e) => 'blocked in ' + self.origin + ': ' + e.message);
}`);
  await run(page);
  const actual = page.getByTestId('run-results').getByTestId('actual').first();
  await expect(actual).toContainText('blocked in null');
  await expect(page.getByTestId('run-results')).not.toContainText('LEAK');
});

test('every demo solution passes in the browser Run and every starter fails', async ({ app, page }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'one browser engine check is enough');
  test.setTimeout(240_000);
  await app.signUp(uniqueEmail(testInfo, 'agree'), 'Ag Ree', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  const exercises = demoExercises('javascript-foundations');
  expect(exercises.length).toBeGreaterThanOrEqual(12);
  for (const ex of exercises) {
    await enrolAndOpen(app, page, ex.title);
    await setCode(app, page, ex.solution);
    const good = await run(page);
    expect(good.passed, `${ex.title}: solution`).toBe(good.total);
    await setCode(app, page, ex.starter);
    const bad = await run(page);
    expect(bad.passed, `${ex.title}: starter`).toBeLessThanOrEqual(Math.max(0, bad.total - 1));
    expect(bad.passed, `${ex.title}: starter`).toBeLessThan(bad.total);
  }
});

test('a mentor comments on a line and the learner sees it beside the code', async ({ app, page, browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'covered once; the API tests cover the rules');
  test.setTimeout(120_000);
  await app.signUp(uniqueEmail(testInfo, 'reviewed'), 'Rev Iewed', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  await enrolAndOpen(app, page, 'Exercise: FizzBuzz');
  await setCode(app, page, 'function fizzbuzz(n) {\n  return [];\n}');
  await page.getByTestId('submit').click();
  await expect(page).toHaveURL(/\/submissions\/[a-z0-9]+$/);
  const url = page.url();

  const mentorContext = await browser.newContext();
  const mentor = await mentorContext.newPage();
  const mentorApp = new PairwiseApp(mentor, true);
  await mentorApp.goto('/signin');
  await mentor.getByTestId('sign-in-form').getByTestId('input-email').fill('mentor@pairwise.test');
  await mentor.getByTestId('sign-in-form').getByTestId('input-password').fill('pairwise-mentor-demo');
  await mentor.getByTestId('sign-in-form').getByTestId('submit').click();
  await expect(mentor).not.toHaveURL(/\/signin/);
  await mentorApp.goto(url);
  await mentor.getByTestId('comment-line').fill('2');
  await mentor.getByTestId('comment-body').fill('An empty list is never right: start with `[1]` for n = 1.');
  await mentor.getByTestId('comment-submit').click();
  await expect(mentor.locator('#line-2').getByTestId('comment')).toBeVisible();
  await mentorContext.close();

  await page.reload();
  await app.hydrated();
  await expect(page.locator('#line-2').getByTestId('comment')).toContainText('start with');
  await app.goto('/notifications');
  await expect(page.getByTestId('notification').first()).toContainText('line 2');
});
