import { readFile } from 'node:fs/promises';
import { test, expect, uniqueEmail, PASSWORD } from './fixtures/app';

/**
 * Privacy in every project (desktop, phone, and without JavaScript, where both forms are
 * plain posts): the notice reads signed out; a person downloads their data as one zip and
 * deletes their account, which signs them out and leaves their password opening nothing.
 */
test('the privacy notice reads signed out; my data downloads as one archive; my account deletes', async ({ page, app }, testInfo) => {
  test.setTimeout(90_000);
  const res = await page.goto('/privacy');
  expect(res?.status()).toBe(200);
  await expect(page).toHaveTitle(/Privacy/);
  await expect(page.getByTestId('kept')).toBeVisible();
  await expect(page.getByTestId('privacy-sign-in')).toBeVisible();
  await expect(page.getByTestId('footer-privacy')).toBeVisible();

  const email = uniqueEmail(testInfo, 'leaver');
  await app.signUp(email, 'Lee Vering', PASSWORD);
  await page.getByTestId('profile-export').click();
  await expect(page).toHaveURL(/\/privacy#export$/);
  await app.hydrated();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-submit').click()]);
  expect(download.suggestedFilename()).toBe('pairwise-my-data.zip');
  const path = await download.path();
  const bytes = await readFile(path);
  // A zip archive (its local-file signature), holding the account's own record.
  expect(bytes.subarray(0, 2).toString()).toBe('PK');
  expect(bytes.includes(Buffer.from('user.json'))).toBe(true);

  // A wrong password deletes nothing, and says why.
  const form = page.getByTestId('delete-form');
  await form.getByTestId('delete-password').fill('not my password at all');
  await form.getByTestId('delete-confirm').check();
  await form.getByTestId('delete-submit').click();
  await expect(page.getByTestId('delete-error')).toBeVisible();
  await app.expectSignedIn();

  await form.getByTestId('delete-password').fill(PASSWORD);
  await form.getByTestId('delete-confirm').check();
  await form.getByTestId('delete-submit').click();
  await expect(page).toHaveURL(/\/privacy\?deleted=1$/);
  await expect(page.getByTestId('account-deleted')).toBeVisible();
  await expect(app.nav('nav-sign-in')).toBeVisible();

  // The old address and password open nothing.
  await app.signIn(email, PASSWORD);
  await expect(page).toHaveURL(/\/signin/);
  await expect(app.nav('nav-profile')).toHaveCount(0);
});

/**
 * Consent in every project: the terms read signed out (linked from the footer), and the
 * sign-up form refuses an unticked box in words and creates nothing.
 */
test('the terms read signed out and sign-up asks for the box to be ticked', async ({ page, app }, testInfo) => {
  await app.goto('/');
  await page.getByTestId('footer-terms').click();
  await expect(page).toHaveURL(/\/terms$/);
  await expect(page).toHaveTitle(/Terms of use/);
  await expect(page.getByTestId('terms-version')).toContainText('Version');
  await expect(page.getByTestId('terms').locator('h2')).toBeVisible();

  await app.goto('/signup');
  const form = page.getByTestId('sign-up-form');
  const email = uniqueEmail(testInfo, 'unticked');
  await form.getByTestId('input-email').fill(email);
  await form.getByTestId('input-display_name').fill('Un Ticked');
  await form.getByTestId('input-password').fill(PASSWORD);
  await form.getByTestId('submit').click();
  await expect(page.getByTestId('sign-up-error')).toContainText('accept the terms of use');
  await expect(page.getByTestId('sign-up-sent')).toHaveCount(0);
  await expect(page.getByTestId('accept-label').getByRole('link', { name: 'terms of use' })).toHaveAttribute('href', '/terms');
});
