// The value checks of the ops options (shared by every options-*.ts module): a leaf module, so
// that the option modules, the resolved types and resolveOpsOptions import it without a cycle.
// Unknown keys are rejected by the options contract every @deia package shares (@deia/options).
import { checkKeys as checkKnownKeys } from '@deia/options';
import { DeiaOpsError } from './errors.js';

const CODE = 'DEIA_OPS_OPTIONS';
/** Throws the generator's option error (`DEIA_OPS_OPTIONS`). */
export const fail = (message: string): never => {
  throw new DeiaOpsError(CODE, message);
};

const DURATION_RE = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604800,
  y: 31536000,
};

/** Parses a Prometheus duration ('1h30m') into seconds. */
export function parseDuration(text: string): number {
  if (!DURATION_RE.test(text)) fail(`"${text}" is not a Prometheus duration; use e.g. "30s", "5m", "1h30m".`);
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g))
    total += Number(m[1]) * (UNIT_SECONDS[m[2] as string] ?? 0);
  return total;
}

/** Formats seconds as a Prometheus duration, largest units first ('90' -> '1m30s'). */
export function formatDuration(seconds: number): string {
  let ms = Math.round(seconds * 1000);
  if (ms <= 0) return '0s';
  let out = '';
  for (const [unit, size] of [
    ['d', 86400000],
    ['h', 3600000],
    ['m', 60000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    if (ms >= size) {
      out += `${Math.floor(ms / size)}${unit}`;
      ms %= size;
    }
  }
  return out;
}

/**
 * `value` as an object of only `allowed` keys (`{}` when undefined); throws `DEIA_OPS_OPTIONS` for
 * anything else, an unknown key with "did you mean" (the contract of every @deia package).
 */
export const checkKeys = (
  where: string,
  value: unknown,
  allowed: readonly string[],
): Record<string, unknown> => checkKnownKeys(where, value, allowed, fail);

/** A non-empty string option, or `fallback` when undefined. */
export function str(where: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') return fail(`${where} must be a non-empty string.`);
  return value;
}

/** A non-empty array of non-empty strings, or a copy of `fallback` when undefined. */
export function strList(where: string, value: unknown, fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v === '')) {
    return fail(`${where} must be a non-empty array of strings.`);
  }
  return [...value] as string[];
}

export function ratio(where: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 && value < 1))
    return fail(`${where} must be a number between 0 and 1 (exclusive).`);
  return value;
}

/** A Prometheus duration option, or `fallback` when undefined. */
export function duration(where: string, value: unknown, fallback: string): string {
  const v = str(where, value, fallback);
  try {
    parseDuration(v);
  } catch {
    fail(`${where} "${v}" is not a Prometheus duration; use e.g. "30s", "5m", "1h".`);
  }
  return v;
}

/** A Prometheus label name. */
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
