import type { Page } from '@playwright/test';
import { devices } from '@playwright/test';
import { test, expect, uniqueEmail, PASSWORD, PairwiseApp } from './fixtures/app';

const MENTOR = { email: 'mentor@pairwise.test', password: 'pairwise-mentor-demo', name: 'Maya Mentor' };
const ALL_WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => `${d} 00:00-24:00`).join('\n');
const GOALS = '用 Rust 写第一个网络服务';
/** The demo mentor's own headline: their words, in the language they wrote it in. */
const HEADLINE = 'Rust, JavaScript and databases, from first steps to production';

/**
 * Fails when the page shows an English sentence: four or more Latin-letter words in a row,
 * once what people typed themselves (names, goals) and proper names are taken out.
 */
async function noEnglish(page: Page, typed: string[]) {
  let text = await page.locator('body').innerText();
  for (const t of [...typed, HEADLINE, MENTOR.name, 'Pairwise', 'Rust', 'UTC', 'WebAssembly', 'Markdown']) {
    text = text.split(t).join(' ');
  }
  // Time-zone names (Europe/Berlin) and addresses are not sentences; what a notice quotes
  // (“goals”, “room title”) is someone's own words, other tests' learners' included.
  text = text.replace(/[A-Za-z_]+\/[A-Za-z_]+/g, ' ').replace(/\S+@\S+/g, ' ').replace(/“[^”]*”/g, ' ');
  const sentence = text.match(/[A-Za-z]+(?:[ ,'’-]+[A-Za-z]+){3,}/);
  expect(sentence?.[0] ?? null, `English on ${page.url()}`).toBeNull();
}

test('in Chinese: mentor search, request, notifications and a booking have no English sentence', async ({ browser }, testInfo) => {
  test.skip(testInfo.project.name !== 'desktop', 'one language walk is enough');
  test.setTimeout(180_000);
  const zh = { ...devices['Desktop Chrome'], locale: 'zh-CN' };

  // The demo mentor, reading Pairwise in Chinese, is free all week.
  const mentorContext = await browser.newContext(zh);
  const mentor = new PairwiseApp(await mentorContext.newPage(), true);
  await mentor.signIn(MENTOR.email, MENTOR.password);
  await mentor.expectSignedIn();
  await mentor.goto('/mentoring/profile');
  const settings = mentor.page.getByTestId('mentor-settings-form');
  await settings.getByTestId('input-windows').fill(ALL_WEEK);
  await settings.getByTestId('input-capacity').fill('50');
  await settings.getByTestId('save-settings').click();
  await expect(mentor.page.getByTestId('settings-ok')).toBeVisible();

  // A new learner whose browser asks for Chinese.
  const learnerContext = await browser.newContext(zh);
  const learner = new PairwiseApp(await learnerContext.newPage(), true);
  const name = `李 ${Date.now()}`;
  await learner.signUp(uniqueEmail(testInfo, 'zh-learner'), name, PASSWORD);
  await learner.expectSignedIn();
  const typed = [name, GOALS];

  // The ranking gives its reasons in Chinese.
  await learner.goto('/mentors/find');
  const form = learner.page.getByTestId('find-form');
  await form.getByTestId('input-goals').fill(GOALS);
  await form.getByTestId('input-skills').fill('Rust: intermediate');
  await form.getByTestId('input-languages').fill('zh');
  await form.getByTestId('input-windows').fill('mon 18:00-21:00\nsat 09:00-12:00');
  await form.getByTestId('find-submit').click();
  const card = learner.page.getByTestId('mentor-card').filter({ hasText: MENTOR.name });
  await expect(card.getByTestId('match-reasons')).toContainText('项技能匹配');
  await noEnglish(learner.page, typed);
  await learner.hydrated();
  await card.getByTestId('send-request').click();
  await expect(learner.page.getByTestId('request-sent')).toBeVisible();
  await noEnglish(learner.page, typed);

  // The mentor's notification, made by the request, reads in Chinese; so does the request.
  await mentor.goto('/notifications');
  await expect(mentor.page.getByTestId('notification').filter({ hasText: name }).first()).toContainText('请你做他们的导师');
  await noEnglish(mentor.page, typed);
  await mentor.goto('/mentoring');
  await mentor.page.getByTestId('received-requests').getByRole('link', { name }).click();
  await expect(mentor.page.getByTestId('request-state')).toBeVisible();
  await noEnglish(mentor.page, typed);
  await mentor.hydrated();
  await expect(mentor.page.getByTestId('request-seen')).toHaveAttribute('data-seen', 'true');
  await mentor.page.getByTestId('accept-request').click();
  await expect(mentor.page).toHaveURL(/\/mentorships\//);
  await noEnglish(mentor.page, typed);

  // The learner is told in Chinese, books, and sees the session in Chinese.
  await learner.goto('/notifications');
  await expect(learner.page.getByTestId('notification').filter({ hasText: '接受了你的辅导请求' }).first()).toBeVisible();
  await noEnglish(learner.page, typed);
  await learner.goto('/mentoring');
  await learner.page.getByTestId('mentorship-item').getByRole('link', { name: MENTOR.name }).click();
  await expect(learner.page.getByTestId('book-form')).toBeVisible();
  await noEnglish(learner.page, typed);
  await learner.hydrated();
  // The last free time, not the first: other tests with the demo mentor need the soonest one.
  await learner.page.getByTestId('slot').last().check();
  await learner.page.getByTestId('book-submit').click();
  await expect(learner.page).toHaveURL(/\/bookings\//);
  await expect(learner.page.getByTestId('session-time')).toBeVisible();
  await noEnglish(learner.page, typed);

  // The mentor is told of the booking in Chinese.
  await mentor.goto('/notifications');
  await expect(mentor.page.getByTestId('notification').filter({ hasText: '预约了' }).first()).toBeVisible();
  await noEnglish(mentor.page, typed);

  await mentorContext.close();
  await learnerContext.close();
});
