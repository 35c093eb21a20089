/**
 * The agent console in a browser page, for end-to-end tests: log in, bring the softphone up and
 * go available, and read the softphone's media figures (getStats() of its call).
 */
import type { Page } from 'playwright-core';
import { TEST_PASSWORD } from './fixtures.ts';
import { until } from './call-harness.ts';

declare global {
  interface Window {
    /** The console's live softphone (console/src/softphone), exposed for tests. */
    __calldockPhone?: {
      stats(): Promise<
        { inboundBytes: number; outboundBytes: number; audioLevelIn: number | null } | undefined
      >;
    };
  }
}

export async function consoleLogin(page: Page, base: string, email: string): Promise<void> {
  await page.goto(base);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(TEST_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Waits for the softphone to register and pass preflight, then goes available. */
export async function goAvailable(page: Page): Promise<void> {
  await page.getByTestId('phone-state').getByText('Registered').waitFor({ timeout: 30_000 });
  const button = page.getByRole('button', { name: 'Go available' });
  await until('preflight to pass', () => button.isEnabled(), 30_000);
  await button.click();
  await page.getByTestId('agent-state').getByText('available').waitFor();
}

/** The softphone call's media figures, or null when there is no call. */
export async function softphoneStats(
  page: Page,
): Promise<{ inboundBytes: number; outboundBytes: number; audioLevelIn: number } | null> {
  return page.evaluate(async () => {
    const s = await window.__calldockPhone?.stats();
    return s
      ? { inboundBytes: s.inboundBytes, outboundBytes: s.outboundBytes, audioLevelIn: s.audioLevelIn ?? 0 }
      : null;
  });
}
