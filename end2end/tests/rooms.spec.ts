import type { Page } from '@playwright/test';
import { test, expect, uniqueEmail, PASSWORD, PairwiseApp } from './fixtures/app';
import { MENTOR, openRoom, person } from './fixtures/rooms';

async function joinCall(page: Page) {
  await expect(page.getByTestId('room')).toHaveAttribute('data-conn', 'live');
  await page.getByTestId('call-join').click();
  await expect(page.getByTestId('room')).toHaveAttribute('data-in-call', 'true');
}

/** The other person's video is decoding frames and their audio track is live. */
async function seesAndHears(page: Page) {
  const video = page.getByTestId('remote-video');
  await expect(video).toHaveCount(1);
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 30_000 })
    .toBeGreaterThan(0);
  await expect
    .poll(() =>
      video.evaluate((v: HTMLVideoElement) => {
        const s = v.srcObject as MediaStream | null;
        // A negotiation collision can leave a rolled-back receiver's ended track beside the
        // live one; what plays is the live one.
        return s?.getAudioTracks().some((t) => t.readyState === 'live') ? 'live' : 'none';
      }),
    )
    .toBe('live');
  // Frames keep coming (not one frozen frame).
  const t0 = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.currentTime), { timeout: 15_000 })
    .toBeGreaterThan(t0);
}

async function chatSend(page: Page, text: string) {
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-input').press('Enter');
}

/** The chat's messages in order, each exactly once (sequence numbers unique). */
async function chatBodies(page: Page): Promise<string[]> {
  const items = page.getByTestId('chat-message');
  const seqs = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-seq')));
  expect(new Set(seqs).size).toBe(seqs.length);
  return items.locator('.chat-body').allInnerTexts();
}

test.describe('live room', () => {
  test.skip(({ javaScriptEnabled }) => javaScriptEnabled === false, 'calls need JavaScript');

  test('two people see and hear each other, mute shows, chat both ways, and a network drop loses nothing', async ({
    browser,
  }, testInfo) => {
    test.skip(testInfo.project.name !== 'desktop', 'the phone project has its own test');
    test.setTimeout(150_000);
    const learnerEmail = uniqueEmail(testInfo, 'room-learner');
    const learner = await person(browser, {}, async (app) => {
      await app.signUp(learnerEmail, 'Lena Learner', PASSWORD);
    });
    const mentor = await person(browser, {}, (app) => app.signIn(MENTOR.email, MENTOR.password));
    const path = await openRoom(mentor.app, learnerEmail, `Pairing ${Date.now()}`);

    // Someone not invited gets a refusal in words.
    const stranger = await person(browser, {}, (app) =>
      app.signUp(uniqueEmail(testInfo, 'stranger'), 'Sam Stranger', PASSWORD),
    );
    const refused = await stranger.page.goto(path);
    expect(refused?.status()).toBe(403);
    await expect(stranger.page.getByTestId('room-refused')).toBeVisible();
    await stranger.context.close();

    await learner.app.goto(path);
    // Presence: the mentor sees the learner arrive before anyone is in the call.
    await expect(mentor.page.locator('[data-testid=member][data-present=true]')).toHaveCount(2);
    await joinCall(mentor.page);
    await joinCall(learner.page);
    await seesAndHears(mentor.page);
    await seesAndHears(learner.page);

    // The learner mutes: the mentor sees it; unmuting clears it.
    await learner.page.getByTestId('toggle-mic').click();
    await expect(learner.page.getByTestId('toggle-mic')).toHaveAttribute('aria-pressed', 'false');
    await expect(mentor.page.getByTestId('peer-muted')).toBeVisible();
    await learner.page.getByTestId('toggle-mic').click();
    await expect(mentor.page.getByTestId('peer-muted')).toHaveCount(0);
    // A quality figure appears from getStats.
    await expect(mentor.page.getByTestId('quality')).toHaveAttribute('data-level', /good|fair|poor/, {
      timeout: 20_000,
    });

    // Chat both ways, with code rendered as code and markup left as text.
    await chatSend(mentor.page, 'Hi Lena, try `reduce` <b>here</b>');
    await chatSend(learner.page, 'On it!');
    for (const page of [mentor.page, learner.page]) {
      await expect(page.getByTestId('chat-message')).toHaveCount(2);
      await expect(page.getByTestId('chat-message').first().locator('code')).toHaveText('reduce');
      await expect(page.getByTestId('chat-message').first()).toContainText('<b>here</b>');
    }

    // The learner's network drops for ten seconds; both keep typing.
    await learner.context.setOffline(true);
    await expect(learner.page.getByTestId('room')).toHaveAttribute('data-conn', /offline|reconnecting/, {
      timeout: 15_000,
    });
    await chatSend(learner.page, 'typed while offline');
    await chatSend(mentor.page, 'sent while Lena was away');
    await expect(learner.page.getByTestId('chat-pending')).toHaveCount(1);
    await learner.page.waitForTimeout(10_000);
    await learner.context.setOffline(false);

    await expect(learner.page.getByTestId('room')).toHaveAttribute('data-conn', 'live', { timeout: 30_000 });
    const expected = ['Hi Lena, try reduce <b>here</b>', 'On it!'];
    for (const page of [mentor.page, learner.page]) {
      await expect(page.getByTestId('chat-message')).toHaveCount(4, { timeout: 20_000 });
      await expect(page.getByTestId('chat-pending')).toHaveCount(0);
      const bodies = await chatBodies(page);
      expect(bodies.slice(0, 2)).toEqual(expected);
      expect(bodies.slice(2).sort()).toEqual(['sent while Lena was away', 'typed while offline']);
    }
    // The call came back by itself.
    await seesAndHears(mentor.page);
    await seesAndHears(learner.page);

    // A reload shows the same chat once, from the server.
    await learner.app.goto(path);
    await expect(learner.page.getByTestId('chat-message')).toHaveCount(4);
    expect((await chatBodies(learner.page)).length).toBe(4);

    await mentor.context.close();
    await learner.context.close();
  });

  test('a phone joins a call, sees the mentor and chats from the drawer', async ({ browser, page, app }, testInfo) => {
    test.skip(testInfo.project.name !== 'phone', 'phone layout');
    test.setTimeout(120_000);
    const email = uniqueEmail(testInfo, 'room-phone');
    await app.signUp(email, 'Pia Phone', PASSWORD);
    await app.expectSignedIn();
    const mentor = await person(
      browser,
      { viewport: { width: 1280, height: 800 } },
      (m) => m.signIn(MENTOR.email, MENTOR.password),
    );
    const path = await openRoom(mentor.app, email, `Phone call ${Date.now()}`);
    await app.goto(path);
    await joinCall(mentor.page);
    await expect(page.getByTestId('room')).toHaveAttribute('data-conn', 'live');
    await page.getByTestId('call-join').tap();
    await expect(page.getByTestId('room')).toHaveAttribute('data-in-call', 'true');
    await seesAndHears(page);
    await seesAndHears(mentor.page);
    // The remote video fills the width; the self-view floats smaller over it.
    const remote = await page.getByTestId('remote-video').boundingBox();
    const self = await page.getByTestId('self-video').boundingBox();
    expect(remote && remote.width).toBeGreaterThan(300);
    expect(self && remote && self.width < remote.width / 2).toBeTruthy();
    // Nothing is wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);

    await expect(page.getByTestId('chat-input')).toBeHidden();
    await page.getByTestId('chat-toggle').tap();
    await expect(page.getByTestId('chat-input')).toBeVisible();
    await chatSend(page, 'hello from my phone');
    await expect(mentor.page.getByTestId('chat-message')).toContainText(['hello from my phone']);
    await mentor.context.close();
  });
});

test('without JavaScript the room page reads and its chat form posts', async ({ app, page }, testInfo) => {
  test.skip(testInfo.project.name !== 'no-javascript', 'the form path');
  await app.signIn(MENTOR.email, MENTOR.password);
  await page.goto('/rooms');
  await page.getByTestId('room-title').fill(`Form room ${Date.now()}`);
  await page.getByTestId('create-room').click();
  await expect(page.getByTestId('room')).toBeVisible();
  await expect(page.getByTestId('room-status')).toContainText('JavaScript');
  await page.getByTestId('chat-input').fill('posted by a plain form');
  await page.getByTestId('chat-send').click();
  await expect(page.getByTestId('chat-message')).toHaveCount(1);
  await expect(page.getByTestId('chat-message')).toContainText('posted by a plain form');
});
