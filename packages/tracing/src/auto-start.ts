import { startTracing } from './start.js';
import type { TracingHandle } from './types.js';

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
const falsy = (v: string | undefined) => v !== undefined && /^(0|false|no|off)$/i.test(v.trim());

/** True when OTEL_SDK_DISABLED or DEIA_TRACING_DISABLED turns the register entry off. */
export function disabledByEnv(): boolean {
  return truthy(process.env.OTEL_SDK_DISABLED) || truthy(process.env.DEIA_TRACING_DISABLED);
}

/**
 * What the `@deia/tracing/register` entry runs: `startTracing()` configured from `OTEL_*` only, failures
 * contained (a broken tracing set-up must not stop the app), and a careful signal policy:
 *
 * - On SIGTERM/SIGINT, when the app has its own listener for that signal, nothing happens here: the app
 *   owns shutdown and should call `getTracing()?.shutdown()` last (e.g. as a `createShutdown` closer).
 * - When ours is the only listener, the spans are flushed, our listener is removed and the signal is
 *   raised again, so Node's default action (terminate with that signal) happens as if we were not there.
 *   We never call `process.exit()`.
 * - On `beforeExit` (the event loop emptied by itself), the spans are flushed.
 *
 * Set `DEIA_TRACING_SIGNALS=false` to leave signals alone.
 */
export function startFromEnv(): TracingHandle | undefined {
  if (disabledByEnv()) return undefined;
  let handle: TracingHandle;
  try {
    handle = startTracing({});
  } catch (err) {
    process.emitWarning(`@deia/tracing/register: tracing not started: ${(err as Error).message}`, {
      type: 'DeiaTracingWarning',
    });
    return undefined;
  }
  process.once('beforeExit', () => void handle.shutdown());
  if (falsy(process.env.DEIA_TRACING_SIGNALS)) return handle;
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  const onSignal = (signal: NodeJS.Signals) => {
    if (process.listenerCount(signal) > 1) return;
    for (const s of signals) process.removeListener(s, onSignal);
    void handle.shutdown().finally(() => process.kill(process.pid, signal));
  };
  for (const s of signals) process.on(s, onSignal);
  return handle;
}
