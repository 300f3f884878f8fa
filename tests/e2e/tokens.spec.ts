import { test, expect, Page, APIRequestContext } from '@playwright/test';
import { StandInLog, control, count, resetLog, signIn, standInLog } from './support';

// The token lifecycle across the tabs of one origin: N tabs whose access token lapses together make one token
// request, with and without refresh-token rotation, and none of them is signed out by the race.

const TABS = 10;
const DAY = 24 * 60 * 60;

test.afterEach(async ({ request }) => {
  await control(request, 'config', { rotate_refresh_tokens: false, access_token_lifetime_secs: 3600 });
  await control(request, 'clock', { offset_secs: 0 });
});

/** Signs in on `page`, then opens `n - 1` more tabs of the app in the same browser context. */
async function openTabs(page: Page, n: number): Promise<Page[]> {
  await signIn(page);
  await expect(page.getByTestId('user-name')).toHaveText('Alice Fenwick');
  const pages = [page];
  for (let i = 1; i < n; i++) {
    const p = await page.context().newPage();
    await p.goto('/');
    await expect(p.getByTestId('user-name')).toHaveText('Alice Fenwick');
    pages.push(p);
  }
  return pages;
}

const isOk = (path: string) => (r: import('@playwright/test').Response) =>
  r.request().method() === 'GET' && new URL(r.url()).pathname === path && r.status() === 200;

/**
 * What a user coming back to every tab at once causes: the header refetches the profile on focus, and the
 * playlists page is reloaded. Resolves when every tab has had its calls answered 200.
 */
async function everyTabCallsSpotify(pages: Page[]) {
  const hasReload = (await pages[0].getByTestId('reload-playlists').count()) > 0;
  const answered = pages.flatMap((p) => [
    p.waitForResponse(isOk('/v1/me'), { timeout: 30_000 }),
    ...(hasReload ? [p.waitForResponse(isOk('/v1/me/playlists'), { timeout: 30_000 })] : []),
  ]);
  await Promise.all(
    pages.map((p) =>
      p.evaluate(() => {
        window.dispatchEvent(new Event('focus'));
        (document.querySelector('[data-testid=reload-playlists]') as HTMLElement | null)?.click();
      }),
    ),
  );
  await Promise.all(answered);
}

async function expectEveryTabSignedIn(pages: Page[]) {
  for (const p of pages) {
    await expect(p.getByTestId('user-name')).toHaveText('Alice Fenwick');
    await expect(p.getByTestId('sign-in')).toHaveCount(0);
    await expect(p.getByTestId('sign-in-again')).toHaveCount(0);
    await expect(p.getByTestId('error')).toHaveCount(0);
  }
  expect(await pages[0].evaluate(() => localStorage.getItem('setlist.tokens'))).not.toBeNull();
}

function statusCount(log: StandInLog, route: string, status: number): number {
  return log.requests.filter((r) => `${r.method} ${r.route ?? r.path}` === route && r.status === status).length;
}

/** Every tab calls again: they all hold the new token already, so no token request and no 401. */
async function expectAllTabsAdopted(pages: Page[], request: APIRequestContext) {
  await resetLog(request);
  await everyTabCallsSpotify(pages);
  const log = await standInLog(request);
  expect(count(log, 'POST /api/token')).toBe(0);
  expect(statusCount(log, 'GET /v1/me', 401)).toBe(0);
}

/** The stand-in's clock jumps past the access token's hour: Spotify answers 401 while the tabs think it fresh. */
async function expireAtSpotify(request: APIRequestContext) {
  await control(request, 'clock', { advance_secs: 3700 });
}

for (const rotate of [false, true]) {
  test(`${TABS} tabs past access-token expiry make one token request (rotation ${rotate ? 'on' : 'off'})`, async ({ page, request }) => {
    test.setTimeout(120_000);
    await control(request, 'config', { rotate_refresh_tokens: rotate });
    const pages = await openTabs(page, TABS);

    // Two expiries in a row: with rotation the second refresh must use the token the first one rotated to.
    for (const round of [1, 2]) {
      await resetLog(request);
      await expireAtSpotify(request);
      await everyTabCallsSpotify(pages);
      const log = await standInLog(request);
      expect(count(log, 'POST /api/token'), `round ${round}: token requests`).toBe(1);
      expect(statusCount(log, 'POST /api/token', 200), `round ${round}: the refresh succeeded`).toBe(1);
      // The tabs really raced (several were refused before the refresh landed), and each was refused at most once.
      const refused = statusCount(log, 'GET /v1/me', 401);
      console.log(`rotation ${rotate ? 'on' : 'off'}, round ${round}: ${count(log, 'POST /api/token')} token request(s), ${refused} tab(s) saw a 401`);
      expect(refused).toBeGreaterThanOrEqual(2);
      expect(refused).toBeLessThanOrEqual(TABS);
      await expectEveryTabSignedIn(pages);
      await expectAllTabsAdopted(pages, request);
    }
  });
}

test(`${TABS} tabs shortly before expiry refresh ahead of time, once, with rotation on`, async ({ page, request }) => {
  test.setTimeout(120_000);
  await control(request, 'config', { rotate_refresh_tokens: true });
  const pages = await openTabs(page, TABS);
  await resetLog(request);
  // The tabs' clocks move to 30 s before the hour is up: inside the refresh margin, still valid at Spotify.
  await page.context().clock.setSystemTime(Date.now() + (3600 - 30) * 1000);
  await everyTabCallsSpotify(pages);
  const log = await standInLog(request);
  console.log(`shortly before expiry: ${count(log, 'POST /api/token')} token request(s) from ${TABS} tabs`);
  expect(count(log, 'POST /api/token')).toBe(1);
  // Refreshed before use: Spotify never had to refuse a token.
  expect(statusCount(log, 'GET /v1/me', 401)).toBe(0);
  await expectEveryTabSignedIn(pages);
  await expectAllTabsAdopted(pages, request);
});

test('a refresh token Spotify no longer accepts signs every tab out once, without retrying', async ({ page, request }) => {
  const pages = await openTabs(page, 3);
  await resetLog(request);
  // Past the refresh token's six months at Spotify: the refresh answers invalid_grant.
  await control(request, 'clock', { advance_secs: 184 * DAY });
  await Promise.all(pages.map((p) => p.evaluate(() => window.dispatchEvent(new Event('focus')))));
  for (const p of pages) {
    await expect(p.getByTestId('sign-in')).toHaveText('Sign in again');
    await expect(p.getByTestId('user-name')).toHaveCount(0);
  }
  await expect(pages[0].getByTestId('sign-in-again')).toBeVisible();
  const log = await standInLog(request);
  expect(count(log, 'POST /api/token')).toBe(1);
  expect(statusCount(log, 'POST /api/token', 400)).toBe(1);
  for (const p of pages) expect(await p.evaluate(() => localStorage.getItem('setlist.tokens'))).toBeNull();
  // The way forward works: signing in again brings the user back.
  await control(request, 'clock', { offset_secs: 0 });
  await signIn(pages[0]);
  await expect(pages[0].getByTestId('user-name')).toHaveText('Alice Fenwick');
});

test('the header warns from 14 days before the six-month sign-in runs out', async ({ page }) => {
  await signIn(page);
  await expect(page.getByTestId('user-name')).toHaveText('Alice Fenwick');
  await expect(page.getByTestId('expiry-warning')).toHaveCount(0);
  // 170 days after signing in: 13 days of the 183 left. The access token is long expired by then, so the
  // profile call refreshes first (Spotify's own clock has not moved, so it still accepts the refresh token).
  await page.context().clock.setSystemTime(Date.now() + 170 * DAY * 1000);
  await page.reload();
  await expect(page.getByTestId('expiry-warning')).toContainText('expires in 13 days');
  await expect(page.getByTestId('renew-sign-in')).toBeVisible();
  await expect(page.getByTestId('user-name')).toHaveText('Alice Fenwick');
});

// Issue 11, point 7: an accounts service granting access tokens shorter than the refresh margin made every request
// of every tab refresh (and push), hundreds of token requests a minute from three idle tabs. The margin now scales
// with the granted lifetime, and the origin sends at most BUDGET token requests in any minute whatever the
// accounts service answers.

const BUDGET = 6;
const MINUTE_MS = 60_000;

/** Browser-side send times (ms) of every token request of `page`'s context, from now on, in order. */
function recordTokenRequests(page: Page): number[] {
  const sent: number[] = [];
  page.context().on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/token') sent.push(Date.now());
  });
  return sent;
}

/**
 * The most token requests within any `windowMs`. The app counts whole seconds and lets a request count for the whole
 * of the second it left in, so its bound holds for any 60 real seconds; the slack covers the time between the
 * decision and the request event reaching the test.
 */
function mostInAnyWindow(sent: number[], windowMs = MINUTE_MS - 1_000): number {
  let most = 0;
  for (let i = 0; i < sent.length; i++) {
    most = Math.max(most, sent.filter((t) => t >= sent[i] && t < sent[i] + windowMs).length);
  }
  return most;
}

/** Every `everyMs` for `forMs`, each tab is focused again (the header refetches the profile): a user at work. */
async function useTabs(pages: Page[], forMs: number, everyMs = 3_000) {
  for (let start = Date.now(); Date.now() - start < forMs; ) {
    await Promise.all(pages.map((p) => p.evaluate(() => window.dispatchEvent(new Event('focus')))));
    await pages[0].waitForTimeout(everyMs);
  }
}

test('three tabs with 20 s access tokens stay within six token requests a minute, idle or in use', async ({ page, request }) => {
  test.setTimeout(240_000);
  await control(request, 'config', { access_token_lifetime_secs: 20 });
  const sent = recordTokenRequests(page);
  const pages = await openTabs(page, 3);

  // Idle: nothing needs a token, so nothing asks for one (the storm asked hundreds of times a minute).
  await resetLog(request);
  await page.waitForTimeout(MINUTE_MS);
  const idle = count(await standInLog(request), 'POST /api/token');
  console.log(`20 s tokens, 3 idle tabs: ${idle} token request(s) in a minute`);
  expect(idle).toBeLessThanOrEqual(BUDGET);

  // In use: each token is refreshed once, a quarter of its lifetime (5 s) before it ends, by one of the tabs.
  await resetLog(request);
  await useTabs(pages, MINUTE_MS);
  const log = await standInLog(request);
  const used = count(log, 'POST /api/token');
  console.log(`20 s tokens, 3 tabs in use: ${used} token request(s) in a minute, ${count(log, 'GET /v1/me')} profile calls`);
  expect(used).toBeGreaterThanOrEqual(2);
  expect(used).toBeLessThanOrEqual(BUDGET);
  expect(statusCount(log, 'POST /api/token', 200)).toBe(used);
  // Refreshed ahead of time: Spotify never had to refuse a token.
  expect(statusCount(log, 'GET /v1/me', 401)).toBe(0);
  expect(count(log, 'GET /v1/me')).toBeGreaterThanOrEqual(3 * 10);
  expect(mostInAnyWindow(sent)).toBeLessThanOrEqual(BUDGET);
  await expectEveryTabSignedIn(pages);
});

test('an accounts service granting 0 s access tokens gets at most six token requests a minute', async ({ page, request }) => {
  test.setTimeout(180_000);
  const pages = await openTabs(page, 3);
  const sent = recordTokenRequests(page);
  // Every token from now on is dead on arrival, and Spotify refuses the one the tabs hold.
  await control(request, 'config', { access_token_lifetime_secs: 0 });
  await expireAtSpotify(request);
  await resetLog(request);
  await useTabs(pages, 75_000);
  const log = await standInLog(request);
  console.log(`0 s tokens, 3 tabs in use: ${count(log, 'POST /api/token')} token request(s) in 75 s, at ${sent.map((t) => t - sent[0]).join(', ')} ms`);
  expect(mostInAnyWindow(sent)).toBeLessThanOrEqual(BUDGET);
  expect(count(log, 'POST /api/token')).toBeLessThanOrEqual(2 * BUDGET);
  // Still trying once the minute has passed: the budget holds requests back, it does not give up.
  expect(sent.length).toBeGreaterThan(BUDGET);
  // Held back, not signed out: the refresh token is fine, only the access tokens are useless.
  for (const p of pages) await expect(p.getByTestId('sign-in-again')).toHaveCount(0);
  expect(await page.evaluate(() => localStorage.getItem('setlist.tokens'))).not.toBeNull();
});
