/** Replacement text of redacted values. */
export const DEFAULT_CENSOR = '[REDACTED]';

/**
 * Keys whose values are always replaced (compared lower-case with `-` and `_` removed), on top of any key
 * containing `password`, `passwd` or `secret`, or ending in `token`, `apikey` or `credentials`.
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'pwd',
  'x-api-key',
  'private_key',
];

const normalize = (key: string) => key.toLowerCase().replace(/[-_]/g, '');

/** Builds the key test of one logger (default keys plus `extra`). */
export function secretKeyMatcher(extra: readonly string[] = []): (key: string) => boolean {
  const exact = new Set([...DEFAULT_REDACT_KEYS, ...extra].map(normalize));
  return (key) => {
    const k = normalize(key);
    return (
      exact.has(k) ||
      k.includes('password') ||
      k.includes('passwd') ||
      k.includes('secret') ||
      k.endsWith('token') ||
      k.endsWith('apikey') ||
      k.endsWith('credentials')
    );
  };
}

// scheme://user:password@host -> scheme://[REDACTED]@host ; also user-only userinfo (tokens are often sent that way).
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"'\\]+@/gi;
// key=value credentials in DSNs and query strings: "host=db password=x", "?password=x&", "pwd=x;"
const KV_SECRET = /\b(password|passwd|pwd|secret|token|api[_-]?key)=([^\s;&"'\\]+)/gi;

/** Removes credentials from connection strings and URLs inside `text` (userinfo and `password=` pairs). */
export function redactConnectionString(text: string, censor = DEFAULT_CENSOR): string {
  let out = text;
  if (out.includes('://')) out = out.replace(URL_USERINFO, `$1${censor}@`);
  if (out.includes('=')) out = out.replace(KV_SECRET, `$1=${censor}`);
  return out;
}

const MAX_DEPTH = 10;

/**
 * Returns `value` with secret-named keys censored, at any depth (arrays included); cycles become
 * `[Circular]` and objects nested deeper than 10 levels `[Object]`. Copy-on-write: the
 * input is never mutated and is returned as is when nothing matched. Non-plain objects (Errors, Dates,
 * Buffers, class instances) are left to their serializers; their strings are cleaned on the final line.
 */
export function redactObject<T>(
  value: T,
  isSecretKey: (key: string) => boolean,
  censor = DEFAULT_CENSOR,
  /** A top-level key left alone (pino's `err`, which its own serializer, redacted too, handles). */
  skipKey?: string,
): T {
  // A cycle would carry the unredacted original into the output: cut it as pino would.
  const inProgress = new WeakSet<object>();
  const done = new WeakMap<object, unknown>();
  const walk = (v: unknown, depth: number): unknown => {
    if (v === null || typeof v !== 'object') return v;
    // Deeper than anyone reads, and JSON.stringify would print it unchecked: cut it (pino's "[Object]").
    if (depth > MAX_DEPTH) return Array.isArray(v) ? '[Array]' : '[Object]';
    if (inProgress.has(v)) return '[Circular]';
    if (done.has(v)) return done.get(v);
    inProgress.add(v);
    const result = walkObject(v, depth);
    inProgress.delete(v);
    done.set(v, result);
    return result;
  };
  const walkObject = (v: object, depth: number): unknown => {
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const next = walk(v[i], depth + 1);
        if (next !== v[i]) {
          copy ??= v.slice();
          copy[i] = next;
        }
      }
      return copy ?? v;
    }
    if (v instanceof Error) {
      // JSON.stringify prints an Error's enumerable own properties (e.g. an HTTP client's request
      // config with its headers): check those, keeping type, message and stack.
      if (Object.keys(v).length === 0) return v;
      const plain: Record<string, unknown> = { type: v.name, message: v.message, stack: v.stack };
      for (const key of Object.keys(v)) plain[key] = (v as unknown as Record<string, unknown>)[key];
      const next = walkObject(plain, depth);
      return next === plain && !Object.keys(v).some(isSecretKey) ? v : next;
    }
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) return v;
    let copy: Record<string, unknown> | undefined;
    const obj = v as Record<string, unknown>;
    for (const key of Object.keys(obj)) {
      const current = obj[key];
      if (depth === 0 && key === skipKey) continue;
      const next =
        isSecretKey(key) && current !== undefined && current !== null ? censor : walk(current, depth + 1);
      if (next !== current) {
        copy ??= { ...obj };
        copy[key] = next;
      }
    }
    return copy ?? v;
  };
  return walk(value, 0) as T;
}
