import { test, expect } from './fixtures/app';
import type { Page } from '@playwright/test';

/**
 * A page downloads only the code it uses: reading pages no WebAssembly at all for a visitor,
 * the small chunk (the live notification count) for a signed-in learner, and the exercise
 * page its own chunk with the editor bundle fetched beside it.
 */

function watch(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(new URL(r.url()).pathname));
  return urls;
}

const wasm = (urls: string[]) => [...new Set(urls.filter((u) => u.endsWith('.wasm')))];

test('each page loads only the WebAssembly chunk its islands are in', async ({ page, app }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'what is downloaded is the same on every screen');
  let urls = watch(page);
  for (const path of ['/', '/courses', '/courses/javascript-foundations']) {
    urls.length = 0;
    await app.goto(path);
    await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'none');
    expect(wasm(urls), `${path} for a visitor`).toEqual([]);
  }

  await app.signIn('learner@pairwise.test', 'pairwise-learner-demo');
  await app.hydrated();
  urls = watch(page);
  await app.goto('/courses');
  await expect(page.locator('html')).toHaveAttribute('data-chunk', 'pairwise');
  expect(wasm(urls)).toHaveLength(1);
  expect(wasm(urls)[0]).toMatch(/^\/pkg\/pairwise\.[0-9a-f]{10}\.wasm$/);

  // The forum's drafts and similar questions are a chunk of their own, loaded only where a
  // form to post in is (a reading page signed in keeps the small one).
  urls.length = 0;
  await app.goto('/forum/courses/javascript-foundations');
  await expect(page.locator('html')).toHaveAttribute('data-chunk', 'forum');
  expect(wasm(urls)).toHaveLength(1);
  expect(wasm(urls)[0]).toMatch(/^\/pkg\/forum\.[0-9a-f]{10}\.wasm$/);

  await app.goto('/courses/javascript-foundations');
  const enrol = page.getByTestId('course-enrol');
  if (await enrol.count()) {
    await enrol.click();
    await expect(page.getByTestId('course-resume')).toBeVisible();
  }
  const href = await page.getByRole('link', { name: 'Exercise: FizzBuzz', exact: true }).getAttribute('href');
  urls.length = 0;
  await app.goto(href!);
  await expect(page.locator('html')).toHaveAttribute('data-chunk', 'exercise');
  await expect(page.locator('.cm-editor')).toBeVisible();
  expect(wasm(urls)).toHaveLength(1);
  expect(wasm(urls)[0]).toMatch(/^\/pkg\/exercise\.[0-9a-f]{10}\.wasm$/);
  expect(urls.filter((u) => /^\/editor\/codemirror\.[0-9a-f]{10}\.js$/.test(u))).toHaveLength(1);
  // The editor fetches its own grammar and nothing else: no other language, no shared-editing code.
  const host = page.locator('.code-editor').first();
  expect(await host.evaluate((h) => (h as any).__pairwiseEditor.languageReady)).toBe(true);
  const chunks = [...new Set(urls.filter((u) => u.startsWith('/editor/chunks/')))];
  expect(chunks.filter((u) => /\/javascript-[A-Z0-9]+\.js$/.test(u))).toHaveLength(1);
  expect(chunks.filter((u) => /\/(collab|python|rust|html|css|sql)-/.test(u))).toEqual([]);
  // Everything the editor imports up front was asked for by the page itself (modulepreload),
  // not discovered one import at a time.
  const preloaded = await page.locator('link[rel=modulepreload]').evaluateAll((ls) =>
    ls.map((l) => new URL((l as HTMLLinkElement).href).pathname));
  for (const u of chunks) expect(preloaded, u).toContain(u);
});
