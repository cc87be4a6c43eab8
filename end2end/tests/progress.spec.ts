import { test, expect, uniqueEmail, mailedLink, PASSWORD, PairwiseApp, axeViolations } from './fixtures/app';

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
  // Seven badges for learning and mentoring, three for the forum.
  await expect(dash.getByTestId('badges').locator('li')).toHaveCount(10);
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
  await app.expectSignedIn();
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

/** A signed-in API client of its own (its own cookies). */
async function client(playwright: import('@playwright/test').PlaywrightWorkerArgs['playwright'], baseURL: string) {
  const api = await playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL, Accept: 'application/json' } });
  const call = async (name: string, form: Record<string, string>) => {
    const res = await api.post(`/api/${name}`, { form });
    expect(res.ok(), `${name}: ${res.status()} ${await res.text()}`).toBeTruthy();
    return res.headers()['content-type']?.includes('json') ? res.json() : null;
  };
  return { api, call };
}

/** Confirms the address with the mailed link's token, which signs this client in. */
async function confirmByMail(call: (name: string, form: Record<string, string>) => Promise<unknown>, email: string) {
  const link = new URL(await mailedLink(email, '/verify-email?token='));
  await call('verify_email', { token: link.searchParams.get('token') ?? '' });
}

test("a mentor sees their mentee's progress and their own effectiveness", async ({ app, page, playwright }, testInfo) => {
  test.setTimeout(90_000);
  const baseURL = new URL(testInfo.project.use.baseURL ?? page.url()).origin;
  const admin = await client(playwright, baseURL);
  await admin.call('sign_in', { email: 'admin@pairwise.test', password: 'pairwise-admin-demo' });
  const mentorEmail = uniqueEmail(testInfo, 'coach');
  const mentor = await client(playwright, baseURL);
  await mentor.call('sign_up', { email: mentorEmail, display_name: 'Coach Kim', password: PASSWORD, accept: 'yes' });
  await confirmByMail(mentor.call, mentorEmail);
  const mentorId = (await mentor.call('current_user', {})).id as string;
  await admin.call('set_user_role', { user_id: mentorId, role: 'mentor', granted: 'true' });
  await mentor.call('update_profile', { display_name: 'Coach Kim', bio: '', skills: 'Rust: expert', languages: 'en', timezone: 'UTC' });
  await mentor.call('save_mentor_settings', { headline: 'Rust', capacity: '5', session_minutes: '30', windows: 'mon 09:00-17:00' });
  const learner = await client(playwright, baseURL);
  const menteeEmail = uniqueEmail(testInfo, 'mentee');
  await learner.call('sign_up', { email: menteeEmail, display_name: 'Mentee Mo', password: PASSWORD, accept: 'yes' });
  await confirmByMail(learner.call, menteeEmail);
  await learner.call('enrol_course', { slug: 'git-for-teams' });
  await learner.call('learner_dashboard', { days: '30' });
  await learner.call('send_request', { mentor: mentorId, goals: 'Rust', skills: 'Rust: beginner', languages: 'en', windows: 'mon 10:00-12:00', timezone: 'UTC' });
  const home = await mentor.call('mentoring_home', {});
  await mentor.call('answer_request', { id: home.received[0].id, accept: 'true' });

  await app.signIn(mentorEmail, PASSWORD);
  await app.expectSignedIn();
  await app.goto('/progress/mentees');
  const dash = page.getByTestId('mentor-dashboard');
  await expect(dash.getByTestId('mentee')).toHaveCount(1);
  await expect(dash.getByTestId('mentee')).toContainText('Mentee Mo');
  await expect(dash.getByTestId('sessions-by-week').locator('svg[role="img"] > title')).toHaveText('Sessions held per week');
  await dash.getByTestId('view-mentee').click();
  await expect(page.getByTestId('dashboard-title')).toHaveText('Progress of Mentee Mo');
  await expect(page.getByTestId('course-score')).toHaveCount(1);
  // Their switch is theirs: a mentor looking at a mentee has none.
  await expect(page.getByTestId('visibility-form')).toHaveCount(0);
  if (app.jsEnabled) {
    await app.goto('/progress/mentees');
    await app.hydrated();
    expect(await axeViolations(page)).toEqual([]);
  }
  await Promise.all([admin.api.dispose(), mentor.api.dispose(), learner.api.dispose()]);
});
