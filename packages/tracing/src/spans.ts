import { type Attributes, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/** Tracer name of the domain spans. */
export const TRACER_NAME = '@deia/tracing';

/** Attribute names (GenAI and messaging semantic conventions, plus `deia.*` for the domain). */
export const SPAN_ATTRIBUTES = {
  botId: 'deia.bot.id',
  taskId: 'deia.task.id',
  genAiSystem: 'gen_ai.system',
  genAiProviderName: 'gen_ai.provider.name',
  genAiOperationName: 'gen_ai.operation.name',
  genAiRequestModel: 'gen_ai.request.model',
  genAiResponseModel: 'gen_ai.response.model',
  genAiInputTokens: 'gen_ai.usage.input_tokens',
  genAiOutputTokens: 'gen_ai.usage.output_tokens',
  genAiFinishReasons: 'gen_ai.response.finish_reasons',
  messagingSystem: 'messaging.system',
  messagingOperationType: 'messaging.operation.type',
  messagingOperationName: 'messaging.operation.name',
  messagingDestinationName: 'messaging.destination.name',
  errorType: 'error.type',
} as const;

const tracer = () => trace.getTracer(TRACER_NAME);

async function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  fn: (span: Span) => T | Promise<T>,
  onResult?: (span: Span, result: T) => void,
): Promise<T> {
  return tracer().startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      const result = await fn(span);
      if (onResult) {
        try {
          onResult(span, result);
        } catch {
          // reading usage from the result must never fail the caller
        }
      }
      return result;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      span.recordException(e);
      span.setAttribute(SPAN_ATTRIBUTES.errorType, e.name || 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: e.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Extra attributes for a domain span. */
export interface SpanExtras {
  /** Added to the span's attributes. */
  attributes?: Attributes;
}

/**
 * Runs `fn` (handing a message or task to a bot) in an INTERNAL span `bot.dispatch` with `deia.bot.id`.
 * Records an exception and sets ERROR status when `fn` throws (and rethrows).
 */
export function withBotDispatchSpan<T>(
  botId: string,
  fn: (span: Span) => T | Promise<T>,
  extras: SpanExtras = {},
): Promise<T> {
  return inSpan(
    'bot.dispatch',
    SpanKind.INTERNAL,
    { [SPAN_ATTRIBUTES.botId]: botId, ...extras.attributes },
    fn,
  );
}

/** Token counts of one LLM call. */
export interface GenAiUsage {
  /** Tokens of the prompt (`gen_ai.usage.input_tokens`, not set when absent or negative). */
  inputTokens?: number;
  /** Tokens generated (`gen_ai.usage.output_tokens`, not set when absent or negative). */
  outputTokens?: number;
  /** Model that answered, when it differs from the requested one. */
  responseModel?: string;
  /** Why the model stopped (`gen_ai.response.finish_reasons`; Ollama's `done_reason`: `stop`, `length`). */
  finishReason?: string;
}

/** What `withOllamaSpan` needs to know about the call. */
export interface OllamaSpanOptions extends SpanExtras {
  /** Requested model, e.g. `llama3.2:1b` (`gen_ai.request.model`). */
  model: string;
  /** `gen_ai.operation.name`: `chat`, `text_completion` (Ollama generate) or `embeddings`. @default 'chat' */
  operation?: string;
  /**
   * Reads token counts from the result. By default Ollama's own fields are used when present
   * (`prompt_eval_count` -> input tokens, `eval_count` -> output tokens, `model` -> response model,
   * `done_reason` -> finish reason).
   */
  usage?: (result: unknown) => GenAiUsage | undefined;
}

/** Sets the GenAI usage attributes on an Ollama span (for streaming calls, where counts arrive later). */
export function recordGenAiUsage(span: Span, usage: GenAiUsage): void {
  if (typeof usage.inputTokens === 'number' && usage.inputTokens >= 0) {
    span.setAttribute(SPAN_ATTRIBUTES.genAiInputTokens, usage.inputTokens);
  }
  if (typeof usage.outputTokens === 'number' && usage.outputTokens >= 0) {
    span.setAttribute(SPAN_ATTRIBUTES.genAiOutputTokens, usage.outputTokens);
  }
  if (typeof usage.responseModel === 'string' && usage.responseModel !== '') {
    span.setAttribute(SPAN_ATTRIBUTES.genAiResponseModel, usage.responseModel);
  }
  if (typeof usage.finishReason === 'string' && usage.finishReason !== '') {
    span.setAttribute(SPAN_ATTRIBUTES.genAiFinishReasons, [usage.finishReason]);
  }
}

function ollamaUsage(result: unknown): GenAiUsage | undefined {
  if (result === null || typeof result !== 'object') return undefined;
  const r = result as {
    prompt_eval_count?: unknown;
    eval_count?: unknown;
    model?: unknown;
    done_reason?: unknown;
  };
  const usage: GenAiUsage = {};
  if (typeof r.prompt_eval_count === 'number') usage.inputTokens = r.prompt_eval_count;
  if (typeof r.eval_count === 'number') usage.outputTokens = r.eval_count;
  if (typeof r.model === 'string') usage.responseModel = r.model;
  if (typeof r.done_reason === 'string') usage.finishReason = r.done_reason;
  return usage;
}

/**
 * Runs one Ollama call in a CLIENT span named `{operation} {model}` with the GenAI semantic conventions:
 * `gen_ai.system`/`gen_ai.provider.name` = `ollama`, `gen_ai.operation.name`, `gen_ai.request.model`,
 * and, from the result (or `recordGenAiUsage(span, ...)` inside `fn`), `gen_ai.usage.input_tokens`,
 * `gen_ai.usage.output_tokens`, `gen_ai.response.model`. Exceptions are recorded and rethrown.
 */
export function withOllamaSpan<T>(
  options: OllamaSpanOptions,
  fn: (span: Span) => T | Promise<T>,
): Promise<T> {
  const operation = options.operation ?? 'chat';
  const read = options.usage ?? ollamaUsage;
  return inSpan(
    `${operation} ${options.model}`,
    SpanKind.CLIENT,
    {
      [SPAN_ATTRIBUTES.genAiSystem]: 'ollama',
      [SPAN_ATTRIBUTES.genAiProviderName]: 'ollama',
      [SPAN_ATTRIBUTES.genAiOperationName]: operation,
      [SPAN_ATTRIBUTES.genAiRequestModel]: options.model,
      ...options.attributes,
    },
    fn,
    (span, result) => {
      const usage = read(result);
      if (usage) recordGenAiUsage(span, usage);
    },
  );
}

/** What `withTaskSpan` records besides the queue. */
export interface TaskSpanOptions extends SpanExtras {
  /** `deia.task.id`. */
  taskId?: string;
}

/**
 * Runs one queued task in a CONSUMER span `process {queue}` (messaging semantic conventions:
 * `messaging.operation.type` = `process`, `messaging.destination.name` = queue). Exceptions are recorded and rethrown.
 */
export function withTaskSpan<T>(
  queue: string,
  fn: (span: Span) => T | Promise<T>,
  options: TaskSpanOptions = {},
): Promise<T> {
  const attributes: Attributes = {
    [SPAN_ATTRIBUTES.messagingSystem]: 'deia',
    [SPAN_ATTRIBUTES.messagingOperationType]: 'process',
    [SPAN_ATTRIBUTES.messagingOperationName]: 'process',
    [SPAN_ATTRIBUTES.messagingDestinationName]: queue,
    ...options.attributes,
  };
  if (options.taskId !== undefined) attributes[SPAN_ATTRIBUTES.taskId] = options.taskId;
  return inSpan(`process ${queue}`, SpanKind.CONSUMER, attributes, fn);
}
