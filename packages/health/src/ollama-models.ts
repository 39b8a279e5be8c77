import { checkOptions as checkSchema, rules } from '@deia/options';
import { getOllamaJson, residentModelsOf, splitCredentials } from './checks/ollama.js';
import { DeiaHealthError } from './errors.js';
import type { ResidentModelInfo } from './types.js';
import { failOptions } from './validation.js';

/** Where `watchOllamaModels` puts what it reads; `Metrics` from `@deia/metrics` fits (`metrics.llm`). */
export interface ResidentModelsSink {
  /**
   * Gets the models Ollama holds after every poll (an empty list when none is loaded or the poll
   * failed), with the options' `provider`. A throw is logged and the polling goes on.
   */
  recordResidentModels(models: readonly ResidentModelInfo[], provider?: string): void;
}

/** Options of `watchOllamaModels`. Defaults in `DEFAULT_OLLAMA_MODELS_OPTIONS`. */
export interface OllamaModelsOptions {
  /** Base URL of Ollama, e.g. `process.env.OLLAMA_URL` (credentials in it become a Basic header). */
  url: string;
  /** Receives the resident models after every poll: `metrics.llm` of `@deia/metrics`. */
  sink: ResidentModelsSink;
  /**
   * Time between polls of `/api/ps`, in milliseconds (1 s to 5 min).
   * @default 15000
   */
  intervalMs?: number;
  /**
   * Deadline of each poll, in milliseconds; at most `intervalMs`.
   * @default 2000 (or `intervalMs` when shorter)
   */
  timeoutMs?: number;
  /**
   * `gen_ai_provider_name` of the series.
   * @default 'ollama'
   */
  provider?: string;
  /** Extra request headers (e.g. an auth header of a proxy in front of Ollama). */
  headers?: Record<string, string>;
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Gets one warning when polls start failing and one info line when they work again (pino fits).
   * @default undefined (silent)
   */
  logger?: { warn(obj: object, msg?: string): void; info?(obj: object, msg?: string): void };
}

/** Defaults of `watchOllamaModels`. */
export const DEFAULT_OLLAMA_MODELS_OPTIONS = {
  intervalMs: 15_000,
  timeoutMs: 2_000,
  provider: 'ollama',
} as const;

/** The handle `watchOllamaModels` returns. */
export interface OllamaModelsWatch {
  /**
   * Polls `/api/ps` now (a poll already running is shared, not doubled) and hands the list to the
   * sink; resolves with it, or `undefined` when the poll failed. Never rejects.
   */
  poll(): Promise<readonly ResidentModelInfo[] | undefined>;
  /** Stops polling; a poll in flight is aborted. Idempotent. */
  stop(): void;
}

/**
 * Polls Ollama's `GET /api/ps` (the models it holds in memory; reading it never loads one) every
 * `intervalMs`, each call bounded by `timeoutMs`, on an unref'd timer (it never keeps the process
 * alive), and hands the list to `sink.recordResidentModels`, which sets `llm_model_resident`,
 * `llm_model_memory_bytes` and `llm_model_expires_in_seconds` and removes the series of unloaded
 * models. A failed poll (Ollama down, a timeout, a body that is not `/api/ps`'s) hands an empty
 * list: no model is known to be resident, so the series go away rather than go stale. Polls
 * once at once. Throws `DEIA_HEALTH_OPTIONS` on bad options.
 */
export function watchOllamaModels(options: OllamaModelsOptions): OllamaModelsWatch {
  if (!options || typeof options !== 'object') {
    throw new DeiaHealthError(
      'DEIA_HEALTH_OPTIONS',
      'watchOllamaModels({ url, sink }) needs an options object.',
    );
  }
  checkSchema(
    'watchOllamaModels',
    options,
    {
      url: { ...rules.nonEmptyString('a URL such as "http://127.0.0.1:11434"'), required: true },
      sink: { ...rules.methods(['recordResidentModels'], 'metrics.llm of @deia/metrics'), required: true },
      intervalMs: rules.number('a number of milliseconds from 1000 to 300000', { min: 1_000, max: 300_000 }),
      timeoutMs: rules.number('a positive number of milliseconds', { min: 0, exclusive: true }),
      provider: rules.nonEmptyString(),
      headers: rules.recordOf((v) => typeof v === 'string', 'an object of header names to string values'),
      fetch: rules.function('a fetch-compatible function'),
      logger: rules.methods(['warn'], 'a logger with warn(obj, msg) (pino fits)'),
    },
    failOptions,
  );
  const intervalMs = options.intervalMs ?? DEFAULT_OLLAMA_MODELS_OPTIONS.intervalMs;
  const timeoutMs = options.timeoutMs ?? Math.min(DEFAULT_OLLAMA_MODELS_OPTIONS.timeoutMs, intervalMs);
  if (timeoutMs > intervalMs) {
    failOptions(`watchOllamaModels: timeoutMs (${timeoutMs}) must not exceed intervalMs (${intervalMs}).`);
  }
  let base: { url: string; headers: Record<string, string> | undefined };
  try {
    base = splitCredentials(options.url, options.headers);
  } catch {
    throw new DeiaHealthError(
      'DEIA_HEALTH_OPTIONS',
      'watchOllamaModels: url is not a valid URL (e.g. http://127.0.0.1:11434).',
    );
  }
  const { sink, logger } = options;
  const provider = options.provider ?? DEFAULT_OLLAMA_MODELS_OPTIONS.provider;
  const f = options.fetch ?? globalThis.fetch;
  let stopped = false;
  let failing = false;
  let inFlight: Promise<readonly ResidentModelInfo[] | undefined> | undefined;
  const controllers = new Set<AbortController>();

  const hand = (models: readonly ResidentModelInfo[]) => {
    try {
      sink.recordResidentModels(models, provider);
    } catch (err) {
      logger?.warn({ err }, '@deia/health: the resident-models sink threw');
    }
  };

  const once = async (): Promise<readonly ResidentModelInfo[] | undefined> => {
    const ac = new AbortController();
    controllers.add(ac);
    const timer = setTimeout(() => ac.abort(new DOMException('poll timed out', 'TimeoutError')), timeoutMs);
    try {
      const body = await getOllamaJson(f, base.url, '/api/ps', ac.signal, base.headers);
      const models = residentModelsOf(body, Date.now());
      if (models === undefined) throw new Error('/api/ps answered without a models list');
      if (stopped) return models;
      if (failing) logger?.info?.({}, '@deia/health: reading Ollama /api/ps works again');
      failing = false;
      hand(models);
      return models;
    } catch (err) {
      if (stopped) return undefined;
      if (!failing)
        logger?.warn({ err }, '@deia/health: reading Ollama /api/ps failed; resident models unknown');
      failing = true;
      hand([]);
      return undefined;
    } finally {
      clearTimeout(timer);
      controllers.delete(ac);
    }
  };

  const poll = () => {
    if (stopped) return Promise.resolve(undefined);
    inFlight ??= once().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const timer = setInterval(() => void poll(), intervalMs);
  timer.unref();
  void poll();
  return {
    poll,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      for (const ac of controllers) ac.abort(new DOMException('stopped', 'AbortError'));
    },
  };
}
