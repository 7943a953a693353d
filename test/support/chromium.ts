import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's Chromium, headless, without the background traffic that floods the closed network here
 * with refused connections (../shared/TOOLCHAIN.md).
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}
