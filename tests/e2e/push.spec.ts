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
  const sink = { phase: 'unavailable' as 'unavailable' | 'down' | 'up' | 'forbidden', seen: [] as Seen[] };
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
      case 'forbidden':
        return route.fulfill({
          status: 403,
          contentType: 'application/json',
          body: JSON.stringify({ error: 'forbidden', message: 'This Spotify account may not push tokens.' }),
        });
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
  sink.phase = 'forbidden';
  await page.route('**/api/tokens', handler);
  await signIn(page);
  await expect(page.getByTestId('sync-status')).toHaveText('sync failed: This Spotify account may not push tokens. (403)');
  await page.waitForTimeout(2_000);
  expect(sink.seen).toHaveLength(1);
  // Signing out leaves no token behind, queued ones included.
  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('sync-status')).toHaveCount(0);
  expect(await page.evaluate(() => localStorage.getItem('setlist.outbox'))).toBeNull();
});
