import { APIRequestContext, Page, expect } from '@playwright/test';

export const STAND_IN = process.env.SETLIST_STAND_IN_URL!;
export const APP = process.env.SETLIST_APP_URL!;

export interface StandInLog {
  requests: { method: string; path: string; route: string; status: number }[];
  counts: Record<string, number>;
}

export async function resetLog(request: APIRequestContext) {
  const r = await request.post(`${STAND_IN}/__control/log/reset`);
  expect(r.ok()).toBeTruthy();
}

export async function standInLog(request: APIRequestContext): Promise<StandInLog> {
  const r = await request.get(`${STAND_IN}/__control/log`);
  expect(r.ok()).toBeTruthy();
  return r.json();
}

export function count(log: StandInLog, route: string): number {
  return log.counts[route] ?? 0;
}

/** From the app's home page, through the stand-in's consent page, as `userId`; ends back in the app. */
export async function signIn(page: Page, userId = 'alice.setlist') {
  await page.goto('/');
  await page.getByTestId('sign-in-hero').click();
  await page.waitForURL((u) => u.href.startsWith(`${STAND_IN}/authorize`));
  await page.getByTestId(`consent-user-${userId}`).check();
  await page.getByTestId('consent-agree').click();
  await page.waitForURL((u) => u.href.startsWith(APP) && !u.pathname.startsWith('/callback'));
}

/** Changes the stand-in through its control API: its clock (`offset_secs`, `advance_secs`) or its config. */
export async function control(request: APIRequestContext, what: 'clock' | 'config', data: object) {
  const r = await request.post(`${STAND_IN}/__control/${what}`, { data });
  expect(r.ok(), `${what} ${JSON.stringify(data)}`).toBeTruthy();
}
