/**
 * ESM entry: `node --import @deia/tracing/register app.js` (Node >= 20.6).
 *
 * Order matters: instrumentation works by patching `express`, `pg`, `ioredis`, ... as they are loaded.
 * A module imported before tracing starts stays unpatched, and ESM imports can only be intercepted by a
 * loader hook registered before the app's module graph is loaded. `--import` runs this file first:
 * it registers import-in-the-middle's hook (`module.register`), starts the SDK (whose instrumentations
 * tell the hook which modules to wrap), and waits until the hook has acknowledged that list.
 */
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { disabledByEnv, startFromEnv } from './auto-start.js';

// Disabled: no loader hook either, so the app's modules load exactly as without this entry.
if (isMainThread && !disabledByEnv()) {
  if (typeof register === 'function') {
    const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
    register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
    startFromEnv();
    await waitForAllMessagesAcknowledged();
  } else {
    process.emitWarning(
      '@deia/tracing/register: this Node has no module.register(); ESM imports are not traced.',
      {
        type: 'DeiaTracingWarning',
      },
    );
    startFromEnv();
  }
}
