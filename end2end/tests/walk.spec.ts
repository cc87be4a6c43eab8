import { test, expect, axeViolations } from './fixtures/app';
import type { Page, Response } from '@playwright/test';

/**
 * Every page the menu reaches, as a visitor and as the demo learner, in each project (desktop,
 * phone, no JavaScript): it answers 200 with a title, its content starts near the top, the
 * console shows no error (a CSP violation is one) and, where scripts run, axe-core finds no
 * WCAG 2.1 A/AA violation.
 */

async function menuLinks(page: Page): Promise<string[]> {
  const hrefs = await page
    .locator('header.site-header a[href^="/"]')
    .evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
  return [...new Set(hrefs.filter((h) => h && !h.startsWith('//')))];
}

async function walk(page: Page, jsEnabled: boolean, who: string, extra: string[] = []) {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`${page.url()}: console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${page.url()}: page error: ${e.message}`));
  await page.goto('/');
  const links = await menuLinks(page);
  expect(links.length, `${who}: the menu has links`).toBeGreaterThan(2);
  for (const href of [...links, ...extra]) {
    const res: Response | null = await page.goto(href);
    expect(res?.status(), `${who}: ${href}`).toBe(200);
    if (jsEnabled) {
      await expect(page.locator('html')).toHaveAttribute('data-hydrated', /^(true|none)$/);
    }
    expect((await page.title()).length, `${who}: ${href} has a title`).toBeGreaterThan(0);
    // The page's own heading is on the first screen, under a compact header.
    const main = await page.locator('main#main').boundingBox();
    expect(main?.y ?? 1000, `${who}: ${href} starts near the top`).toBeLessThan(120);
    if (jsEnabled) {
      for (const v of await axeViolations(page)) problems.push(`${who}: ${href}: ${v}`);
    }
  }
  expect(problems).toEqual([]);
}

test('every page in the menu works for a visitor', async ({ page, app }) => {
  // The privacy notice is linked from every page's footer, not the menu.
  await walk(page, app.jsEnabled, 'visitor', ['/privacy']);
});

test('every page in the menu works for a signed-in learner, and the lessons of each kind', async ({ page, app }) => {
  test.setTimeout(120_000);
  await app.signIn('learner@pairwise.test', 'pairwise-learner-demo');
  await expect(app.nav('nav-sign-in')).toHaveCount(0);
  // A reading, a video, a quiz and an exercise of the demo course, as an enrolled learner.
  await page.goto('/courses/javascript-foundations');
  const enrol = page.getByTestId('course-enrol');
  if (await enrol.count()) {
    await enrol.click();
    await expect(page.getByTestId('course-resume')).toBeVisible();
  }
  const lessons = await page
    .getByTestId('syllabus-lesson')
    .evaluateAll((items) =>
      items.map((li) => ({ kind: li.getAttribute('data-kind'), href: li.querySelector('a')?.getAttribute('href') })),
    );
  const extra = ['text', 'video', 'quiz', 'exercise']
    .map((kind) => lessons.find((l) => l.kind === kind)?.href)
    .filter((h): h is string => !!h);
  expect(extra.length, 'one lesson of each kind').toBe(4);
  await walk(page, app.jsEnabled, 'learner', ['/courses/javascript-foundations', '/privacy', ...extra]);
});
