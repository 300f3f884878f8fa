import { test, expect } from '@playwright/test';
import { APP, STAND_IN, count, resetLog, signIn, standInLog } from './support';

test.beforeEach(async ({ request }) => {
  await resetLog(request);
});

test('sign in through the consent page, stay signed in across a reload, sign out', async ({ page, request }) => {
  const console: string[] = [];
  page.on('console', (m) => console.push(m.text()));

  await signIn(page, 'alice.setlist');
  await expect(page.getByTestId('user-name')).toHaveText('Alice Fenwick');
  // code and state never stay in the address bar
  expect(page.url()).not.toMatch(/[?&](code|state)=/);

  let log = await standInLog(request);
  expect(count(log, 'POST /api/token')).toBe(1);
  expect(count(log, 'GET /v1/me')).toBeGreaterThanOrEqual(1);

  await page.reload();
  await expect(page.getByTestId('user-name')).toHaveText('Alice Fenwick');
  log = await standInLog(request);
  // The reload reuses the stored tokens: no second token request.
  expect(count(log, 'POST /api/token')).toBe(1);

  // Tokens are stored, but never printed.
  const stored = await page.evaluate(() => localStorage.getItem('setlist.tokens'));
  expect(stored).not.toBeNull();
  const accessToken: string = JSON.parse(stored!).access_token;
  expect(accessToken.length).toBeGreaterThan(20);
  for (const line of console) expect(line).not.toContain(accessToken);

  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('sign-in-hero')).toBeVisible();
  await page.reload();
  await expect(page.getByTestId('sign-in-hero')).toBeVisible();
  expect(await page.evaluate(() => localStorage.getItem('setlist.tokens'))).toBeNull();
});

test('a callback with a tampered state shows an error and sends no token request', async ({ page, request }) => {
  await page.goto('/');
  await page.getByTestId('sign-in-hero').click();
  await page.waitForURL((u) => u.href.startsWith(`${STAND_IN}/authorize`));
  // An attacker's authorization: same client, someone else's state.
  const authorize = new URL(page.url());
  authorize.searchParams.set('state', 'AAAAAAAAAAAAAAAAAAAAAA');
  await page.goto(authorize.toString());
  await page.getByTestId('consent-agree').click();

  await expect(page.getByTestId('error')).toBeVisible();
  await expect(page.getByTestId('error-message')).toContainText(/does not belong to the sign-in started in this tab/);
  expect(page.url()).not.toMatch(/[?&](code|state)=/);
  const log = await standInLog(request);
  expect(count(log, 'POST /api/token')).toBe(0);
  await expect(page.getByTestId('retry-sign-in')).toBeVisible();
});

test('declining consent explains what happened and offers a way back in', async ({ page, request }) => {
  await page.goto('/');
  await page.getByTestId('sign-in-hero').click();
  await page.waitForURL((u) => u.href.startsWith(`${STAND_IN}/authorize`));
  await page.getByTestId('consent-cancel').click();

  await expect(page.getByTestId('error-message')).toContainText(/declined/i);
  expect(count(await standInLog(request), 'POST /api/token')).toBe(0);
  await page.getByTestId('retry-sign-in').click();
  await page.waitForURL((u) => u.href.startsWith(`${STAND_IN}/authorize`));
});

test('an unreachable accounts service is reported, not a blank page', async ({ page }) => {
  await page.route(`${STAND_IN}/api/token`, (route) => route.abort('connectionrefused'));
  await page.goto('/');
  await page.getByTestId('sign-in-hero').click();
  await page.waitForURL((u) => u.href.startsWith(`${STAND_IN}/authorize`));
  await page.getByTestId('consent-agree').click();

  await expect(page.getByTestId('error-message')).toContainText(/Could not reach/);
  await expect(page.getByTestId('retry-sign-in')).toBeVisible();
  expect(page.url()).toBe(`${APP}/callback`);
});
