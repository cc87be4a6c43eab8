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
