import { createRequire } from 'node:module';
import { DeiaMetricsError } from './errors.js';
import type { PromClientModule } from './types.js';

/** The two names the Prometheus client for Node.js is published under (old and new). */
export const CLIENT_PACKAGES = ['prom-client', '@prometheus-io/client'] as const;

// Process-wide on purpose: duplicate copies of this package must see each other's clients.
const STATE = Symbol.for('@deia/metrics.clients');
interface ClientState {
  seen: Map<unknown, string>;
  warned: Set<string>;
}
function state(): ClientState {
  const g = globalThis as { [STATE]?: ClientState };
  const s = g[STATE] ?? { seen: new Map(), warned: new Set() };
  g[STATE] = s;
  return s;
}

function warnOnce(warn: (message: string) => void, message: string): void {
  const { warned } = state();
  if (warned.has(message)) return;
  warned.add(message);
  warn(message);
}

const loadedPath = (req: NodeJS.Require, name: string) =>
  Object.keys(req.cache).find((p) => p.includes(`/node_modules/${name}/`));

/**
 * Loads `prom-client` or its successor `@prometheus-io/client` (prom-client first). Warns when
 * the other one is loaded in this process too, or when another copy of the client was used
 * before: metrics registered through one copy never appear in another copy's registry, so
 * `/metrics` would silently miss series.
 */
export function loadPromClient(
  warn: (message: string) => void,
  from: string = import.meta.url,
): PromClientModule {
  const req = createRequire(from);
  for (const name of CLIENT_PACKAGES) {
    let module: PromClientModule;
    let path: string;
    try {
      path = req.resolve(name);
      module = req(name) as PromClientModule;
    } catch {
      continue;
    }
    const other = CLIENT_PACKAGES.find((n) => n !== name) as string;
    const otherPath = loadedPath(req, other);
    if (otherPath) {
      warnOnce(
        warn,
        `@deia/metrics: both prom-client and @prometheus-io/client are loaded; the SDK uses ${name}. ` +
          `Metrics registered through ${other} will not show in the SDK's registry: use one, or pass \`client\` to createMetrics.`,
      );
    }
    noteClient(module, path, warn);
    return module;
  }
  throw new DeiaMetricsError(
    'DEIA_NO_PROM_CLIENT',
    'neither prom-client nor @prometheus-io/client is installed; add one: `npm install prom-client`.',
  );
}

/** Records which client module is in use and warns if a different copy was seen before. */
export function noteClient(module: PromClientModule, path: string, warn: (message: string) => void): void {
  const { seen } = state();
  if (seen.has(module.Registry)) return;
  seen.set(module.Registry, path);
  if (seen.size > 1) {
    warnOnce(
      warn,
      `@deia/metrics: ${seen.size} copies of the Prometheus client are in use (${[...seen.values()].join(', ')}). ` +
        'Each copy has its own registries; dedupe them (e.g. `npm dedupe`) so every metric reaches /metrics.',
    );
  }
}
