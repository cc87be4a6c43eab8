import { test, expect, uniqueEmail, PASSWORD } from './fixtures/app';

test('the catalog searches, filters and sorts from the URL', async ({ app, page }) => {
  await app.goto('/courses');
  await expect(page.locator('[data-slug="javascript-foundations"]')).toBeVisible();
  await expect(page.locator('[data-slug="git-for-teams"]')).toBeVisible();
  // "functions" is in the JavaScript course's summary, so the match is highlighted there.
  await page.getByTestId('catalog-q').fill('functions');
  await page.getByTestId('catalog-submit').click();
  await expect(page).toHaveURL(/[?&]q=functions/);
  await app.hydrated();
  const cards = page.getByTestId('course-card');
  await expect(cards).toHaveCount(1);
  await expect(cards.first()).toHaveAttribute('data-slug', 'javascript-foundations');
  await expect(cards.first().locator('mark').first()).toBeVisible();

  // Filters combine with the search; the form keeps what was chosen.
  await page.getByTestId('filter-level').selectOption('intermediate');
  await page.getByTestId('catalog-submit').click();
  await expect(page).toHaveURL(/level=intermediate/);
  await expect(page.getByTestId('catalog-empty')).toBeVisible();
  await expect(page.getByTestId('catalog-q')).toHaveValue('functions');

  await app.goto('/courses?level=intermediate&sort=newest');
  await expect(page.getByTestId('course-card')).toHaveCount(1);
  await expect(page.getByTestId('course-card').first()).toHaveAttribute('data-slug', 'git-for-teams');
  await expect(page.getByTestId('sort')).toHaveValue('newest');
});

test('a learner enrols, reads, watches and passes a quiz', async ({ app, page }, testInfo) => {
  test.setTimeout(120_000);
  await app.signUp(uniqueEmail(testInfo, 'learn'), 'Lin Learner', PASSWORD);
  await expect(page).toHaveURL(/\/profile$/);

  await app.goto('/courses/javascript-foundations');
  await expect(page.getByTestId('course-title')).toHaveText('JavaScript foundations');
  await page.getByTestId('course-enrol').click();
  await expect(page.getByTestId('course-resume')).toBeVisible();
  await app.hydrated();

  // Read the first lesson and tick it off.
  await page.getByTestId('course-resume').click();
  await expect(page.getByTestId('lesson-title')).toHaveText('What JavaScript is');
  await app.hydrated();
  await expect(page.getByTestId('lesson-body').locator('.tok-kw, .tok-str').first()).toBeVisible();
  await page.getByTestId('mark-read').click();
  await expect(page.getByTestId('lesson-done')).toBeVisible();

  // The video lesson: really played, it counts; only the browser can play it.
  await page.getByTestId('lesson-next').click();
  await expect(page.getByTestId('lesson-title')).toHaveText('A tour of the console');
  await app.hydrated();
  const video = page.getByTestId('lesson-video');
  await expect(video).toBeVisible();
  if (app.jsEnabled) {
    await video.evaluate(async (v: HTMLVideoElement) => {
      v.muted = true;
      await v.play();
    });
    await expect(page.getByTestId('watched')).toHaveAttribute('data-secs', /^1[12]\.\d$/, { timeout: 40_000 });
    await page.reload();
    await app.hydrated();
    await expect(page.getByTestId('lesson-done')).toBeVisible();
  }

  // The quiz: graded on the server, explained once passed, and it completes the lesson.
  await app.goto('/courses/javascript-foundations');
  await page.getByRole('link', { name: 'Check: the basics' }).click();
  await expect(page.getByTestId('lesson-title')).toHaveText('Check: the basics');
  await app.hydrated();
  await page.getByTestId('choice-0-0').check();
  await page.getByTestId('choice-1-0').check();
  await page.getByTestId('choice-2-0').check();
  await page.getByTestId('quiz-submit').click();
  await expect(page.getByTestId('quiz-result')).toHaveAttribute('data-passed', 'false');
  await expect(page.getByTestId('feedback-0')).toHaveAttribute('data-right', 'false');
  // A wrong answer does not hand over the right one for the next try.
  await expect(page.getByTestId('quiz-result')).toHaveAttribute('data-revealed', 'false');
  await expect(page.getByTestId('feedback-0')).not.toContainText('historical quirk');

  await page.getByTestId('choice-0-1').check();
  await page.getByTestId('choice-1-0').check();
  await page.getByTestId('choice-1-2').check();
  await page.getByTestId('choice-2-0').check();
  await page.getByTestId('quiz-submit').click();
  await expect(page.getByTestId('quiz-result')).toHaveAttribute('data-passed', 'true');
  await expect(page.getByTestId('feedback-0')).toContainText('historical quirk');

  // The course page shows the progress made.
  await app.goto('/courses/javascript-foundations');
  const done = app.jsEnabled ? 3 : 2;
  await expect(page.getByTestId('course-progress')).toContainText(`${done} / 22`);
  await expect(page.getByTestId('syllabus-lesson').filter({ hasText: 'Check: the basics' }))
    .toHaveAttribute('data-done', 'true');
  await expect(page.getByTestId('course-resume')).toContainText('Continue');

  // And the learner's own page lists the course with its progress.
  await app.openMenu();
  await page.getByTestId('nav-my-courses').click();
  await expect(page.getByTestId('card-progress')).toHaveAttribute('data-percent', String(Math.floor((done * 100) / 22)));
});

test('a mentor writes a course in the browser and uploads a video', async ({ app, page }, testInfo) => {
  test.setTimeout(120_000);
  await app.signIn('mentor@pairwise.test', 'pairwise-mentor-demo');
  await app.expectSignedIn();
  const slug = `draft-${testInfo.project.name}-${Date.now()}`;

  await app.goto('/courses/new');
  const form = page.getByTestId('new-course-form');
  await form.getByTestId('input-slug').fill(slug);
  await form.getByTestId('input-title').fill('Pairing on the web');
  await form.getByTestId('input-tags').fill('pairing, web');
  await form.getByTestId('submit').click();
  await expect(page).toHaveURL(new RegExp(`/courses/${slug}/edit$`));
  await app.hydrated();
  await expect(page.getByTestId('publish-state')).toHaveAttribute('data-published', 'false');

  await page.getByTestId('new-section-title').fill('Getting started');
  await page.getByTestId('add-section').click();
  await expect(page.getByTestId('new-lesson-title')).toBeVisible();
  await page.getByTestId('new-lesson-title').fill('Watch this');
  await page.getByTestId('new-lesson-kind').selectOption('video');
  await page.getByTestId('add-lesson').click();
  await expect(page).toHaveURL(/\/lessons\/[0-9a-f]+\/edit$/);
  await app.hydrated();

  // The Markdown preview is the server's own rendering, live once WASM runs.
  if (app.jsEnabled) {
    await page.getByTestId('input-body').fill('# Notes\n\n```js\nconst x = 1;\n```');
    await expect(page.getByTestId('preview-body').locator('h1')).toHaveText('Notes');
    await expect(page.getByTestId('preview-body').locator('.tok-kw')).toHaveText('const');
  }
  await page.getByTestId('input-video_secs').fill('12');
  await page.getByTestId('lesson-save').click();
  if (app.jsEnabled) {
    await expect(page.getByTestId('lesson-form-ok')).toBeVisible();
  }
  await expect(page.getByTestId('input-video_secs')).toHaveValue('12');

  await page.getByTestId('video-file').setInputFiles('../server/demo-courses/javascript-foundations/media/console-tour.webm');
  await page.getByTestId('video-upload').click();
  // With or without JavaScript (a progress bar, then the reload), the page says it worked.
  await expect(page.getByTestId('upload-message')).toHaveText('Video uploaded.');
  await expect(page).toHaveURL(/done=upload_video/);
  await expect(page.locator('video.thumb')).toHaveAttribute('src', /^\/media\/[0-9a-f]+\.webm$/);

  await app.goto(`/courses/${slug}/edit`);
  await page.getByTestId('publish-toggle').click();
  await expect(page.getByTestId('publish-state')).toHaveAttribute('data-published', 'true');
  await app.goto(`/courses?q=pairing`);
  await expect(page.locator(`[data-slug="${slug}"]`)).toBeVisible();
});

test('course pages fit a 360 px screen without sideways scrolling', async ({ app, page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await app.goto('/courses/javascript-foundations');
  const lessons = await page.getByTestId('syllabus-lesson').locator('a').evaluateAll(
    (links) => links.map((a) => (a as HTMLAnchorElement).getAttribute('href') ?? ''),
  );
  for (const path of ['/courses', '/courses?q=async', '/courses/javascript-foundations', '/courses/git-for-teams', ...lessons.slice(0, 7)]) {
    await app.goto(path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
  }
});
