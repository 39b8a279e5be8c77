import { checkOptions as checkSchema, rules } from '@deia/options';
import { DeiaHealthError } from '../errors.js';
import type { CheckContext, CheckOptions, CheckOutcome, HealthCheckDefinition } from '../types.js';
import { CHECK_OPTIONS_SCHEMA, failOptions } from '../validation.js';

/** Options of `httpCheck`. */
export interface HttpCheckOptions extends CheckOptions {
  /** @default 'GET' */
  method?: string;
  /** Request headers (e.g. an auth header). @default none */
  headers?: Record<string, string>;
  /** Which status passes. @default any 2xx */
  expectStatus?: number | ((status: number) => boolean);
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Any HTTP dependency: one request with the check's `AbortSignal`; passes on 2xx (or
 * `expectStatus`). Non-critical by default. The URL is shown only with `exposeHostnames`.
 */
export function httpCheck(url: string | URL, options: HttpCheckOptions = {}): HealthCheckDefinition {
  checkSchema(
    'httpCheck',
    options ?? {},
    {
      ...CHECK_OPTIONS_SCHEMA,
      method: rules.nonEmptyString('an HTTP method such as "GET" or "HEAD"'),
      headers: rules.recordOf((v) => typeof v === 'string', 'an object of header names to string values'),
      expectStatus: rules.either(
        rules.number('a status code', { min: 100, max: 599, integer: true }),
        rules.function(),
        'an HTTP status code (e.g. 204) or a function (status) => boolean',
      ),
      fetch: rules.function('a fetch-compatible function'),
    },
    failOptions,
  );
  let target: URL;
  try {
    target = new URL(String(url));
  } catch {
    throw new DeiaHealthError('DEIA_HEALTH_OPTIONS', 'httpCheck(url): url must be an absolute URL.');
  }
  const { method = 'GET', headers, expectStatus, fetch: fetchImpl, ...checkOptions } = options;
  const passes =
    typeof expectStatus === 'function'
      ? expectStatus
      : typeof expectStatus === 'number'
        ? (s: number) => s === expectStatus
        : (s: number) => s >= 200 && s < 300;
  const run = async (signal: AbortSignal, ctx: CheckContext): Promise<CheckOutcome> => {
    const f = fetchImpl ?? globalThis.fetch;
    const start = performance.now();
    const res = await f(target, { method, signal, ...(headers ? { headers } : {}) });
    const latencyMs = performance.now() - start;
    await res.body?.cancel().catch(() => undefined);
    const details = { status_code: res.status, ...(ctx.exposeHostnames ? { url: target.href } : {}) };
    return passes(res.status)
      ? { status: 'pass', latencyMs, details }
      : { status: 'fail', latencyMs, details, message: `unexpected HTTP ${res.status}` };
  };
  return { kind: 'http', critical: false, ...checkOptions, run };
}
