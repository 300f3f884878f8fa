import { test, expect, Page, APIRequestContext } from '@playwright/test';
import * as fs from 'fs';
import { STAND_IN, signIn } from '../support';

// Each measurement is one JSON line in $SETLIST_BENCH_OUT; xtask turns them into the table.
function record(row: Record<string, unknown>) {
  fs.appendFileSync(process.env.SETLIST_BENCH_OUT!, JSON.stringify(row) + '\n');
}

const LATENCY_MS = 50;
const PAGE = 50;
const CONCURRENCY = 6; // src/data.rs CONCURRENCY

async function control(request: APIRequestContext, path: string, data: unknown) {
  const r = await request.post(`${STAND_IN}/__control/${path}`, { data });
  expect(r.ok(), `${path}: ${r.status()}`).toBeTruthy();
  return r.json().catch(() => ({}));
}

async function timeLoad(page: Page, id: string, n: number): Promise<number> {
  const t0 = Date.now();
  await page.goto(`/playlist/${id}`);
  await expect(page.getByTestId('item-count')).toHaveText(`${n} items`, { timeout: 300_000 });
  return Date.now() - t0;
}

/** What the other Spotify libraries do: one page after another, each waiting for the last. */
async function sequentialPaging(page: Page, id: string, n: number): Promise<number> {
  return page.evaluate(
    async ({ id, n, standIn }) => {
      const token = JSON.parse(localStorage.getItem('setlist.tokens')!).access_token;
      const t0 = performance.now();
      for (let offset = 0; offset < n; offset += 50) {
        const r = await fetch(`${standIn}/v1/playlists/${id}/items?limit=50&offset=${offset}`, { headers: { Authorization: `Bearer ${token}` } });
        await r.json();
      }
      return performance.now() - t0;
    },
    { id, n, standIn: STAND_IN },
  );
}

test('first render of the playlists page', async ({ page }) => {
  await signIn(page);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    await page.goto('/');
    await expect(page.getByTestId('playlist-card').first()).toBeVisible();
    // ms from navigation start until the first card is in the DOM.
    samples.push(await page.evaluate(() => {
      const card = document.querySelector('[data-testid=playlist-card]');
      const entry = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return card ? performance.now() - entry.startTime : -1;
    }));
  }
  samples.sort((a, b) => a - b);
  record({ metric: 'first_render_ms', value: samples[Math.floor(samples.length / 2)], samples });
});

test('large playlist loads vs the network bound and sequential paging', async ({ page, request }) => {
  await signIn(page);
  await control(request, 'config', { latency_ms: LATENCY_MS });
  try {
    for (const n of [1000, 10000, 100000]) {
      const made = await control(request, 'playlists', { owner: 'alice.setlist', name: `Bench ${n}`, size: n });
      const id = made.id as string;
      const pages = Math.ceil(n / PAGE);
      // First page alone (it gives the total), then the rest C at a time; plus the metadata and snapshot reads.
      const bound = (1 + Math.ceil((pages - 1) / CONCURRENCY)) * LATENCY_MS;
      const ms = await timeLoad(page, id, n);
      // On a playlist of its own: the browser caches CORS preflights per URL, so paging the one just loaded would
      // skip the preflight round trip that the app's load paid on every page.
      let seq = null;
      if (n <= 10000) {
        const other = await control(request, 'playlists', { owner: 'alice.setlist', name: `Bench ${n} sequential`, size: n });
        seq = await sequentialPaging(page, other.id as string, n);
      }
      record({ metric: 'load', n, ms, bound_ms: bound, sequential_ms: seq });
    }
  } finally {
    await control(request, 'config', { latency_ms: 0 });
  }
});

test('scrolling a 10,000-item playlist', async ({ page, request }) => {
  await signIn(page);
  const made = await control(request, 'playlists', { owner: 'alice.setlist', name: 'Bench scroll', size: 10000 });
  await timeLoad(page, made.id, 10000);
  const result = await page.evaluate(async () => {
    const list = document.querySelector('[data-testid=track-list]') as HTMLElement;
    const frames: number[] = [];
    let maxRows = 0;
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      list.scrollTop += 160;
      list.dispatchEvent(new Event('scroll'));
      // Leptos updates the DOM in microtasks: wait for them with a macrotask (MessageChannel, no timer clamp),
      // then force style and layout as the frame would.
      await new Promise((r) => { const c = new MessageChannel(); c.port1.onmessage = r; c.port2.postMessage(0); });
      void list.querySelector('[data-testid=track-row]')?.getBoundingClientRect();
      frames.push(performance.now() - t0);
      maxRows = Math.max(maxRows, list.querySelectorAll('[data-testid=track-row]').length);
      await new Promise((r) => requestAnimationFrame(() => r(null)));
    }
    frames.sort((a, b) => a - b);
    return { p95: frames[Math.floor(frames.length * 0.95)], p50: frames[Math.floor(frames.length / 2)], maxRows };
  });
  record({ metric: 'scroll', ...result });
});
