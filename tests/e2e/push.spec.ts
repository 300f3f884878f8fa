import { test, expect, Request, Route } from '@playwright/test';
import { createHash } from 'node:crypto';
import { signIn } from './support';

// The durable token push: the sink is played by page.route so that it can be unavailable, then down, then back
// on cue. (The real sink has its own tests; here what matters is what the app sends and when.)

interface Seen {
  at: number;
  phase: string;
  body: string;
  headers: Record<string, string>;
}

/** A scripted sink at `**\/api/tokens`: answers by `phase`, records every request it saw. */
function fakeSink() {
  const sink = {
    phase: 'unavailable' as 'unavailable' | 'down' | 'up' | 'not-allowed' | 'invalid' | 'cdn-403',
    seen: [] as Seen[],
  };
  const handler = async (route: Route, request: Request) => {
    sink.seen.push({ at: Date.now(), phase: sink.phase, body: request.postData() ?? '', headers: await request.allHeaders() });
    switch (sink.phase) {
      case 'unavailable':
        return route.fulfill({
          status: 503,
          headers: { 'retry-after': '1' },
          contentType: 'application/json',
          body: JSON.stringify({ error: 'unavailable', message: 'Spotify could not be reached; try again shortly.' }),
        });
      case 'down':
        return route.abort('connectionrefused');
      case 'not-allowed':
        return route.fulfill({
          status: 403,
          contentType: 'application/json',
          body: JSON.stringify({ error: 'user_not_allowed', message: 'user alice.setlist may not push tokens here' }),
        });
      case 'invalid':
        return route.fulfill({
          status: 400,
          contentType: 'application/json',
          body: JSON.stringify({ error: 'invalid_push', message: 'the body is not a token push: scope must be space-separated scope names' }),
        });
      case 'cdn-403':
        // What CloudFront or a Lambda front answers: not the sink's own JSON, so not a refusal of this push.
        return route.fulfill({ status: 403, contentType: 'text/html', body: '<html><body><h1>403 ERROR</h1>The request could not be satisfied.</body></html>' });
      case 'up':
        return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ status: 'stored' }) });
    }
  };
  const count = (phase: string) => sink.seen.filter((s) => s.phase === phase).length;
  return { sink, handler, count };
}

test('a push survives 503s, an outage and a reload, and arrives once', async ({ page }) => {
  test.setTimeout(120_000);
  const logs: string[] = [];
  page.on('console', (m) => logs.push(m.text()));
  const { sink, handler, count } = fakeSink();
  await page.route('**/api/tokens', handler);

  await signIn(page);
  await expect(page.getByTestId('user-name')).toHaveText('Alice Fenwick');

  // Unavailable: retried after Retry-After, with the countdown showing.
  await expect(page.getByTestId('sync-status')).toHaveText(/^sync pending, retrying in \d+ s$/);
  await expect.poll(() => count('unavailable'), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
  const [first, second] = sink.seen;
  expect(second.at - first.at, 'Retry-After: 1 is honoured').toBeGreaterThanOrEqual(900);

  // Down: connections refused.
  sink.phase = 'down';
  await expect.poll(() => count('down'), { timeout: 30_000 }).toBeGreaterThanOrEqual(1);

  // A reload: the push is still queued, and the page says so.
  await page.reload();
  await expect(page.getByTestId('user-name')).toHaveText('Alice Fenwick');
  await expect(page.getByTestId('sync-status')).toHaveText(/^sync pending/);
  expect(await page.evaluate(() => localStorage.getItem('setlist.outbox'))).toContain('"pending":{');

  // Back: it arrives.
  sink.phase = 'up';
  await expect(page.getByTestId('sync-status')).toHaveText('credentials synced', { timeout: 60_000 });
  // Once: nothing more is sent after the 200.
  await page.waitForTimeout(3_000);
  expect(count('up')).toBe(1);

  const delivered = sink.seen.find((s) => s.phase === 'up')!;
  const tokens = JSON.parse((await page.evaluate(() => localStorage.getItem('setlist.tokens')))!);
  const body = JSON.parse(delivered.body);
  expect(Object.keys(body).sort()).toEqual(
    ['access_token', 'authorized_at', 'expires_at', 'prev_refresh_sha256', 'refresh_token', 'scope'],
  );
  expect(body.access_token).toBe(tokens.access_token);
  expect(body.refresh_token).toBe(tokens.refresh_token);
  expect(body.expires_at).toBe(tokens.expires_at);
  expect(body.authorized_at).toBe(tokens.authorized_at);
  expect(body.prev_refresh_sha256, 'a sign-in starts a chain').toBeNull();
  expect(delivered.headers['content-type']).toBe('application/json');
  expect(delivered.headers['x-amz-content-sha256']).toBe(createHash('sha256').update(delivered.body).digest('hex'));
  // Every attempt carried the same push.
  for (const s of sink.seen) expect(s.body).toBe(delivered.body);
  // It survives a reload as "synced", and the queue is empty.
  await page.reload();
  await expect(page.getByTestId('sync-status')).toHaveText('credentials synced');
  expect(JSON.parse((await page.evaluate(() => localStorage.getItem('setlist.outbox')))!).pending).toBeNull();

  for (const line of logs) {
    expect(line).not.toContain(tokens.access_token);
    expect(line).not.toContain(tokens.refresh_token);
  }
});

test('a push the sink refuses is dropped and the reason shown', async ({ page }) => {
  const { sink, handler } = fakeSink();
  sink.phase = 'invalid';
  await page.route('**/api/tokens', handler);
  await signIn(page);
  await expect(page.getByTestId('sync-status')).toHaveText(
    'sync failed: the body is not a token push: scope must be space-separated scope names (400)',
  );
  await page.waitForTimeout(2_000);
  expect(sink.seen).toHaveLength(1);
  // Signing out leaves no token behind, queued ones included.
  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('sync-status')).toHaveCount(0);
  expect(await page.evaluate(() => localStorage.getItem('setlist.outbox'))).toBeNull();
});

test('an account the sink does not store gets a quiet line, one push and nothing queued', async ({ page }) => {
  const { sink, handler } = fakeSink();
  sink.phase = 'not-allowed';
  await page.route('**/api/tokens', handler);
  await signIn(page);
  const status = page.getByTestId('sync-status');
  await expect(status).toHaveText('this account is not stored by this site');
  await expect(status).toHaveAttribute('data-state', 'not-stored');
  await page.waitForTimeout(2_000);
  expect(sink.seen).toHaveLength(1);
  expect(JSON.parse((await page.evaluate(() => localStorage.getItem('setlist.outbox')))!).pending).toBeNull();
});

test('a CDN 403 page, not the sink answer, is retried, not dropped', async ({ page }) => {
  const { sink, handler, count } = fakeSink();
  sink.phase = 'cdn-403';
  await page.route('**/api/tokens', handler);
  await signIn(page);
  await expect(page.getByTestId('sync-status')).toHaveText(/^sync pending/);
  await expect.poll(() => count('cdn-403'), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
  sink.phase = 'up';
  // The backoff after two failures is a few seconds; a reload makes the tab try at once.
  await page.reload();
  await expect(page.getByTestId('sync-status')).toHaveText('credentials synced', { timeout: 60_000 });
});

test('signing out delivers a pending push first', async ({ page }) => {
  const { sink, handler, count } = fakeSink();
  sink.phase = 'down';
  await page.route('**/api/tokens', handler);
  await signIn(page);
  await expect(page.getByTestId('sync-status')).toHaveText(/^sync pending, retrying/);
  const pending = JSON.parse((await page.evaluate(() => localStorage.getItem('setlist.outbox')))!).pending;
  expect(pending).not.toBeNull();
  // The sink comes back while the push waits out its backoff; the user signs out right then.
  sink.phase = 'up';
  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('sign-in')).toBeVisible();
  expect(count('up'), 'the pending push went out before the browser was cleared').toBe(1);
  const delivered = sink.seen.find((s) => s.phase === 'up')!;
  expect(JSON.parse(delivered.body).refresh_token).toBe(pending.push.refresh_token);
  expect(await page.evaluate(() => localStorage.getItem('setlist.outbox'))).toBeNull();
  expect(await page.evaluate(() => localStorage.getItem('setlist.tokens'))).toBeNull();
});
