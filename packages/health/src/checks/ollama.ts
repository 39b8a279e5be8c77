import { checkOptions as checkSchema, rules } from '@deia/options';
import { DeiaHealthError } from '../errors.js';
import type {
  CheckContext,
  CheckOptions,
  CheckOutcome,
  HealthCheckDefinition,
  ResidentModelInfo,
} from '../types.js';
import { CHECK_OPTIONS_SCHEMA, failOptions } from '../validation.js';

/** Options of `ollamaCheck`. */
export interface OllamaCheckOptions extends CheckOptions {
  /** Base URL of Ollama, e.g. `process.env.OLLAMA_URL`. Undefined or empty: the check reports `not_configured`. */
  url: string | undefined;
  /** Models that must be present (`llama3` matches `llama3:latest`). @default [] */
  models?: readonly string[];
  /** Extra request headers (e.g. an auth header of a proxy in front of Ollama). */
  headers?: Record<string, string>;
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * A model that should be in memory (warm). The check then also reads `GET /api/ps` (which never
   * loads a model) and reports `warn` (the service is degraded, never unhealthy) when the model is
   * not resident: its next call waits for it to load. `details.resident` says which. An Ollama
   * without `/api/ps` (or a failing read of it) is a `warn` too.
   * @default undefined (residency not checked)
   */
  residentModel?: string;
}

const withLatest = (name: string) => (name.includes(':') ? name : `${name}:latest`);

/**
 * `fetch` refuses URLs with credentials (`http://user:pass@host`): they move to a Basic
 * `Authorization` header (unless `headers` sets one), and the URL the check uses and shows has none.
 * The base path gets a trailing slash so `api/tags` resolves under it.
 */
export function splitCredentials(
  raw: string,
  headers: Record<string, string> | undefined,
): { url: string; headers: Record<string, string> | undefined } {
  const u = new URL(raw);
  let out = headers;
  if (u.username !== '' || u.password !== '') {
    const has = Object.keys(headers ?? {}).some((k) => k.toLowerCase() === 'authorization');
    if (!has) {
      const user = decodeURIComponent(u.username);
      const pass = decodeURIComponent(u.password);
      out = { ...headers, authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` };
    }
    u.username = '';
    u.password = '';
  }
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  u.search = '';
  u.hash = '';
  return { url: u.toString(), headers: out };
}

/** Thrown for a non-2xx answer; the code makes a safe public reason. */
class HttpStatusError extends Error {
  readonly code: string;
  constructor(path: string, status: number) {
    super(`${path} answered HTTP ${status}`);
    this.code = `HTTP_${status}`;
  }
}

/** `GET <url><path>` as JSON with the caller's signal; a non-2xx answer throws a coded error. */
export async function getOllamaJson(
  f: typeof fetch,
  url: string,
  path: string,
  signal: AbortSignal,
  headers: Record<string, string> | undefined,
): Promise<unknown> {
  // relative to the base URL's path, so an Ollama behind a path prefix (`https://host/ollama/`) works
  const res = await f(new URL(path.replace(/^\//, ''), url), {
    signal,
    headers: { accept: 'application/json', ...headers },
  });
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new HttpStatusError(path, res.status);
  }
  return res.json();
}

/**
 * The models of an `/api/ps` answer (`{ models: [{ name, size, size_vram, expires_at }] }`), with
 * `expires_at` turned into seconds from `nowMs`; `undefined` when the body has no models list.
 */
export function residentModelsOf(body: unknown, nowMs: number): ResidentModelInfo[] | undefined {
  const list = (body as { models?: unknown } | null)?.models;
  if (!Array.isArray(list)) return undefined;
  const out: ResidentModelInfo[] = [];
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
  for (const m of list as Array<Record<string, unknown> | null>) {
    const name = typeof m?.name === 'string' && m.name ? m.name : m?.model;
    if (typeof name !== 'string' || name === '') continue;
    const info: ResidentModelInfo = { model: name };
    const size = num(m?.size);
    const vram = num(m?.size_vram);
    const expires = typeof m?.expires_at === 'string' ? Date.parse(m.expires_at) : Number.NaN;
    if (size !== undefined) info.sizeBytes = size;
    if (vram !== undefined) info.vramBytes = vram;
    if (Number.isFinite(expires)) info.expiresInSeconds = Math.max(0, (expires - nowMs) / 1000);
    out.push(info);
  }
  return out;
}

/**
 * Ollama: `GET /api/tags` and `GET /api/version` in parallel (fetch with the check's
 * `AbortSignal`), required models present, latency. Non-critical by default (the service is
 * degraded, not unhealthy, without its LLM). `url: undefined` reports `not_configured`. With
 * `residentModel`, also `GET /api/ps`: `warn` when that model is not in memory (cold).
 */
export function ollamaCheck(options: OllamaCheckOptions): HealthCheckDefinition {
  if (!options || typeof options !== 'object') {
    throw new DeiaHealthError('DEIA_HEALTH_OPTIONS', 'ollamaCheck({ url, models }) needs an options object.');
  }
  checkSchema(
    'ollamaCheck',
    options,
    {
      ...CHECK_OPTIONS_SCHEMA,
      url: rules.type('string', 'a URL such as "http://127.0.0.1:11434" (empty: not configured)'),
      models: rules.arrayOf((m) => typeof m === 'string' && m !== '', 'an array of model names'),
      headers: rules.recordOf((v) => typeof v === 'string', 'an object of header names to string values'),
      fetch: rules.function('a fetch-compatible function'),
      residentModel: rules.nonEmptyString('a model name such as "llama3.2"'),
    },
    failOptions,
  );
  const {
    url: rawUrl,
    models = [],
    headers: rawHeaders,
    fetch: fetchImpl,
    residentModel,
    ...checkOptions
  } = options;
  let url = rawUrl;
  let headers = rawHeaders;
  if (rawUrl !== undefined && rawUrl !== '') {
    try {
      ({ url, headers } = splitCredentials(rawUrl, rawHeaders));
    } catch {
      throw new DeiaHealthError(
        'DEIA_HEALTH_OPTIONS',
        'ollamaCheck: url is not a valid URL (e.g. http://127.0.0.1:11434).',
      );
    }
  }
  const run = async (signal: AbortSignal, ctx: CheckContext): Promise<CheckOutcome> => {
    if (url === undefined || url === '') {
      return { status: 'not_configured', message: 'not configured (no url)' };
    }
    const f = fetchImpl ?? globalThis.fetch;
    const start = performance.now();
    const tagsP = getOllamaJson(f, url, '/api/tags', signal, headers).then((body) => ({
      body,
      latencyMs: performance.now() - start,
    }));
    const versionP = getOllamaJson(f, url, '/api/version', signal, headers);
    // /api/ps lists what is loaded without loading anything; its failure only degrades
    const psP =
      residentModel === undefined
        ? undefined
        : getOllamaJson(f, url, '/api/ps', signal, headers).then(
            (body) => residentModelsOf(body, Date.now()),
            () => undefined,
          );
    const [tags, version, resident] = await Promise.all([tagsP, versionP, psP]);
    const list = (tags.body as { models?: Array<{ name?: string; model?: string }> } | null)?.models ?? [];
    const available = new Set<string>();
    for (const m of list) {
      if (m.name) available.add(withLatest(m.name));
      if (m.model) available.add(withLatest(m.model));
    }
    const missing = models.filter((m) => !available.has(withLatest(m)));
    const details: Record<string, unknown> = {
      version: (version as { version?: string } | null)?.version,
      models_available: list.length,
      ...(models.length > 0 ? { models_required: [...models], models_missing: missing } : {}),
      ...(ctx.exposeHostnames ? { url } : {}),
    };
    if (residentModel !== undefined) {
      details.resident =
        resident === undefined
          ? null
          : resident.some((m) => withLatest(m.model) === withLatest(residentModel));
      details.models_resident = resident?.map((m) => m.model) ?? null;
    }
    if (missing.length > 0) {
      return {
        status: 'fail',
        latencyMs: tags.latencyMs,
        message: `missing models: ${missing.join(', ')}`,
        details,
      };
    }
    if (residentModel !== undefined && details.resident !== true) {
      return {
        status: 'warn',
        latencyMs: tags.latencyMs,
        message:
          details.resident === null
            ? 'could not read the resident models (/api/ps)'
            : `model ${residentModel} is not loaded (cold): its next call waits for it to load`,
        details,
      };
    }
    return { status: 'pass', latencyMs: tags.latencyMs, details };
  };
  return { kind: 'llm', critical: false, ...checkOptions, run };
}
