import type { Page } from '@playwright/test';
import { test, expect, uniqueEmail, PASSWORD, PairwiseApp } from './fixtures/app';
import { MENTOR, openRoom, person } from './fixtures/rooms';

/** The shared text as this page's Yjs document holds it (what its editor shows). */
function shared(page: Page): Promise<string> {
  return page
    .getByTestId('code-editor')
    .evaluate((el) => (el as unknown as { __pairwiseCollab?: { value(): string } }).__pairwiseCollab?.value() ?? '');
}

/** What the editor renders, line by line (remote cursor labels left out). */
function rendered(page: Page, host = 'code-editor'): Promise<string> {
  return page.getByTestId(host).evaluate((el) =>
    Array.from(el.querySelectorAll('.cm-line'))
      .map((line) => {
        const copy = line.cloneNode(true) as HTMLElement;
        copy.querySelectorAll('.cm-pw-caret').forEach((c) => c.remove());
        return copy.textContent ?? '';
      })
      .join('\n'),
  );
}

async function editorReady(page: Page) {
  await expect(page.getByTestId('room')).toHaveAttribute('data-conn', 'live');
  await expect(page.getByTestId('code-editor')).toHaveAttribute('data-ready', 'true');
}

/** Puts the caret at the end of the document. */
async function toEnd(page: Page) {
  await page.locator('[data-testid=code-editor] .cm-content').click();
  await page.keyboard.press('Control+End');
}

async function converged(a: Page, b: Page): Promise<string> {
  await expect.poll(async () => (await shared(a)) === (await shared(b)), { timeout: 20_000 }).toBe(true);
  const text = await shared(a);
  await expect.poll(() => rendered(a)).toBe(text);
  await expect.poll(() => rendered(b)).toBe(text);
  return text;
}

/** Every character of `word` is in `text` in order (concurrent typing interleaves). */
function hasInOrder(text: string, word: string): boolean {
  let at = 0;
  for (const ch of word) {
    at = text.indexOf(ch, at);
    if (at < 0) return false;
    at += 1;
  }
  return true;
}

test.describe('pair programming', () => {
  test.skip(({ javaScriptEnabled }) => javaScriptEnabled === false, 'the shared editor needs JavaScript');

  test('typing together converges, cursors show, undo is per person, offline edits merge, Run is shared, replay', async ({
    browser,
  }, testInfo) => {
    test.skip(testInfo.project.name !== 'desktop', 'the phone project has its own test');
    test.setTimeout(180_000);
    const learnerEmail = uniqueEmail(testInfo, 'pair-learner');
    const learner = await person(browser, {}, (app) => app.signUp(learnerEmail, 'Lena Learner', PASSWORD));
    const mentor = await person(browser, {}, (app) => app.signIn(MENTOR.email, MENTOR.password));
    const path = await openRoom(mentor.app, learnerEmail, `Pair ${Date.now()}`);
    await learner.app.goto(path);
    await editorReady(mentor.page);
    await editorReady(learner.page);

    // Both type into the same line at the same time.
    await toEnd(mentor.page);
    await mentor.page.keyboard.type('let a = 1;');
    await expect.poll(() => shared(learner.page)).toBe('let a = 1;');
    await toEnd(learner.page);
    await toEnd(mentor.page);
    await Promise.all([
      mentor.page.keyboard.type(' // maya', { delay: 15 }),
      learner.page.keyboard.type(' // lena', { delay: 15 }),
    ]);
    const together = await converged(mentor.page, learner.page);
    expect(together.startsWith('let a = 1;')).toBe(true);
    expect(hasInOrder(together, ' // maya')).toBe(true);
    expect(hasInOrder(together, ' // lena')).toBe(true);
    expect(together.length).toBe('let a = 1;'.length + 2 * ' // maya'.length);

    // Each sees the other's cursor, named.
    await expect(mentor.page.locator('[data-peer-cursor="Lena Learner"]')).toHaveCount(1);
    await expect(learner.page.locator(`[data-peer-cursor="${MENTOR.name}"]`)).toHaveCount(1);
    await expect(mentor.page.getByTestId('code-peers')).toContainText('Lena Learner');

    // Undo in one context takes back only that person's edit.
    await toEnd(learner.page);
    await learner.page.keyboard.press('Enter');
    await learner.page.keyboard.type('learnerLine();');
    await expect.poll(() => shared(mentor.page)).toContain('learnerLine();');
    await toEnd(mentor.page);
    await mentor.page.keyboard.press('Enter');
    await mentor.page.keyboard.type('mentorLine();');
    await expect.poll(() => shared(learner.page)).toContain('mentorLine();');
    await learner.page.locator('[data-testid=code-editor] .cm-content').focus();
    await learner.page.keyboard.press('Control+z');
    await expect.poll(() => shared(learner.page)).not.toContain('learnerLine();');
    let text = await converged(mentor.page, learner.page);
    expect(text).toContain('mentorLine();');
    expect(text).not.toContain('learnerLine();');

    // The learner loses the network and both keep typing; nothing is lost when it is back.
    await learner.context.setOffline(true);
    await expect(learner.page.getByTestId('room')).toHaveAttribute('data-conn', /offline|reconnecting/, {
      timeout: 20_000,
    });
    await toEnd(learner.page);
    await learner.page.keyboard.press('Enter');
    await learner.page.keyboard.type('typedOffline();');
    await toEnd(mentor.page);
    await mentor.page.keyboard.press('Enter');
    await mentor.page.keyboard.type('typedMeanwhile();');
    // Long enough for the learner's page to give its socket up (the reconnect path syncs).
    await learner.page.waitForTimeout(10_000);
    expect(await shared(mentor.page)).not.toContain('typedOffline();');
    expect(await shared(learner.page)).not.toContain('typedMeanwhile();');
    await learner.context.setOffline(false);
    // Typing goes on through the reconnect: nothing typed in that moment is refused or lost.
    await learner.page.keyboard.type(' keptTyping();', { delay: 30 });
    await expect(learner.page.getByTestId('room')).toHaveAttribute('data-conn', 'live', { timeout: 30_000 });
    await learner.page.keyboard.type(' andAfter();');
    text = await converged(mentor.page, learner.page);
    expect(text).toContain('typedOffline(); keptTyping(); andAfter();');
    expect(text).toContain('typedMeanwhile();');
    expect(text).toContain('mentorLine();');

    // Run: the mentor runs, both see the result labelled with who ran it.
    await toEnd(mentor.page);
    await mentor.page.keyboard.press('Enter');
    await mentor.page.keyboard.type(
      'function typedOffline() {} function typedMeanwhile() {} function mentorLine() {} function keptTyping() {} function andAfter() {}',
    );
    await converged(mentor.page, learner.page);
    await mentor.page.getByTestId('code-run').click();
    for (const page of [mentor.page, learner.page]) {
      await expect(page.getByTestId('run-result').first()).toBeVisible({ timeout: 30_000 });
      await expect(page.getByTestId('run-by').first()).toHaveText(MENTOR.name);
      await expect(page.getByTestId('run-score').first()).toHaveText('1/1');
    }

    // The language is shared.
    await learner.page.getByTestId('code-language').selectOption('python');
    await expect(mentor.page.getByTestId('code-language')).toHaveValue('python');

    // Replay: from nothing to the final text, with who typed each step.
    const final = await shared(mentor.page);
    await mentor.app.goto(`${path}/replay`);
    await expect(mentor.page.getByTestId('replay-editor')).toHaveAttribute('data-ready', 'true');
    const scrub = mentor.page.getByTestId('replay-scrub');
    const max = Number(await scrub.getAttribute('max'));
    expect(max).toBeGreaterThan(20);
    await expect.poll(() => rendered(mentor.page, 'replay-editor')).toBe(final);
    await scrub.fill('0');
    await expect.poll(() => rendered(mentor.page, 'replay-editor')).toBe('');
    await scrub.fill('1');
    await expect.poll(() => rendered(mentor.page, 'replay-editor')).toBe('l');
    await expect(mentor.page.getByTestId('replay-author')).toContainText(MENTOR.name);
    await mentor.page.getByTestId('replay-play').click();
    await expect.poll(() => rendered(mentor.page, 'replay-editor'), { timeout: 60_000 }).toBe(final);

    // Someone outside the room cannot replay it.
    const stranger = await person(browser, {}, (app) =>
      app.signUp(uniqueEmail(testInfo, 'pair-stranger'), 'Sam Stranger', PASSWORD),
    );
    await stranger.page.goto(`${path}/replay`);
    await expect(stranger.page.getByTestId('replay-error')).toBeVisible();
    await expect(stranger.page.getByTestId('replay-editor')).toHaveCount(0);
    for (const p of [mentor, learner, stranger]) await p.context.close();
  });

  test("the shared editor runs Python: Run loads Pyodide in the runner's browser and both see the result", async ({
    browser,
  }, testInfo) => {
    test.skip(testInfo.project.name !== 'desktop', 'one engine check is enough');
    test.setTimeout(180_000);
    const learnerEmail = uniqueEmail(testInfo, 'pair-python');
    const learner = await person(browser, {}, (app) => app.signUp(learnerEmail, 'Pyotr Learner', PASSWORD));
    const mentor = await person(browser, {}, (app) => app.signIn(MENTOR.email, MENTOR.password));
    const path = await openRoom(mentor.app, learnerEmail, `Python pair ${Date.now()}`);
    await learner.app.goto(path);
    await editorReady(mentor.page);
    await editorReady(learner.page);
    await mentor.page.getByTestId('code-language').selectOption('python');
    await expect(learner.page.getByTestId('code-language')).toHaveValue('python');
    await toEnd(mentor.page);
    // `print` exists in Python only: in JavaScript this program would fail.
    await mentor.page.keyboard.type('print("hello from python")');
    await expect.poll(() => shared(learner.page)).toBe('print("hello from python")');
    await mentor.page.getByTestId('code-run').click();
    for (const page of [mentor.page, learner.page]) {
      await expect(page.getByTestId('run-result').first()).toBeVisible({ timeout: 90_000 });
      await expect(page.getByTestId('run-score').first()).toHaveText('1/1');
    }
    await expect(mentor.page.getByTestId('python-load')).toBeHidden();
    await mentor.page.getByTestId('run-result').first().locator('summary').click();
    await expect(mentor.page.getByTestId('run-result').first()).toContainText('hello from python');
    // A Python error fails the program, with Python's words.
    await toEnd(mentor.page);
    await mentor.page.keyboard.press('Enter');
    await mentor.page.keyboard.type('undefined_name');
    await expect.poll(() => shared(learner.page)).toContain('undefined_name');
    await mentor.page.getByTestId('code-run').click();
    await expect(learner.page.getByTestId('run-score').first()).toHaveText('0/1', { timeout: 30_000 });
    await expect(learner.page.getByTestId('run-result').first()).toContainText("NameError: name 'undefined_name' is not defined");
    for (const p of [mentor, learner]) await p.context.close();
  });

  test('on a phone the shared editor takes typing', async ({ browser }, testInfo) => {
    test.skip(testInfo.project.name !== 'phone', 'written for the phone project');
    test.setTimeout(120_000);
    const learnerEmail = uniqueEmail(testInfo, 'pair-phone');
    const phone = testInfo.project.use;
    const learner = await person(
      browser,
      { viewport: phone.viewport, deviceScaleFactor: phone.deviceScaleFactor, isMobile: true, hasTouch: true, userAgent: phone.userAgent },
      (app) => app.signUp(learnerEmail, 'Pia Phone', PASSWORD),
    );
    const mentor = await person(browser, {}, (app) => app.signIn(MENTOR.email, MENTOR.password));
    const path = await openRoom(mentor.app, learnerEmail, `Phone pair ${Date.now()}`);
    await learner.app.goto(path);
    await editorReady(learner.page);
    await editorReady(mentor.page);
    await learner.page.locator('[data-testid=code-editor] .cm-content').tap();
    await learner.page.keyboard.type('const fromPhone = true;');
    await expect.poll(() => shared(mentor.page)).toBe('const fromPhone = true;');
    await expect.poll(() => rendered(mentor.page)).toBe('const fromPhone = true;');
    // Nothing scrolls sideways at 360 px.
    const overflow = await learner.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    for (const p of [mentor, learner]) await p.context.close();
  });
});

test('without JavaScript the room shows the shared code as it stands', async ({ browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'no-javascript', 'written for the no-JavaScript project');
  test.setTimeout(90_000);
  const learnerEmail = uniqueEmail(testInfo, 'pair-nojs');
  const mentor = await person(browser, { javaScriptEnabled: true }, (app) =>
    app.signIn(MENTOR.email, MENTOR.password),
  );
  // The learner signs up without JavaScript (plain forms); the mentor invites them and types.
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const learner = new PairwiseApp(page, false);
  await learner.signUp(learnerEmail, 'Nora NoScript', PASSWORD);
  const path = await openRoom(mentor.app, learnerEmail, `No-JS pair ${Date.now()}`);
  await editorReady(mentor.page);
  await toEnd(mentor.page);
  await mentor.page.keyboard.type('console.log("<b>hi</b>");');
  await expect.poll(() => shared(mentor.page)).toBe('console.log("<b>hi</b>");');
  // Stored before it is relayed: a fresh page load has it.
  await expect
    .poll(async () => {
      await learner.goto(path);
      return page.getByTestId('code-static').innerText();
    })
    .toBe('console.log("<b>hi</b>");');
  await expect(page.getByTestId('code-replay')).toBeVisible();
  await mentor.context.close();
  await context.close();
});
