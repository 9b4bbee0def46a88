/**
 * Browser side of the admin GUI tests: headless Debian Chromium (as in test/e2e/notebook.test.ts),
 * a login through the hub's real form, and a record of page errors and CSP violations (a strict
 * CSP reports blocked inline code as console errors) so a test can assert there were none.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export const VIEWPORT = { width: 1280, height: 800 };

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-sync'],
  });
}

/** Collects uncaught exceptions and console errors of a page (CSP violations land there). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** Logs in through /hub/login (following `next` to `path`) and waits until `path` is shown. */
export async function loginAndOpen(page: Page, base: string, user: string, password: string, path: string): Promise<void> {
  await page.goto(`${base}${path}`);
  await page.waitForURL(/\/hub\/login/);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => u.pathname === path.split('#')[0]), page.click('#login_submit')]);
}
