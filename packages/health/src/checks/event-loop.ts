import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { checkOptions as checkSchema, rules } from '@deia/options';
import { DeiaHealthError } from '../errors.js';
import type { CheckOptions, CheckOutcome, HealthCheckDefinition } from '../types.js';
import { CHECK_OPTIONS_SCHEMA, failOptions } from '../validation.js';

/** Options of `eventLoopCheck`. */
export interface EventLoopCheckOptions extends CheckOptions {
  /**
   * p99 event-loop delay (ms) since the previous run at which the check warns.
   * @default 200: a loop that stalls this long alone breaks the guides' 200 ms p95 API target
   */
  warnMs?: number;
  /** p99 delay (ms) at which the check fails. @default 1000 */
  failMs?: number;
  /** Sampling resolution of `monitorEventLoopDelay` in ms. @default 20 */
  resolutionMs?: number;
}

/** Every default of `eventLoopCheck`, in one place (see `EventLoopCheckOptions`). */
const EVENT_LOOP_CHECK_DEFAULTS = { warnMs: 200, failMs: 1000, resolutionMs: 20, critical: false } as const;

const ms = (ns: number) => Math.round(ns / 1e5) / 10;

/**
 * Event-loop lag: p99 and max delay since the previous run, from `perf_hooks.monitorEventLoopDelay`
 * (started at the first run, stopped by `health.close()`), plus one delay sample taken now.
 * Non-critical by default.
 */
export function eventLoopCheck(options: EventLoopCheckOptions = {}): HealthCheckDefinition {
  checkSchema(
    'eventLoopCheck',
    options ?? {},
    {
      ...CHECK_OPTIONS_SCHEMA,
      warnMs: rules.number('a number of milliseconds > 0', { min: 0, exclusive: true }),
      failMs: rules.number('a number of milliseconds > 0', { min: 0, exclusive: true }),
      resolutionMs: rules.number('an integer number of milliseconds >= 1', { min: 1, integer: true }),
    },
    failOptions,
  );
  const D = EVENT_LOOP_CHECK_DEFAULTS;
  const { warnMs = D.warnMs, failMs = D.failMs, resolutionMs = D.resolutionMs, ...checkOptions } = options;
  if (!(warnMs > 0 && warnMs <= failMs)) {
    throw new DeiaHealthError('DEIA_HEALTH_OPTIONS', 'eventLoopCheck: need 0 < warnMs <= failMs.');
  }
  let histogram: IntervalHistogram | undefined;
  const run = async (): Promise<CheckOutcome> => {
    if (!histogram) {
      histogram = monitorEventLoopDelay({ resolution: resolutionMs });
      histogram.enable();
    }
    const before = performance.now();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const nowMs = performance.now() - before;
    const hasSamples = histogram.count > 0;
    const p99 = hasSamples ? ms(histogram.percentile(99)) : 0;
    const max = hasSamples ? ms(histogram.max) : 0;
    histogram.reset();
    const lag = Math.max(p99, Math.round(nowMs * 10) / 10);
    const details = { lag_p99_ms: p99, lag_max_ms: max, lag_now_ms: Math.round(nowMs * 10) / 10 };
    if (lag >= failMs)
      return { status: 'fail', details, latencyMs: nowMs, message: `event loop lag ${lag} ms` };
    if (lag >= warnMs)
      return { status: 'warn', details, latencyMs: nowMs, message: `event loop lag ${lag} ms` };
    return { status: 'pass', details, latencyMs: nowMs };
  };
  return {
    kind: 'system',
    critical: D.critical,
    ...checkOptions,
    run,
    close: () => {
      histogram?.disable();
      histogram = undefined;
    },
  };
}
