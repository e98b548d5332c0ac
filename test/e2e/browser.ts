import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, driven by playwright-core. Nothing is ever downloaded: playwright-core has no
 * browser of its own, and these flags keep Chromium itself off the network (the machine has none
 * but the package registries, and without them Chromium retries Google's hosts at every start).
 * Playwright gives every launch a new, empty profile directory.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Fails, never skips, when the browser is missing: CI installs it (see README.md here). */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. The end-to-end tests need Debian's browser: ` +
        'apt-get update && apt-get install -y chromium (.ci/run does this when test/e2e/README.md exists), ' +
        'or set CHROMIUM_PATH to another Chromium binary.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS });
}
