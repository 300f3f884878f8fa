import { test, expect, Page, APIRequestContext } from '@playwright/test';
import { STAND_IN, signIn } from './support';

// The stand-in's Web API, read directly with a token minted by its control API: what Spotify holds.
async function apiToken(request: APIRequestContext, user = 'alice.setlist'): Promise<string> {
  const r = await request.post(`${STAND_IN}/__control/tokens`, {
    data: { user_id: user, scope: 'playlist-read-private playlist-read-collaborative playlist-modify-private playlist-modify-public' },
  });
  expect(r.ok()).toBeTruthy();
  return (await r.json()).access_token;
}

async function storedItems(request: APIRequestContext, token: string, id: string): Promise<{ uri: string; name: string }[]> {
  const out: { uri: string; name: string }[] = [];
  for (let offset = 0; ; offset += 50) {
    const r = await request.get(`${STAND_IN}/v1/playlists/${id}/items?limit=50&offset=${offset}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(r.status()).toBe(200);
    const page = await r.json();
    for (const e of page.items) out.push({ uri: e.item.uri, name: e.item.name });
    if (offset + 50 >= page.total) return out;
  }
}

async function rowNames(page: Page): Promise<string[]> {
  return page.getByTestId('track-row').locator('[data-testid=track-name]').allTextContents();
}

test('create, add by search and by pasted links, reorder by keyboard and drag, remove, undo/redo, rename, save', async ({ page, request }) => {
  const token = await apiToken(request);
  // Two catalog tracks to paste, one as an open.spotify.com link, one as a URI.
  const found = await request.get(`${STAND_IN}/v1/search?q=love&type=track&limit=10`, { headers: { Authorization: `Bearer ${token}` } });
  expect(found.ok()).toBeTruthy();
  const tracks = (await found.json()).tracks.items as { id: string; uri: string; name: string }[];
  expect(tracks.length).toBeGreaterThanOrEqual(5);
  const [p1, p2] = tracks.slice(3, 5);

  await signIn(page);
  await expect(page.getByTestId('playlists-page')).toBeVisible();
  await expect(page.getByTestId('playlist-card').first()).toBeVisible();

  const name = `E2E Mix ${Date.now()}`;
  await page.getByTestId('new-playlist-name').fill(name);
  await page.getByTestId('create-playlist').click();
  await page.waitForURL(/\/playlist\/[A-Za-z0-9]{22}$/);
  const id = page.url().split('/').pop()!;
  await expect(page.getByTestId('item-count')).toHaveText('0 items');

  // Add three by search.
  await page.getByTestId('search-input').fill('love');
  await page.getByTestId('search-button').click();
  const hits = page.getByTestId('add-hit');
  await expect(hits.first()).toBeVisible();
  for (let i = 0; i < 3; i++) await hits.nth(i).click();
  await expect(page.getByTestId('track-row')).toHaveCount(3);
  await expect(page.getByTestId('dirty-state')).toHaveText('Unsaved changes');

  // Add two by pasting a link and a URI (and one line that is neither, which is reported).
  await page.getByTestId('paste-input').fill(`https://open.spotify.com/track/${p1.id}?si=abc\n${p2.uri}\nnot-a-track`);
  await page.getByTestId('paste-add').click();
  await expect(page.getByTestId('paste-note')).toContainText('Used 2 items; skipped what is not a Spotify track link or URI: not-a-track');
  await expect(page.getByTestId('track-row')).toHaveCount(5);
  const afterAdd = await rowNames(page);

  // Keyboard: first row down one place.
  await page.getByTestId('track-row').nth(0).focus();
  await page.keyboard.press('Alt+ArrowDown');
  const afterKey = [afterAdd[1], afterAdd[0], ...afterAdd.slice(2)];
  await expect.poll(() => rowNames(page)).toEqual(afterKey);
  // Focus stays on the moved row (restored on the next animation frame), so the key can be pressed again.
  const rows = page.getByTestId('track-row');
  await expect(rows.nth(1)).toBeFocused();
  await page.keyboard.press('Alt+ArrowDown');
  await expect.poll(() => rowNames(page)).toEqual([afterAdd[1], afterAdd[2], afterAdd[0], ...afterAdd.slice(3)]);
  await expect(rows.nth(2)).toBeFocused();
  await page.keyboard.press('Alt+ArrowUp');
  await expect.poll(() => rowNames(page)).toEqual(afterKey);

  // Drag: the last row onto the first puts it first.
  await page.getByTestId('track-row').nth(4).dragTo(page.getByTestId('track-row').nth(0));
  const afterDrag = await rowNames(page);
  expect(afterDrag).toEqual([afterKey[4], ...afterKey.slice(0, 4)]);

  // Remove the second row through its checkbox and the toolbar.
  await page.getByTestId('track-row').nth(1).locator('input[type=checkbox]').check();
  await page.getByTestId('remove-selected').click();
  const afterRemove = await rowNames(page);
  expect(afterRemove).toEqual([afterDrag[0], ...afterDrag.slice(2)]);

  // Undo brings it back, redo removes it again.
  await page.getByTestId('undo').click();
  expect(await rowNames(page)).toEqual(afterDrag);
  await page.getByTestId('redo').click();
  expect(await rowNames(page)).toEqual(afterRemove);

  // Rename.
  await page.getByTestId('playlist-title').fill(`${name} (renamed)`);
  await page.getByTestId('playlist-title').press('Tab');

  await page.getByTestId('save').click();
  await expect(page.getByTestId('notice')).toContainText('Verified');
  await expect(page.getByTestId('dirty-state')).toHaveText('All changes saved');

  // Spotify's (the stand-in's) copy equals what the page shows.
  const stored = await storedItems(request, token, id);
  expect(stored.map((s) => s.name)).toEqual(await rowNames(page));
  expect(stored.map((s) => s.uri)).toContain(p1.uri);
  expect(stored.map((s) => s.uri)).toContain(p2.uri);
  const meta = await request.get(`${STAND_IN}/v1/playlists/${id}?fields=name`, { headers: { Authorization: `Bearer ${token}` } });
  expect((await meta.json()).name).toBe(`${name} (renamed)`);
});

test('a 10,000-item playlist loads with a progress bar and keeps at most 100 rows in the DOM', async ({ page }) => {
  await signIn(page);
  await page.getByTestId('playlist-card').filter({ hasText: 'Everything, Ever' }).click();
  await expect(page.getByTestId('load-progress')).toBeVisible();
  await expect(page.getByTestId('item-count')).toHaveText('10000 items', { timeout: 30_000 });
  const rows = await page.getByTestId('track-row').count();
  expect(rows).toBeGreaterThan(5);
  expect(rows).toBeLessThanOrEqual(100);

  // Scroll to the end: the last item is rendered, and still only a window of rows exists.
  await page.getByTestId('track-list').evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(page.locator('[data-testid=track-row][data-index="9999"]')).toBeVisible();
  expect(await page.getByTestId('track-row').count()).toBeLessThanOrEqual(100);
});

test('a playlist the user does not own opens read-only with the reason', async ({ page }) => {
  await signIn(page);
  const cards = page.getByTestId('playlist-card');
  await expect(cards.first()).toBeVisible();
  // Bruno's playlist that Alice follows.
  const foreign = cards.filter({ hasText: 'Bruno' }).first();
  await foreign.click();
  await expect(page.getByTestId('read-only')).toContainText('Read-only');
  await expect(page.getByTestId('save')).toBeDisabled();
  await expect(page.getByTestId('playlist-title')).toBeDisabled();
});

test('a playlist changed elsewhere is not overwritten: the page says so and re-applies the edits on reload', async ({ page, request }) => {
  const token = await apiToken(request);
  const auth = { Authorization: `Bearer ${token}` };
  // A fresh playlist of 3 tracks, so the test owns everything it checks.
  const created = await request.post(`${STAND_IN}/v1/me/playlists`, { headers: auth, data: { name: `Conflict ${Date.now()}`, public: false } });
  expect(created.status()).toBe(201);
  const id = (await created.json()).id as string;
  const found = await request.get(`${STAND_IN}/v1/search?q=night&type=track&limit=10`, { headers: auth });
  const uris = ((await found.json()).tracks.items as { uri: string }[]).map((t) => t.uri);
  expect((await request.post(`${STAND_IN}/v1/playlists/${id}/items`, { headers: auth, data: { uris: uris.slice(0, 3) } })).status()).toBe(201);

  await signIn(page);
  await page.goto(`/playlist/${id}`);
  await expect(page.getByTestId('track-row')).toHaveCount(3);
  // The user removes the first track...
  await page.getByTestId('track-row').nth(0).locator('input[type=checkbox]').check();
  await page.getByTestId('remove-selected').click();
  await expect(page.getByTestId('track-row')).toHaveCount(2);
  // ...while another device adds one.
  expect((await request.post(`${STAND_IN}/v1/playlists/${id}/items`, { headers: auth, data: { uris: [uris[5]] } })).status()).toBe(201);

  await page.getByTestId('save').click();
  await expect(page.getByTestId('conflict')).toBeVisible();
  // Nothing was written by the refused save.
  let stored = await storedItems(request, token, id);
  expect(stored.map((s) => s.uri)).toEqual([...uris.slice(0, 3), uris[5]]);

  await page.getByTestId('reload-keep').click();
  await expect(page.getByTestId('notice')).toContainText('re-applied 1');
  await expect(page.getByTestId('track-row')).toHaveCount(3);
  await page.getByTestId('save').click();
  await expect(page.getByTestId('notice')).toContainText('Verified');
  stored = await storedItems(request, token, id);
  expect(stored.map((s) => s.uri)).toEqual([uris[1], uris[2], uris[5]]);
});

test('an address that names no playlist says so and sends nothing to Spotify', async ({ page }) => {
  await signIn(page);
  await expect(page.getByTestId('playlists-page')).toBeVisible();
  const sent: string[] = [];
  page.on('request', (r) => { if (r.url().includes('/v1/playlists/')) sent.push(r.url()); });
  await page.goto('/playlist/not%20a%20playlist!');
  await expect(page.getByText('Could not open this playlist')).toBeVisible();
  await expect(page.getByText('This is not a playlist address')).toBeVisible();
  expect(sent).toEqual([]);
});

test("the editor's code comes while the playlists page is read, once, and opening a playlist does not fetch it", async ({ page }) => {
  // The editor is a wasm chunk of its own (xtask/src/split.rs), not part of the first visit's download.
  const chunks: string[] = [];
  page.on('request', (r) => { if (/-(split|chunk)_[a-z0-9_]+\.wasm$/.test(r.url())) chunks.push(new URL(r.url()).pathname); });
  await signIn(page);
  await expect(page.getByTestId('playlist-card').first()).toBeVisible();
  await expect.poll(() => chunks.some((c) => c.endsWith('-split_playlist_page.wasm'))).toBe(true);
  expect(chunks.some((c) => c.endsWith('-split_tools_panel.wasm')), 'the tools come only when opened').toBe(false);
  const prefetched = chunks.length;
  await page.getByTestId('playlist-card').first().click();
  await expect(page.getByTestId('playlist-page')).toBeVisible();
  expect(chunks.length).toBe(prefetched);
  await page.getByTestId('toggle-tools').click();
  await expect(page.getByTestId('tools')).toBeVisible();
  expect(chunks.filter((c) => c.endsWith('-split_tools_panel.wasm')).length).toBe(1);
});
