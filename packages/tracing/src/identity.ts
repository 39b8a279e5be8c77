import type { TracingHandle } from './handle-types.js';

/** Process-wide slot: one tracing set-up per process, shared by the ESM and CJS copies and by every entry. */
const SLOT = Symbol.for('@deia/tracing');
interface Slot {
  handle: TracingHandle;
}
const slot = (): { [SLOT]?: Slot } => globalThis as { [SLOT]?: Slot };

/** The running tracing handle (from `startTracing` or the `@deia/tracing/register` entry), if any. */
export function getTracing(): TracingHandle | undefined {
  return slot()[SLOT]?.handle;
}

/** @internal */
export function setTracing(handle: TracingHandle | undefined): void {
  if (handle) slot()[SLOT] = { handle };
  else delete slot()[SLOT];
}

const envStr = (name: string): string | undefined => {
  const v = process.env[name]?.trim();
  return v ? v : undefined;
};

/**
 * One key of `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`, values percent-decoded as the spec says), read
 * without loading `@opentelemetry/resources` so that the logger entry stays light.
 */
export function resourceAttributeFromEnv(key: string): string | undefined {
  const raw = envStr('OTEL_RESOURCE_ATTRIBUTES');
  if (!raw) return undefined;
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    if (eq === -1 || pair.slice(0, eq).trim() !== key) continue;
    const value = pair.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value) || undefined;
    } catch {
      return value || undefined;
    }
  }
  return undefined;
}

/** `service.name` when nothing names the service: OpenTelemetry's own fallback for Node.js. */
export const UNKNOWN_SERVICE_NAME = 'unknown_service:node';

/**
 * `service.name` the way OpenTelemetry resolves it, then npm's: `OTEL_SERVICE_NAME` >
 * `service.name` in `OTEL_RESOURCE_ATTRIBUTES` > `npm_package_name` (set by `npm start`/`pnpm start`).
 */
export function serviceNameFromEnv(): string | undefined {
  return (
    envStr('OTEL_SERVICE_NAME') ?? resourceAttributeFromEnv('service.name') ?? envStr('npm_package_name')
  );
}
