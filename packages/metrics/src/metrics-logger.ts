import type { MetricsLogger } from './types.js';

// The `logger` a `createMetrics()` handle was given, for the HTTP core (an adapter without a
// logger of its own logs route overflow through it). Keyed by the handle: no module-level state
// beyond this weak association.
const loggers = new WeakMap<object, MetricsLogger>();

/** Remembers the logger of a metrics handle. */
export function setMetricsLogger(metrics: object, logger: MetricsLogger | undefined): void {
  if (logger !== undefined) loggers.set(metrics, logger);
}

/** The logger `createMetrics({ logger })` was given, if any. */
export function metricsLoggerOf(metrics: object): MetricsLogger | undefined {
  return loggers.get(metrics);
}
