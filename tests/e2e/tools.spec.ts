import { test, expect, Page, APIRequestContext } from '@playwright/test';
import * as fs from 'fs';
import { STAND_IN, signIn } from './support';

// The curation tools on the stand-in: each previews what it will do and what saving costs, applies as one edit
// (one undo), and after Save the stand-in holds exactly what the page shows. Screenshots of each preview at
// desktop and phone size go to test-results/screens/tools-*.png.

const SCOPE = 'playlist-read-private playlist-read-collaborative playlist-modify-private playlist-modify-public';

async function apiToken(request: APIRequestContext): Promise<string> {
  const r = await request.post(`${STAND_IN}/__control/tokens`, { data: { user_id: 'alice.setlist', scope: SCOPE } });
  expect(r.ok()).toBeTruthy();
  return (await r.json()).access_token;
}

interface Item { uri: string; name: string; artists: string }

async function storedItems(request: APIRequestContext, token: string, id: string): Promise<Item[]> {
  const out: Item[] = [];
  for (let offset = 0; ; offset += 50) {
    const r = await request.get(`${STAND_IN}/v1/playlists/${id}/items?limit=50&offset=${offset}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(r.status()).toBe(200);
    const page = await r.json();
    for (const e of page.items) {
      out.push({ uri: e.item.uri, name: e.item.name, artists: e.item.artists.map((a: { name: string }) => a.name).join(', ') });
    }
    if (offset + 50 >= page.total) return out;
  }
}

/** A new playlist of Alice's holding `uris` (in order, duplicates kept); its id. */
async function playlistWith(request: APIRequestContext, token: string, name: string, uris: string[]): Promise<string> {
  const headers = { Authorization: `Bearer ${token}` };
  const created = await request.post(`${STAND_IN}/v1/me/playlists`, { headers, data: { name, public: false } });
  expect(created.status()).toBe(201);
  const id = (await created.json()).id as string;
  for (let i = 0; i < uris.length; i += 100) {
    const r = await request.post(`${STAND_IN}/v1/playlists/${id}/items`, { headers, data: { uris: uris.slice(i, i + 100) } });
    expect(r.status()).toBe(201);
  }
  return id;
}

/** Catalog tracks from a search, distinct. */
async function catalog(request: APIRequestContext, token: string, q: string, n: number): Promise<Item[]> {
  const r = await request.get(`${STAND_IN}/v1/search?q=${q}&type=track&limit=10`, { headers: { Authorization: `Bearer ${token}` } });
  expect(r.ok()).toBeTruthy();
  const items = (await r.json()).tracks.items as { uri: string; name: string; artists: { name: string }[] }[];
  expect(items.length).toBeGreaterThanOrEqual(n);
  return items.slice(0, n).map((t) => ({ uri: t.uri, name: t.name, artists: t.artists.map((a) => a.name).join(', ') }));
}

async function open(page: Page, id: string) {
  await page.goto(`/playlist/${id}`);
  await expect(page.getByTestId('track-row').first()).toBeVisible();
}

async function rowNames(page: Page): Promise<string[]> {
  return page.getByTestId('track-row').locator('[data-testid=track-name]').allTextContents();
}

/** Screenshots of what is on screen now at 1280x800 and 390x844 (the tools panel scrolled into view). */
async function shoot(page: Page, name: string) {
  for (const [w, h] of [[1280, 800], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    // Into view below the sticky bars (the panel's scroll-margin-top).
    await page.getByTestId('tools').evaluate((el) => el.scrollIntoView({ block: 'start' }));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} at ${w}px scrolls sideways`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `test-results/screens/tools-${name}-${w}x${h}.png` });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function saveAndCheck(page: Page, request: APIRequestContext, token: string, id: string) {
  await page.getByTestId('save').click();
  await expect(page.getByTestId('dirty-state')).toHaveText('All changes saved', { timeout: 30_000 });
  await expect(page.getByTestId('notice')).toContainText('Verified');
  const stored = await storedItems(request, token, id);
  expect(stored.map((i) => i.name)).toEqual(await rowNames(page));
  return stored;
}

test('duplicates: grouped, the kept copy can be changed, one undo, saved', async ({ page, request }) => {
  const token = await apiToken(request);
  const [a, b, c, d] = await catalog(request, token, 'love', 4);
  const id = await playlistWith(request, token, 'Dupes', [a.uri, b.uri, a.uri, c.uri, b.uri, d.uri, a.uri].map((u) => u));
  await signIn(page);
  await open(page, id);
  await page.getByTestId('toggle-tools').click();
  await expect(page.getByTestId('dupes-summary')).toContainText('2 groups of duplicates: 3 copies to remove');
  await expect(page.getByTestId('dupes-group')).toHaveCount(2);
  // Keep the last copy of the first group instead of the first.
  await page.getByTestId('dupes-group').first().getByTestId('dupes-keep').nth(2).check();
  await shoot(page, 'duplicates');
  await page.getByTestId('dupes-apply').click();
  await expect(page.getByTestId('item-count')).toHaveText('4 items');
  expect(await rowNames(page)).toEqual([b.name, c.name, d.name, a.name]);
  await page.getByTestId('undo').click();
  await expect(page.getByTestId('item-count')).toHaveText('7 items');
  await page.getByTestId('redo').click();
  const stored = await saveAndCheck(page, request, token, id);
  expect(stored.map((i) => i.uri)).toEqual([b.uri, c.uri, d.uri, a.uri]);
});

test('sort: by title and reversed, on the list and on a selection, saved', async ({ page, request }) => {
  const token = await apiToken(request);
  const tracks = await catalog(request, token, 'night', 6);
  const id = await playlistWith(request, token, 'To sort', tracks.map((t) => t.uri));
  await signIn(page);
  await open(page, id);
  await page.getByTestId('toggle-tools').click();
  await page.getByTestId('tool-sort').click();
  await page.getByTestId('sort-key').selectOption('Title');
  await expect(page.getByTestId('sort-summary')).toContainText('Saving then takes');
  await shoot(page, 'sort');
  await page.getByTestId('sort-apply').click();
  const byTitle = [...tracks.map((t) => t.name)].sort((x, y) => x.toLowerCase().localeCompare(y.toLowerCase()));
  // Stable sort by lower-cased title; localeCompare agrees with it on these plain names.
  expect(await rowNames(page)).toEqual(byTitle);
  await page.getByTestId('reverse-apply').click();
  expect(await rowNames(page)).toEqual([...byTitle].reverse());
  // The first two rows only: selected, reversed among their places.
  await page.getByTestId('track-row').nth(0).locator('input[type=checkbox]').check();
  await page.getByTestId('track-row').nth(1).locator('input[type=checkbox]').check();
  await expect(page.getByTestId('sort-selected')).toBeChecked();
  await page.getByTestId('reverse-apply').click();
  const expected = [...byTitle].reverse();
  [expected[0], expected[1]] = [expected[1], expected[0]];
  expect(await rowNames(page)).toEqual(expected);
  await saveAndCheck(page, request, token, id);
});

test('filter: as you type, select what is shown, remove it, saved', async ({ page, request }) => {
  const token = await apiToken(request);
  const tracks = [...(await catalog(request, token, 'love', 5)), ...(await catalog(request, token, 'night', 5))];
  const id = await playlistWith(request, token, 'To filter', tracks.map((t) => t.uri));
  const word = tracks[0].name.split(' ')[0];
  const matching = tracks.filter((t) => `${t.name}\n${t.artists}`.toLowerCase().includes(word.toLowerCase()));
  await signIn(page);
  await open(page, id);
  await page.getByTestId('filter-input').fill(word.toUpperCase());
  await expect(page.getByTestId('filter-count')).toHaveText(`${matching.length} shown`);
  for (const name of await rowNames(page)) expect(matching.map((t) => t.name)).toContain(name);
  await page.getByTestId('filter-input').fill('zzzz no such thing');
  await expect(page.getByTestId('filter-empty')).toBeVisible();
  await page.getByTestId('filter-input').fill(word);
  await page.getByTestId('select-shown').click();
  await page.getByTestId('remove-selected').click();
  await expect(page.getByTestId('filter-empty')).toBeVisible();
  await page.getByTestId('filter-input').fill('');
  await expect(page.getByTestId('item-count')).toHaveText(`${tracks.length - matching.length} items`);
  const stored = await saveAndCheck(page, request, token, id);
  expect(stored.length).toBe(tracks.length - matching.length);
});

test('export as CSV and JSON, then restore a changed list from the export, saved', async ({ page, request }) => {
  const token = await apiToken(request);
  const tracks = await catalog(request, token, 'love', 6);
  const id = await playlistWith(request, token, 'Backed up', tracks.map((t) => t.uri));
  await signIn(page);
  await open(page, id);
  await page.getByTestId('toggle-tools').click();
  await page.getByTestId('tool-backup').click();
  const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  expect(csvDownload.suggestedFilename()).toBe('Backed-up.csv');
  const csvPath = test.info().outputPath('export.csv');
  await csvDownload.saveAs(csvPath);
  const csv = fs.readFileSync(csvPath, 'utf8');
  const lines = csv.trim().split('\r\n');
  expect(lines[0]).toBe('position,title,artists,album,duration_ms,isrc,uri,added_at,added_by');
  expect(lines.length).toBe(tracks.length + 1);
  expect(lines[1]).toContain(tracks[0].uri);
  expect(lines[1]).toMatch(/,[A-Z]{2}[A-Z0-9]{3}\d{7},/); // the ISRC
  const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
  const json = JSON.parse(fs.readFileSync(await jsonDownload.path(), 'utf8'));
  expect(json.playlist.name).toBe('Backed up');
  expect(json.items.map((i: { uri: string }) => i.uri)).toEqual(tracks.map((t) => t.uri));

  // Change the list, then restore the export: the list is back as it was, one planned edit.
  await page.getByTestId('track-row').nth(0).locator('input[type=checkbox]').check();
  await page.getByTestId('track-row').nth(3).locator('input[type=checkbox]').check();
  await page.getByTestId('remove-selected').click();
  await expect(page.getByTestId('item-count')).toHaveText('4 items');
  await page.getByTestId('restore-file').setInputFiles(csvPath);
  await expect(page.getByTestId('restore-summary')).toContainText('export.csv lists 6 items');
  await shoot(page, 'restore');
  await page.getByTestId('restore-apply').click();
  expect(await rowNames(page)).toEqual(tracks.map((t) => t.name));
  await expect(page.getByTestId('dirty-state')).toHaveText('All changes saved');
  // A file that is not an export gets a clear error and changes nothing.
  await page.getByTestId('restore-file').setInputFiles({ name: 'notes.csv', mimeType: 'text/csv', buffer: Buffer.from('title,artist\nfoo,bar\n') });
  await expect(page.getByTestId('restore-summary')).toContainText('notes.csv: the CSV has no column of track URIs');
  await expect(page.getByTestId('restore-apply')).toBeDisabled();
});

test('merge another playlist skipping duplicates, and a new playlist from the selection', async ({ page, request }) => {
  const token = await apiToken(request);
  const [a, b, c, d] = await catalog(request, token, 'night', 4);
  const id = await playlistWith(request, token, 'Merge into', [a.uri, b.uri]);
  await playlistWith(request, token, 'Merge from', [b.uri, c.uri, d.uri, c.uri]);
  await signIn(page);
  await open(page, id);
  await page.getByTestId('toggle-tools').click();
  await page.getByTestId('tool-merge').click();
  await page.getByTestId('merge-source').selectOption({ label: 'Merge from (4 items)' });
  await page.getByTestId('merge-load').click();
  await expect(page.getByTestId('merge-summary')).toContainText('Appends 2 items from Merge from (2 already here skipped');
  await shoot(page, 'merge');
  await page.getByTestId('merge-apply').click();
  expect(await rowNames(page)).toEqual([a.name, b.name, c.name, d.name]);
  const stored = await saveAndCheck(page, request, token, id);
  expect(stored.map((i) => i.uri)).toEqual([a.uri, b.uri, c.uri, d.uri]);

  // New playlist from rows 2 and 4.
  await page.getByTestId('track-row').nth(1).locator('input[type=checkbox]').check();
  await page.getByTestId('track-row').nth(3).locator('input[type=checkbox]').check();
  await page.getByTestId('new-from-selection-name').fill('Picked');
  await page.getByTestId('new-from-selection').click();
  await expect(page.getByTestId('notice')).toContainText('Created “Picked” with 2 items');
  const created = (await page.getByTestId('notice').textContent())!.match(/playlist (\w+)\)/)![1];
  expect((await storedItems(request, token, created)).map((i) => i.uri)).toEqual([b.uri, d.uri]);
});

test('remove unavailable: entries Spotify no longer has and unplayable ones, saved with a replace', async ({ page, request }) => {
  const token = await apiToken(request);
  const tracks = await catalog(request, token, 'love', 5);
  const id = await playlistWith(request, token, 'Gaps', tracks.map((t) => t.uri));
  // Spotify lists a track it no longer has as an entry with a null item, and says `is_playable: false` for one
  // that cannot be played in the user's market: shape the stand-in's answers that way for this playlist.
  await page.route(`${STAND_IN}/v1/playlists/${id}/items?**`, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    for (const entry of body.items ?? []) {
      if (entry.item?.uri === tracks[1].uri) entry.item = null;
      else if (entry.item?.uri === tracks[3].uri) entry.item.is_playable = false;
    }
    await route.fulfill({ response, json: body });
  });
  await signIn(page);
  await open(page, id);
  await page.getByTestId('toggle-tools').click();
  await page.getByTestId('tool-unavailable').click();
  await expect(page.getByTestId('unavailable-summary')).toContainText('2 items are unavailable');
  await shoot(page, 'unavailable');
  await page.getByTestId('unavailable-apply').click();
  await expect(page.getByTestId('item-count')).toHaveText('3 items');
  await page.getByTestId('undo').click();
  await expect(page.getByTestId('item-count')).toHaveText('5 items');
  await page.getByTestId('redo').click();
  await page.unroute(`${STAND_IN}/v1/playlists/${id}/items?**`);
  const stored = await saveAndCheck(page, request, token, id);
  expect(stored.map((i) => i.uri)).toEqual([tracks[0].uri, tracks[2].uri, tracks[4].uri]);
});

test('on a phone the list comes first, with details, add and tools one tap away', async ({ page, request }) => {
  const token = await apiToken(request);
  const id = await playlistWith(request, token, 'Phone', (await catalog(request, token, 'love', 8)).map((t) => t.uri));
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page);
  await open(page, id);
  const firstRow = await page.getByTestId('track-row').first().boundingBox();
  expect(firstRow!.y + firstRow!.height).toBeLessThanOrEqual(844);
  await expect(page.getByTestId('playlist-title')).toBeHidden();
  await expect(page.getByTestId('search-input')).toBeHidden();
  await expect(page.locator('img.art').first()).toBeVisible();
  await page.screenshot({ path: 'test-results/screens/tools-phone-list-390x844.png' });
  await page.getByTestId('toggle-details').click();
  await expect(page.getByTestId('playlist-title')).toBeVisible();
  await page.getByTestId('toggle-add').click();
  await expect(page.getByTestId('search-input')).toBeVisible();
  await expect(page.getByTestId('playlist-title')).toBeHidden();
  await page.screenshot({ path: 'test-results/screens/tools-phone-add-390x844.png' });
});

test('a part of the app that cannot be fetched says so, loses no edit, and loads on retry', async ({ page, request }) => {
  const token = await apiToken(request);
  const id = await playlistWith(request, token, 'Offline tools', (await catalog(request, token, 'love', 5)).map((t) => t.uri));
  await signIn(page);
  // The tools panel's code is a chunk of its own (xtask/src/split.rs), fetched when the panel first opens.
  let offline = true;
  const chunks: string[] = [];
  await page.route(/-split_tools_panel\.wasm$/, (route) => {
    chunks.push(route.request().url());
    return offline ? route.abort('internetdisconnected') : route.continue();
  });
  await open(page, id);
  await page.getByTestId('track-row').first().getByRole('checkbox').check();
  await page.getByTestId('remove-selected').click();
  await expect(page.getByTestId('item-count')).toHaveText('4 items');
  const before = await rowNames(page);
  await page.getByTestId('toggle-tools').click();
  await expect(page.getByTestId('lazy-failed')).toContainText('Setlist could not load the tools');
  await page.screenshot({ path: 'test-results/screens/tools-offline-1280x800.png' });
  expect(chunks.length).toBe(1);
  // Nothing lost: the edit is still there, unsaved, and the page still works.
  expect(await rowNames(page)).toEqual(before);
  await expect(page.getByTestId('dirty-state')).not.toHaveText('All changes saved');
  offline = false;
  await page.getByTestId('lazy-failed').getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('tools')).toBeVisible();
  await expect(page.getByTestId('lazy-failed')).toHaveCount(0);
  expect(chunks.length).toBe(2);
  // The panel works on the same edit: its tabs switch, and the list is the edited one.
  await page.getByTestId('tool-sort').click();
  await expect(page.getByTestId('item-count')).toHaveText('4 items');
  expect(await rowNames(page)).toEqual(before);
  await saveAndCheck(page, request, token, id);
});
