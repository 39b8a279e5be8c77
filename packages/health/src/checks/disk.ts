import { statfs } from 'node:fs/promises';
import { checkOptions as checkSchema, rules } from '@deia/options';
import { DeiaHealthError } from '../errors.js';
import type { CheckContext, CheckOptions, CheckOutcome, HealthCheckDefinition } from '../types.js';
import { CHECK_OPTIONS_SCHEMA, failOptions } from '../validation.js';

/** Options of `diskCheck`. */
export interface DiskCheckOptions extends CheckOptions {
  /** Free ratio below which the check warns. @default 0.15, the guides' "disk free < 15%" warning */
  warnFreeRatio?: number;
  /** Free ratio below which the check fails. @default 0.1, the guides' "disk free < 10%" critical */
  failFreeRatio?: number;
}

/** Every default of `diskCheck`, in one place (see `DiskCheckOptions`). */
const DISK_CHECK_DEFAULTS = { path: '/', warnFreeRatio: 0.15, failFreeRatio: 0.1, critical: false } as const;

const gb = (bytes: number) => Math.round((bytes / 1024 ** 3) * 100) / 100;

/**
 * Free space of the file system holding `path` (space available to this unprivileged process).
 * Non-critical by default. The path is shown only with `exposeHostnames`.
 */
export function diskCheck(
  path: string = DISK_CHECK_DEFAULTS.path,
  options: DiskCheckOptions = {},
): HealthCheckDefinition {
  checkSchema(
    'diskCheck',
    options ?? {},
    {
      ...CHECK_OPTIONS_SCHEMA,
      warnFreeRatio: rules.number('a free-space ratio in [0, 1), e.g. 0.15', { min: 0, max: 1 }),
      failFreeRatio: rules.number('a free-space ratio in [0, 1), e.g. 0.1', { min: 0, max: 1 }),
    },
    failOptions,
  );
  const D = DISK_CHECK_DEFAULTS;
  const { warnFreeRatio = D.warnFreeRatio, failFreeRatio = D.failFreeRatio, ...checkOptions } = options;
  if (typeof path !== 'string' || path === '') {
    throw new DeiaHealthError(
      'DEIA_HEALTH_OPTIONS',
      'diskCheck(path): path must be a directory path, e.g. "/var/lib/app".',
    );
  }
  if (!(failFreeRatio >= 0 && failFreeRatio <= warnFreeRatio && warnFreeRatio < 1)) {
    throw new DeiaHealthError(
      'DEIA_HEALTH_OPTIONS',
      'diskCheck: need 0 <= failFreeRatio <= warnFreeRatio < 1.',
    );
  }
  const run = async (_signal: AbortSignal, ctx: CheckContext): Promise<CheckOutcome> => {
    const s = await statfs(path);
    const total = s.blocks * s.bsize;
    const free = s.bavail * s.bsize;
    const freeRatio = total > 0 ? free / total : 0;
    const details = {
      free_ratio: Math.round(freeRatio * 1000) / 1000,
      free_gb: gb(free),
      total_gb: gb(total),
      ...(ctx.exposeHostnames ? { path } : {}),
    };
    const pct = `${Math.round(freeRatio * 100)}% free`;
    if (freeRatio < failFreeRatio) return { status: 'fail', details, message: pct };
    if (freeRatio < warnFreeRatio) return { status: 'warn', details, message: pct };
    return { status: 'pass', details };
  };
  return { kind: 'system', critical: D.critical, ...checkOptions, run };
}
