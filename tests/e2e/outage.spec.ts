import { test, expect, Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { control, count, resetLog, signIn, standInLog } from './support';

// A sink that is down for longer than an access token lives (three hours of simulated time) loses nothing: the
// real sink, started by `cargo xtask test e2e` with its file store, ends holding the newest refresh token, with
// refresh-token rotation on and off. The outage is played by page.route (connections refused); the clocks of the
// page and the stand-in move forward together.

const STORE = process.env.SETLIST_SINK_STORE!;
const HOUR = 3600;


test.afterEach(async ({ request }) => {
  await control(request, 'config', { rotate_refresh_tokens: false, access_token_lifetime_secs: 3600 });
  await control(request, 'clock', { offset_secs: 0 });
});

interface Stored {
  rt_sha256: string;
  generation: number;
  user_id: string;
}

function stored(user: string): Stored {
  return JSON.parse(readFileSync(join(STORE, `${user}.json`), 'utf8'));
}

async function browserTokens(page: Page): Promise<{ refresh_token: string; access_token: string }> {
  return JSON.parse((await page.evaluate(() => localStorage.getItem('setlist.tokens')))!);
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

for (const rotate of [false, true]) {
  test(`a three-hour sink outage ends with the newest refresh token stored, rotation ${rotate ? 'on' : 'off'}`, async ({ page, request }) => {
    test.setTimeout(180_000);
    await control(request, 'config', { rotate_refresh_tokens: rotate });
    let down = false;
    const answers: number[] = [];
    await page.route('**/api/tokens', async (route) => {
      if (down) return route.abort('connectionrefused');
      const response = await route.fetch();
      answers.push(response.status());
      return route.fulfill({ response });
    });
    const logs: string[] = [];
    page.on('console', (m) => logs.push(m.text()));

    await signIn(page);
    await expect(page.getByTestId('user-name')).toHaveText('Alice Fenwick');
    await expect(page.getByTestId('sync-status')).toHaveText('credentials synced');
    const first = stored('alice.setlist');
    expect(first.rt_sha256).toBe(sha256((await browserTokens(page)).refresh_token));

    // The sink goes down. Each hour the user comes back to the tab: the app refreshes (the token lapsed at
    // Spotify and in the page), and the push of the new tokens queues up behind the outage.
    down = true;
    const start = Date.now();
    await resetLog(request);
    for (let hour = 1; hour <= 3; hour++) {
      await control(request, 'clock', { offset_secs: hour * HOUR + 60 });
      await page.context().clock.setSystemTime(start + (hour * HOUR + 60) * 1000);
      if (hour < 3) {
        const before = (await browserTokens(page)).access_token;
        await page.evaluate(() => window.dispatchEvent(new Event('focus')));
        await expect.poll(async () => (await browserTokens(page)).access_token, { timeout: 30_000 }).not.toBe(before);
        await expect(page.getByTestId('sync-status')).toHaveText(/^sync pending/);
      }
    }
    // Hour three passes with nobody at the tab. (The outbox itself may refresh when its queued token is dead and a
    // retry is due: still a handful of token requests in three hours, never a storm.)
    const refreshes = count(await standInLog(request), 'POST /api/token');
    expect(refreshes).toBeGreaterThanOrEqual(2);
    expect(refreshes).toBeLessThanOrEqual(6);

    // The sink is back. The queued push is due within its backoff (at most five minutes): the page's clock moves
    // on so that the test need not wait, and the tab sends the chain with a fresh access token.
    down = false;
    await page.context().clock.setSystemTime(start + (3 * HOUR + 60 + 301) * 1000);
    await control(request, 'clock', { offset_secs: 3 * HOUR + 60 + 301 });
    await expect(page.getByTestId('sync-status')).toHaveText('credentials synced', { timeout: 60_000 });

    const tokens = await browserTokens(page);
    const last = stored('alice.setlist');
    expect(last.rt_sha256, 'the store holds the refresh token the browser holds').toBe(sha256(tokens.refresh_token));
    if (rotate) {
      expect(last.rt_sha256).not.toBe(first.rt_sha256);
      expect(last.generation).toBeGreaterThan(first.generation);
    }
    // Without rotation the refresh token never changed; the sink (on the real clock, hours behind the page's) may
    // keep the stored access token as still fresh, which is its rule.
    expect(answers.filter((s) => s === 409), 'never a conflict').toHaveLength(0);
    expect(answers.every((s) => s === 200 || s === 403), `answers ${answers}`).toBeTruthy();
    expect(JSON.parse((await page.evaluate(() => localStorage.getItem('setlist.outbox')))!).pending).toBeNull();
    for (const line of logs) expect(line).not.toContain(tokens.refresh_token);
  });
}
