import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { checkOptions as checkSchema, rules } from '@deia/options';
import { DeiaHealthError } from '../errors.js';
import type { CheckOptions, CheckOutcome, HealthCheckDefinition } from '../types.js';
import { CHECK_OPTIONS_SCHEMA, failOptions } from '../validation.js';

/** Options of `memoryCheck`. */
export interface MemoryCheckOptions extends CheckOptions {
  /** RSS or heap ratio at which the check warns. @default 0.8, the guides' memory warning (> 80%) */
  warnRatio?: number;
  /** RSS or heap ratio at which the check fails. @default 0.95, the guides' memory critical (> 95%) */
  failRatio?: number;
  /**
   * RSS limit in bytes. @default the container's memory limit (`process.constrainedMemory()`),
   * else the machine's total memory
   */
  maxRssBytes?: number;
}

/** Every default of `memoryCheck`, in one place (see `MemoryCheckOptions`). */
const MEMORY_CHECK_DEFAULTS = { warnRatio: 0.8, failRatio: 0.95, critical: false } as const;

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const ratio = (x: number) => Math.round(x * 1000) / 1000;

function rssLimit(): number {
  const total = totalmem();
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  return constrained && constrained > 0 && constrained < total ? constrained : total;
}

/**
 * Process memory: RSS against the memory limit and V8 heap used against the heap limit. Warns at
 * `warnRatio`, fails at `failRatio`. Non-critical by default (memory pressure degrades; the
 * orchestrator's OOM killer handles the rest).
 */
export function memoryCheck(options: MemoryCheckOptions = {}): HealthCheckDefinition {
  checkSchema(
    'memoryCheck',
    options ?? {},
    {
      ...CHECK_OPTIONS_SCHEMA,
      warnRatio: rules.number('a ratio in (0, 1], e.g. 0.8', { min: 0, max: 1, exclusive: true }),
      failRatio: rules.number('a ratio in (0, 1], e.g. 0.95', { min: 0, max: 1, exclusive: true }),
      maxRssBytes: rules.number('a positive number of bytes', { min: 0, exclusive: true }),
    },
    failOptions,
  );
  const D = MEMORY_CHECK_DEFAULTS;
  const { warnRatio = D.warnRatio, failRatio = D.failRatio, maxRssBytes, ...checkOptions } = options;
  if (!(warnRatio > 0 && warnRatio <= failRatio && failRatio <= 1)) {
    throw new DeiaHealthError('DEIA_HEALTH_OPTIONS', 'memoryCheck: need 0 < warnRatio <= failRatio <= 1.');
  }
  const run = (): CheckOutcome => {
    const { rss, heapUsed } = process.memoryUsage();
    const heapLimit = getHeapStatistics().heap_size_limit;
    const limit = maxRssBytes ?? rssLimit();
    const rssRatio = rss / limit;
    const heapRatio = heapUsed / heapLimit;
    const worst = Math.max(rssRatio, heapRatio);
    const details = {
      rss_mb: mb(rss),
      rss_limit_mb: mb(limit),
      rss_ratio: ratio(rssRatio),
      heap_used_mb: mb(heapUsed),
      heap_limit_mb: mb(heapLimit),
      heap_ratio: ratio(heapRatio),
    };
    const which = rssRatio >= heapRatio ? 'rss' : 'heap';
    if (worst >= failRatio)
      return { status: 'fail', details, message: `${which} at ${Math.round(worst * 100)}% of limit` };
    if (worst >= warnRatio)
      return { status: 'warn', details, message: `${which} at ${Math.round(worst * 100)}% of limit` };
    return { status: 'pass', details };
  };
  return { kind: 'system', critical: D.critical, ...checkOptions, run };
}
