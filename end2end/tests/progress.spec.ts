import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { test, expect, uniqueEmail, PASSWORD, PairwiseApp } from './fixtures/app';

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2.1 A/AA rules over the page; injected through the DevTools protocol, so
 * the app's CSP (which forbids inline scripts, rightly) stays on. */
async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    // @ts-expect-error axe is injected above
    const result = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
    return result.violations.map(
      (v: { id: string; nodes: { target: string[] }[] }) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
  });
}

async function enrol(app: PairwiseApp, slug: string) {
  await app.goto(`/courses/${slug}`);
  await app.page.getByTestId('course-enrol').click();
  await expect(app.page.getByTestId('course-resume')).toBeVisible();
}

test('a learner sees their score, what it is made of, a chart with a text alternative, and suggestions', async ({ app, page }, testInfo) => {
  test.setTimeout(90_000);
  await app.signUp(uniqueEmail(testInfo, 'progress'), 'Pro Gress', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  await enrol(app, 'javascript-foundations');
  await app.goto('/progress');
  const dash = page.getByTestId('learner-dashboard');
  await expect(dash.getByTestId('dashboard-title')).toHaveText('Your progress');
  const card = dash.getByTestId('course-score').filter({ hasText: 'JavaScript' });
  await expect(card.getByTestId('score-value')).toHaveText('0 %');
  await expect(card).toContainText('Tests passed');
  // Nothing watched and no feedback yet: those terms say why they do not count.
  await expect(card).toContainText('not counted');
  // The points chart is an image with a title and a description, and its numbers are a table.
  const chart = dash.getByTestId('points-by-week');
  await expect(chart.locator('svg[role="img"] > title')).toHaveText('Points per week');
  await expect(chart.locator('svg > desc')).toContainText('10 per lesson');
  await expect(chart.locator('table tbody tr')).toHaveCount(12);
  await expect(dash.getByTestId('badges').locator('li')).toHaveCount(7);
  // Other demo courses are suggested, each with a reason.
  await expect(dash.getByTestId('recommended-courses').locator('li').first()).toContainText(/learners|Teaches|Popular/);

  // The range picker: a GET form without JavaScript, an in-place update with it.
  await page.getByTestId('range-days').selectOption('90');
  await page.getByRole('button', { name: 'Show', exact: true }).click();
  await expect(page).toHaveURL(/days=90/);
  await expect(page.getByTestId('range-days')).toHaveValue('90');

  if (app.jsEnabled) {
    expect(await axeViolations(page)).toEqual([]);
  }
});

test('the leaderboard opt-out hides the learner', async ({ app, page }, testInfo) => {
  await app.signUp(uniqueEmail(testInfo, 'board'), 'Bo Ard', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  await app.goto('/progress');
  await page.getByTestId('opt-out').click();
  await expect(page.getByTestId('opted-out')).toBeVisible();
  await app.goto('/leaderboard');
  await expect(page.getByTestId('leaderboard')).toContainText('You are off the leaderboards');
});

test('an admin sees platform analytics as charts and tunes a course weights', async ({ app, page }) => {
  await app.signIn('admin@pairwise.test', 'pairwise-admin-demo');
  await expect(app.nav('nav-sign-out')).toBeVisible();
  await app.goto('/admin/analytics');
  const a = page.getByTestId('analytics');
  for (const id of ['active-users', 'enrolments', 'gradings', 'sessions']) {
    await expect(a.getByTestId(id).locator('svg[role="img"] > title')).not.toBeEmpty();
  }
  await expect(a.getByTestId('funnel').locator('svg[role="img"]')).toBeVisible();
  if (app.jsEnabled) {
    const row = a.getByTestId('weights-row').first();
    await app.hydrated();
    await row.getByTestId('weight-watched').fill('2');
    await row.getByTestId('save-weights').click();
    await expect(page.getByTestId('weights-error')).toContainText('between 0 and 1');
    expect(await axeViolations(page)).toEqual([]);
  }
});

test('the dashboard fits a 360 px screen', async ({ app, page }, testInfo) => {
  test.skip(testInfo.project.name !== 'phone', 'phone layout');
  await app.signUp(uniqueEmail(testInfo, 'phone-progress'), 'Pho Ne', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  await enrol(app, 'git-for-teams');
  await app.goto('/progress');
  await expect(page.getByTestId('course-score').first()).toBeVisible();
  await expect(page.getByTestId('points-by-week').locator('svg')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test("another learner's dashboard is refused in words", async ({ app, page }, testInfo) => {
  await app.signUp(uniqueEmail(testInfo, 'owner'), 'Own Er', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  const res = await page.request.post('/api/current_user', { headers: { Accept: 'application/json', Origin: new URL(page.url()).origin } });
  const owner = (await res.json()).id as string;
  await app.signOut();
  await app.signUp(uniqueEmail(testInfo, 'peeker'), 'Pee Ker', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);
  const view = await page.goto(`/progress/learners/${owner}`);
  expect(view?.status()).toBe(403);
  await expect(page.getByTestId('page-error')).toContainText('permission');
});
