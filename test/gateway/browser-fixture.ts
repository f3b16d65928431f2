// Debian Chromium driven by playwright-core for the IDE browser tests: headless with the flags that
// keep it off the network (and xterm as DOM text), `*.<suffix>` resolved to loopback, and the
// test CA's server key trusted by its SPKI hash.
import { chromium, type Browser } from 'playwright-core'
import { SUFFIX } from './fixtures.ts'

export const CHROMIUM = '/usr/bin/chromium'

export function launchChromium(spkiSha256: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    timeout: 60_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-3d-apis',
      '--disable-dev-shm-usage',
      `--host-resolver-rules=MAP *.${SUFFIX} 127.0.0.1`,
      `--ignore-certificate-errors-spki-list=${spkiSha256}`,
    ],
  })
}
