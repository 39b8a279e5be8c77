// The options contract every factory of every @deia package follows: unknown keys are rejected
// naming the closest known one, and a value of the wrong kind is rejected naming the option, what it
// must be and what it got, with the calling package's own coded error (`fail`).
//
// A private workspace package: each published package's build bundles it (tsup `noExternal`), so
// users install nothing extra and no published declaration imports it. One file on purpose: tsup's
// declaration bundler inlines this module by name (`dts.resolve`) but not its relative imports.

/** One option's rule. Options are optional unless `required`; `ok` is not called for `undefined`. */
export interface OptionRule {
  /** What the value must be, completing "<option> must be ...", e.g. "a positive integer". */
  readonly must: string;
  /** True when the value fits; a string is the whole complaint instead of the `must` sentence. */
  readonly ok: (value: unknown) => boolean | string;
  /** When true, a missing (`undefined`) value fails with "<option> is required". @default false */
  readonly required?: boolean;
}

/** Option name -> rule. The keys are the known option names. */
export type OptionsSchema = Readonly<Record<string, OptionRule>>;

/** Throws the package's coded error with `message`. */
export type Fail = (message: string) => never;

/** Edit distance, for "did you mean" on unknown option names. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

/** The known option closest to `key` (at most 3 edits away), for the error message. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 4;
  for (const k of known) {
    const d = distance(key.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best;
}

/** How a value is named in an error: its type, and the value itself when it is short. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case 'number':
    case 'bigint':
      return `the number ${String(value)}`;
    case 'boolean':
      return String(value);
    case 'function':
      return 'a function';
    case 'undefined':
      return 'undefined';
    default:
      return typeof value === 'object' ? 'an object' : typeof value;
  }
}

/**
 * Rejects option names that `where` does not know (a typo such as `cacheTTLMs` would otherwise be
 * ignored silently), naming the closest known one.
 */
export function rejectUnknownKeys(
  where: string,
  options: object,
  known: readonly string[],
  fail: Fail,
): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closest(key, known);
    fail(
      `${where}: unknown option "${key}"${near ? ` (did you mean "${near}"?)` : ''}; known: ${known.join(', ')}.`,
    );
  }
}

/**
 * Checks `options` against `schema`: an object, no unknown keys (`extraKeys` are known too, checked
 * by the caller), every present value fits its rule, every required one is there. Returns the
 * options as a record for the caller's cross-option checks.
 */
export function checkOptions(
  where: string,
  options: unknown,
  schema: OptionsSchema,
  fail: Fail,
  extraKeys: readonly string[] = [],
): Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(`${where}: options must be an object, got ${describeValue(options)}.`);
  }
  const o = options as Record<string, unknown>;
  rejectUnknownKeys(where, o, [...Object.keys(schema), ...extraKeys], fail);
  for (const key of Object.keys(schema)) {
    const rule = schema[key] as OptionRule;
    const value = o[key];
    if (value === undefined) {
      if (rule.required) fail(`${where}: options.${key} is required: ${key} must be ${rule.must}.`);
      continue;
    }
    const verdict = rule.ok(value);
    if (verdict === true) continue;
    fail(
      typeof verdict === 'string'
        ? `${where}: ${verdict}`
        : `${where}: ${key} must be ${rule.must}, got ${describeValue(value)}.`,
    );
  }
  return o;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object';

/** Rules for the common kinds of option. */
export const rules = {
  /** Known but not checked here (e.g. an option the framework itself reads). */
  any: (must = 'anything'): OptionRule => ({ must, ok: () => true }),
  /** Any value of `typeof` `type`. */
  type: (type: 'string' | 'boolean' | 'function' | 'object', must: string): OptionRule => ({
    must,
    ok: (v) => typeof v === type && v !== null,
  }),
  boolean: (): OptionRule => ({ must: 'true or false', ok: (v) => typeof v === 'boolean' }),
  function: (must = 'a function'): OptionRule => ({ must, ok: (v) => typeof v === 'function' }),
  nonEmptyString: (must = 'a non-empty string'): OptionRule => ({
    must,
    ok: (v) => typeof v === 'string' && v !== '',
  }),
  /** A finite number `>= min` (or `> min` with `exclusive`), an integer with `integer`. */
  number: (
    must: string,
    { min = -Infinity, max = Infinity, integer = false, exclusive = false } = {},
  ): OptionRule => ({
    must,
    ok: (v) =>
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (exclusive ? v > min : v >= min) &&
      v <= max &&
      (!integer || Number.isInteger(v)),
  }),
  oneOf: (
    values: readonly unknown[],
    must = values.map((v) => JSON.stringify(v)).join(', '),
  ): OptionRule => ({
    must,
    ok: (v) => values.includes(v),
  }),
  /** An object with these methods (a structural check of a handle the user passes). */
  methods: (names: readonly string[], must: string): OptionRule => ({
    must,
    ok: (v) => isObject(v) && names.every((n) => typeof v[n] === 'function'),
  }),
  /** An array whose items all pass `item`. */
  arrayOf: (item: (v: unknown) => boolean, must: string): OptionRule => ({
    must,
    ok: (v) => Array.isArray(v) && v.every(item),
  }),
  /** A plain object whose values all pass `value`. */
  recordOf: (value: (v: unknown, key: string) => boolean, must: string): OptionRule => ({
    must,
    ok: (v) => isObject(v) && !Array.isArray(v) && Object.entries(v).every(([k, x]) => value(x, k)),
  }),
  /** Either rule. */
  either: (a: OptionRule, b: OptionRule, must = `${a.must} or ${b.must}`): OptionRule => ({
    must,
    ok: (v) => a.ok(v) === true || b.ok(v) === true,
  }),
} as const;

/**
 * `value` as an object of only `known` keys, or `{}` when it is undefined: for a nested group of
 * options (`kubernetes.secrets`) whose values the caller then checks one by one. Throws through
 * `fail` when `value` is not a plain object or has an unknown key (with "did you mean").
 */
export function checkKeys(
  where: string,
  value: unknown,
  known: readonly string[],
  fail: Fail,
): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isObject(value) || Array.isArray(value)) {
    return fail(`${where} must be an object, got ${describeValue(value)}.`);
  }
  rejectUnknownKeys(where, value, known, fail);
  return value;
}
