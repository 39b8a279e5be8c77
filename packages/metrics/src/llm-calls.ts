import { checkOptions, type OptionsSchema, rules } from '@deia/options';
import type { AnyHandle } from './handles.js';
import type {
  GenAiCall,
  GenAiCallAttributes,
  GenAiCallOptions,
  OllamaFinalFields,
  ResidentModel,
} from './llm-types.js';
import type { CounterHandle, GaugeHandle, HistogramHandle } from './types.js';

/** Defaults of `metrics.llm.startCall`'s attributes and options. */
export const DEFAULT_GENAI_CALL_OPTIONS = {
  provider: 'ollama',
  coldStartSeconds: 1,
} as const;

/**
 * Maps an error to a low-cardinality `error_type` (see `GENAI_ERROR_TYPES`): `TimeoutError` is
 * `timeout`, `AbortError` `cancelled`, fetch's `terminated` (the body was cut) `truncated`, fetch's
 * `fetch failed` and socket errors `network`, an error with a numeric `status` its status, anything
 * else `_OTHER`. Never throws.
 */
export function genAiErrorType(error: unknown): string {
  try {
    if (typeof error === 'string') return error === '' ? '_OTHER' : error;
    const e = error as { name?: unknown; message?: unknown; status?: unknown; code?: unknown } | null;
    if (!e || typeof e !== 'object') return '_OTHER';
    if (e.name === 'TimeoutError') return 'timeout';
    if (e.name === 'AbortError') return 'cancelled';
    if (typeof e.status === 'number' && Number.isInteger(e.status)) return String(e.status);
    if (e.message === 'terminated') return 'truncated';
    if (e.message === 'fetch failed') return 'network';
    if (typeof e.code === 'string' && /^(ECONN|EPIPE|ENOTFOUND|EAI_|EHOST|ENET|UND_ERR_SOCKET)/.test(e.code))
      return 'network';
    return '_OTHER';
  } catch {
    return '_OTHER';
  }
}

type Opt = <H extends AnyHandle>(name: string) => H;

/** `startCall`'s options, checked with the SDK's one options contract (unknown keys, kinds). */
const CALL_OPTIONS_SCHEMA = {
  now: rules.function('a clock returning milliseconds'),
  coldStartSeconds: rules.number('a number of seconds, 0 or more', { min: 0 }),
  pricePerToken: rules.recordOf(
    (v, k) => (k === 'input' || k === 'output') && typeof v === 'number' && Number.isFinite(v) && v >= 0,
    'an object { input?, output? } of US dollars per token (0 or more)',
  ),
} as const satisfies OptionsSchema & Record<keyof GenAiCallOptions, unknown>;

class BadCallOptions extends Error {}
const rejectOptions = (message: string): never => {
  throw new BadCallOptions(message);
};

const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;

/** Ollama's names for the operations in the deprecated `llm_*` series' `operation` label. */
const LEGACY_OPERATION: Record<string, string> = {
  chat: 'chat',
  text_completion: 'generate',
  embeddings: 'embeddings',
};

/** Records the counts of an Ollama final chunk (tokens, load, phases, cost) on `model`/`labels`. */
function recordFinal(
  opt: Opt,
  model: Record<string, string>,
  labels: Record<string, string>,
  f: OllamaFinalFields,
  options: GenAiCallOptions | undefined,
): void {
  const input = count(f.prompt_eval_count);
  const output = count(f.eval_count);
  const usage = opt<HistogramHandle>('gen_ai_client_token_usage');
  if (input !== undefined) usage.observe({ ...labels, gen_ai_token_type: 'input' }, input);
  if (output !== undefined) usage.observe({ ...labels, gen_ai_token_type: 'output' }, output);
  const load = count(f.load_duration);
  if (load !== undefined) {
    const seconds = load / 1e9;
    opt<HistogramHandle>('llm_model_load_duration_seconds').observe(model, seconds);
    const threshold = options?.coldStartSeconds ?? DEFAULT_GENAI_CALL_OPTIONS.coldStartSeconds;
    opt<CounterHandle>('llm_model_cold_starts_total').inc(model, seconds > threshold ? 1 : 0);
  }
  const tokens = opt<CounterHandle>('llm_eval_tokens_total');
  const time = opt<CounterHandle>('llm_eval_duration_seconds_total');
  const phases = [
    ['prompt', input, count(f.prompt_eval_duration)],
    ['generation', output, count(f.eval_duration)],
  ] as const;
  for (const [phase, n, ns] of phases) {
    // Both or neither: a rate of tokens over time must divide matching sums.
    if (n === undefined || ns === undefined) continue;
    tokens.inc({ ...model, phase }, n);
    time.inc({ ...model, phase }, ns / 1e9);
  }
  const price = options?.pricePerToken;
  const legacyModel = { model: model.gen_ai_request_model as string };
  const legacyTokens = opt<CounterHandle>('llm_tokens_total');
  if (input !== undefined) legacyTokens.inc({ ...legacyModel, type: 'prompt' }, input);
  if (output !== undefined) legacyTokens.inc({ ...legacyModel, type: 'completion' }, output);
  if (price) {
    const cost = (input ?? 0) * (count(price.input) ?? 0) + (output ?? 0) * (count(price.output) ?? 0);
    if (cost > 0) {
      opt<CounterHandle>('llm_request_cost_usd_total').inc(model, cost);
      opt<CounterHandle>('llm_cost_usd_total').inc(legacyModel, cost);
    }
  }
}

/**
 * `startCall`'s options check. Options objects are usually constants: each is checked once. A bad one
 * is a warning (once per message) and is ignored as a whole, since startCall never throws at runtime.
 */
function createOptionsCheck(say: (message: string) => void) {
  const checked = new WeakSet<object>();
  const warned = new Set<string>();
  return (options: GenAiCallOptions | undefined): GenAiCallOptions | undefined => {
    if (options === undefined || (typeof options === 'object' && options !== null && checked.has(options)))
      return options;
    try {
      checkOptions('metrics.llm.startCall', options, CALL_OPTIONS_SCHEMA, rejectOptions);
      checked.add(options);
      return options;
    } catch (err) {
      const message = `@deia/metrics: ${(err as Error).message} These options are ignored.`;
      if (!warned.has(message) && warned.size < 100) {
        warned.add(message);
        say(message);
      }
      return undefined;
    }
  };
}

/** `metrics.llm.startCall`: one call's timing, chunks and final counts. */
function createStartCall(
  opt: Opt,
  usable: (options: GenAiCallOptions | undefined) => GenAiCallOptions | undefined,
  contain: (what: string, err: unknown) => void,
) {
  return (attrs: GenAiCallAttributes, given?: GenAiCallOptions): GenAiCall => {
    const options = usable(given);
    let now: () => number = () => performance.now();
    let start = 0;
    let labels: Record<string, string> = {};
    let model: Record<string, string> = {};
    let operation = '';
    try {
      if (options?.now) now = options.now;
      start = now();
      operation = String(attrs?.operation ?? '');
      model = {
        gen_ai_provider_name: String(attrs?.provider ?? DEFAULT_GENAI_CALL_OPTIONS.provider),
        gen_ai_request_model: String(attrs?.model ?? ''),
      };
      labels = { gen_ai_operation_name: operation, ...model };
    } catch (err) {
      contain('start', err);
    }
    let last: number | undefined;
    let ended = false;
    const end = (errorType: string, final: OllamaFinalFields | undefined) => {
      if (ended) return;
      ended = true;
      try {
        const seconds = Math.max(0, now() - start) / 1000;
        opt<HistogramHandle>('gen_ai_client_operation_duration_seconds').observe(
          { ...labels, error_type: errorType },
          seconds,
        );
        const legacy = {
          model: model.gen_ai_request_model as string,
          operation: LEGACY_OPERATION[operation] ?? operation,
        };
        opt<HistogramHandle>('llm_request_duration_seconds').observe(legacy, seconds);
        if (errorType !== '') opt<CounterHandle>('llm_request_errors_total').inc(legacy);
        if (final && typeof final === 'object') recordFinal(opt, model, labels, final, options);
      } catch (err) {
        contain(errorType === '' ? 'finish' : 'fail', err);
      }
    };
    return {
      chunk() {
        if (ended) return;
        try {
          const t = now();
          if (last === undefined) {
            opt<HistogramHandle>('gen_ai_client_operation_time_to_first_chunk_seconds').observe(
              labels,
              Math.max(0, t - start) / 1000,
            );
          } else {
            opt<HistogramHandle>('gen_ai_client_operation_time_per_output_chunk_seconds').observe(
              labels,
              Math.max(0, t - last) / 1000,
            );
          }
          last = t;
        } catch (err) {
          contain('chunk', err);
        }
      },
      finish: (final) => end('', final),
      fail: (error, final) => end(genAiErrorType(error), final),
      get ended() {
        return ended;
      },
    };
  };
}

/** `metrics.llm.recordResidentModels`: the resident models of a provider, stale series removed. */
function createResidentRecording(opt: Opt, contain: (what: string, err: unknown) => void) {
  /** Models set per provider, to remove the series of those no longer resident. */
  const resident = new Map<string, Set<string>>();
  return (models: readonly ResidentModel[], provider = 'ollama') => {
    try {
      const seen = new Set<string>();
      const residentG = opt<GaugeHandle>('llm_model_resident');
      const memory = opt<GaugeHandle>('llm_model_memory_bytes');
      const expires = opt<GaugeHandle>('llm_model_expires_in_seconds');
      for (const m of Array.isArray(models) ? models : []) {
        if (!m || typeof m.model !== 'string' || m.model === '') continue;
        const labels = { gen_ai_provider_name: provider, gen_ai_request_model: m.model };
        seen.add(m.model);
        residentG.set(labels, 1);
        const size = count(m.sizeBytes);
        const vram = count(m.vramBytes);
        // a field no longer reported loses its series rather than keep a stale value
        if (size !== undefined) memory.set({ ...labels, memory: 'total' }, size);
        else memory.remove({ ...labels, memory: 'total' });
        if (vram !== undefined) memory.set({ ...labels, memory: 'vram' }, vram);
        else memory.remove({ ...labels, memory: 'vram' });
        if (typeof m.expiresInSeconds === 'number' && Number.isFinite(m.expiresInSeconds)) {
          expires.set(labels, Math.max(0, m.expiresInSeconds));
        } else expires.remove(labels);
      }
      for (const gone of resident.get(provider) ?? []) {
        if (seen.has(gone)) continue;
        const labels = { gen_ai_provider_name: provider, gen_ai_request_model: gone };
        residentG.remove(labels);
        memory.remove(labels);
        expires.remove(labels);
      }
      resident.set(provider, seen);
    } catch (err) {
      contain('resident models', err);
    }
  };
}

/**
 * The `metrics.llm` recording of model calls and resident models, over the catalog's handles.
 * `warn` receives failures of the metrics side, which are never thrown to the caller.
 */
export function createLlmRecording(opt: Opt, warn: (message: string) => void) {
  const say = (message: string) => {
    try {
      warn(message);
    } catch {
      // a throwing logger must not break the caller either
    }
  };
  const contain = (what: string, err: unknown) =>
    say(`@deia/metrics: recording a model call (${what}) failed: ${(err as Error)?.message ?? String(err)}`);
  return {
    startCall: createStartCall(opt, createOptionsCheck(say), contain),
    recordResidentModels: createResidentRecording(opt, contain),
  };
}
