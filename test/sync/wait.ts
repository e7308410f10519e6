// Waiting for a condition the bridge tests can check at once (no I/O): netns.waitFor, polled
// every 10 ms, with a bound in milliseconds.

import { waitFor as retry } from '../e2e/netns.js';

/** Waits until `condition` holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  await retry(what, async () => condition(), Math.ceil(timeoutMs / 10), 10);
}
