import { test, expect, Page, Request } from '@playwright/test';
import { signIn } from './support';

// A visitor's tokens never leave their browser unless the site stores that account. `cargo xtask test e2e`
// serves a config.json that lists alice and bruno (as SHA-256 of their ids) and starts the sink allowing the same
// two; chen is a visitor.

function countPushes(page: Page) {
  const pushes: Request[] = [];
  page.context().on('request', (r) => {
    if (new URL(r.url()).pathname === '/api/tokens') pushes.push(r);
  });
  return pushes;
}

function consoleErrors(page: Page) {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return errors;
}

test('a visitor not on the list signs in, browses and refreshes in two tabs: nothing is pushed', async ({ page }) => {
  test.setTimeout(120_000);
  const pushes = countPushes(page);
  const errors = consoleErrors(page);
  await signIn(page, 'chen.setlist');
  await expect(page.getByTestId('user-name')).not.toHaveText('…');
  const second = await page.context().newPage();
  await second.goto('/');
  await expect(second.getByTestId('user-name')).toHaveText(await page.getByTestId('user-name').innerText());
  // Both tabs' access tokens lapse: the next calls refresh (one token request for the origin).
  const start = Date.now();
  await page.context().clock.setSystemTime(start + 3700 * 1000);
  for (const p of [page, second]) {
    const answered = p.waitForResponse((r) => new URL(r.url()).pathname === '/v1/me' && r.status() === 200);
    await p.evaluate(() => window.dispatchEvent(new Event('focus')));
    await answered;
  }
  await page.waitForTimeout(2_000);
  expect(pushes, 'no request to the push URL').toHaveLength(0);
  for (const p of [page, second]) await expect(p.getByTestId('sync-status')).toHaveCount(0);
  expect(await page.evaluate(() => localStorage.getItem('setlist.outbox') ?? 'null')).not.toContain('"pending":{');
  expect(errors, 'no console error').toEqual([]);
});

test('a listed user pushes as before', async ({ page }) => {
  const pushes = countPushes(page);
  await signIn(page, 'bruno.setlist');
  await expect(page.getByTestId('sync-status')).toHaveText('credentials synced');
  expect(pushes.length).toBe(1);
});

test('a stale config (listed here, not at the sink): one refused push, then none, and a quiet line', async ({ page }) => {
  test.setTimeout(90_000);
  // The page's config.json also lists chen; the sink does not allow chen.
  await page.route('**/config.json', async (route) => {
    const response = await route.fetch();
    const config = await response.json();
    const { createHash } = await import('node:crypto');
    config.stored_accounts = [...(config.stored_accounts ?? []), createHash('sha256').update('chen.setlist').digest('hex')];
    await route.fulfill({ response, json: config });
  });
  const pushes = countPushes(page);
  const errors = consoleErrors(page);
  await signIn(page, 'chen.setlist');
  const status = page.getByTestId('sync-status');
  await expect(status).toHaveText('this account is not stored by this site');
  await expect(status).toHaveAttribute('data-state', 'not-stored');
  await page.screenshot({ path: 'test-results/screens/not-stored-1280x720.png' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: 'test-results/screens/not-stored-390x844.png' });
  await page.setViewportSize({ width: 1280, height: 720 });
  // A refresh of the same sign-in pushes nothing more.
  await page.context().clock.setSystemTime(Date.now() + 3700 * 1000);
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/me' && r.status() === 200);
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await answered;
  await page.waitForTimeout(2_000);
  expect(pushes, 'one refused push, then none').toHaveLength(1);
  const outbox = JSON.parse((await page.evaluate(() => localStorage.getItem('setlist.outbox')))!);
  expect(outbox.pending, 'nothing queued').toBeNull();
  expect(errors.filter((e) => !e.includes('403')), 'no console error').toEqual([]);
});
