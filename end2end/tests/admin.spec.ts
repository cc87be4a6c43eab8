import { devices } from '@playwright/test';
import { test, expect, uniqueEmail, PASSWORD, PairwiseApp, axeViolations } from './fixtures/app';

const ADMIN = { email: 'admin@pairwise.test', password: 'pairwise-admin-demo' };

/**
 * Admin tools in every project (desktop, phone, and without JavaScript, where every form is a
 * plain post): the demo admin finds a new learner by address, suspends them with a reason —
 * the learner's browser is signed out at once and told the reason when signing in again —
 * reads it in the audit log, and lifts the suspension.
 */
test('an admin finds a person, suspends them and lifts it; the person is told why', async ({ page, app, browser }, testInfo) => {
  test.setTimeout(120_000);
  const email = uniqueEmail(testInfo, 'suspect');
  // The learner, in a browser of their own (the project's settings: no JavaScript there).
  const context = await browser.newContext({ ...devices['Desktop Chrome'], javaScriptEnabled: app.jsEnabled });
  const learner = new PairwiseApp(await context.newPage(), app.jsEnabled);
  await learner.signUp(email, 'Sus Pect', PASSWORD);
  await learner.expectSignedIn();

  await app.signIn(ADMIN.email, ADMIN.password);
  await app.expectSignedIn();
  await app.openMenu();
  await app.nav('nav-admin').click();
  await expect(page).toHaveURL(/\/admin$/);
  await app.hydrated();
  await page.getByTestId('user-q').fill(email);
  await page.getByTestId('user-search-submit').click();
  await expect(page).toHaveURL(/\/admin\?q=/);
  await expect(page.getByTestId('user-row')).toHaveCount(1);
  await page.getByTestId('user-link').click();
  await expect(page.getByTestId('admin-user-name')).toHaveText('Sus Pect');
  await expect(page).toHaveTitle(/Sus Pect/);
  await expect(page.getByTestId('session')).toHaveCount(1);
  await app.hydrated();
  if (app.jsEnabled) expect(await axeViolations(page)).toEqual([]);

  await page.getByTestId('suspend-reason').fill('Posting the same advert in every thread');
  await page.getByTestId('suspend').click();
  await expect(page.getByTestId('suspension')).toContainText('Posting the same advert');
  await expect(page.getByTestId('no-sessions')).toBeVisible();

  // The learner's next page is signed out; signing in says why.
  await learner.goto('/profile');
  await expect(learner.page).toHaveURL(/\/signin/);
  await learner.signIn(email, PASSWORD);
  await expect(learner.page.getByTestId('sign-in-error')).toContainText('Posting the same advert');
  await expect(learner.nav('nav-notifications')).toHaveCount(0);

  // The audit log has it, by kind.
  await page.getByTestId('audit-link').click();
  await expect(page).toHaveURL(/\/admin\/audit$/);
  await page.getByTestId('audit-kind').selectOption('user_suspended');
  await page.getByTestId('audit-submit').click();
  await expect(page).toHaveURL(/kind=user_suspended/);
  await expect(page.getByTestId('audit-entry').first()).toContainText('Sus Pect');
  await app.hydrated();
  if (app.jsEnabled) expect(await axeViolations(page)).toEqual([]);

  // Lifted: the learner signs in again.
  await page.getByTestId('audit-entry').first().getByRole('link', { name: 'Sus Pect' }).click();
  await page.getByTestId('unsuspend').click();
  await expect(page.getByTestId('status-active')).toBeVisible();
  await learner.signIn(email, PASSWORD);
  await learner.expectSignedIn();
  await context.close();
});

/**
 * Becoming a mentor, in every project: a learner applies from the mentoring page, the demo
 * admin approves from the applications page, and the learner is a mentor (the notification
 * says so, and the mentor settings open).
 */
test('a learner applies to mentor and an admin approves', async ({ page, app, browser }, testInfo) => {
  test.setTimeout(120_000);
  const email = uniqueEmail(testInfo, 'applicant');
  const context = await browser.newContext({ ...devices['Desktop Chrome'], javaScriptEnabled: app.jsEnabled });
  const learner = new PairwiseApp(await context.newPage(), app.jsEnabled);
  await learner.signUp(email, 'Ap Plicant', PASSWORD);
  await learner.goto('/mentoring');
  await learner.page.getByTestId('become-mentor').click();
  await expect(learner.page).toHaveURL(/\/mentoring\/apply$/);
  await expect(learner.page).toHaveTitle(/Become a mentor/);
  await learner.hydrated();
  await learner.page.getByTestId('apply-headline').fill('Playwright and testing');
  await learner.page.getByTestId('apply-about').fill('I write browser tests for a living.');
  await learner.page.getByTestId('apply-submit').click();
  await expect(learner.page.getByTestId('my-application')).toHaveAttribute('data-status', 'pending');
  await expect(learner.page.getByTestId('apply-form')).toHaveCount(0);

  await app.signIn(ADMIN.email, ADMIN.password);
  await app.expectSignedIn();
  await app.goto('/admin');
  await page.getByTestId('applications-link').click();
  await expect(page).toHaveURL(/\/admin\/mentor-applications$/);
  const mine = page.getByTestId('application').filter({ hasText: 'Ap Plicant' });
  await expect(mine).toContainText('I write browser tests for a living.');
  await app.hydrated();
  if (app.jsEnabled) expect(await axeViolations(page)).toEqual([]);
  await mine.getByTestId('approve').click();
  await expect(page.getByTestId('application').filter({ hasText: 'Ap Plicant' })).toHaveCount(0);

  await learner.goto('/notifications');
  await expect(learner.page.getByRole('link', { name: /Your application to mentor was approved/ })).toBeVisible();
  await learner.goto('/mentoring/apply');
  await expect(learner.page.getByTestId('apply-mentor')).toBeVisible();
  await context.close();
});
