import type { DestinationStream, LoggerOptions as PinoLoggerOptions } from 'pino';

/** Case of the `level` word in log lines. */
export type LevelCase = 'upper' | 'lower';

/** Options of `createLogger`. Every other pino option can be passed through `pino`. */
export interface LoggerOptions {
  /**
   * `service` field on every line.
   * @default the running tracing's `service.name` ?? OTEL_SERVICE_NAME ?? `service.name` in
   * OTEL_RESOURCE_ATTRIBUTES ?? npm_package_name ?? 'unknown_service:node'
   */
  service?: string;
  /** Minimum level. @default process.env.LOG_LEVEL ?? 'info' */
  level?: string;
  /** `INFO` as in the operations guide, or pino's `info`. @default 'upper' */
  levelCase?: LevelCase;
  /**
   * Secret removal. `true`: default keys and connection-string credentials; `false`: off (not recommended);
   * an object adds keys (matched case-insensitively, ignoring `-` and `_`) or changes the censor.
   * @default true
   */
  redact?: boolean | RedactOptions;
  /**
   * Human-readable output through `pino-pretty` (optional peer). Only honoured when NODE_ENV is not
   * `production`; the JSON line format is what log shippers parse.
   * @default false
   */
  pretty?: boolean;
  /** Where lines go (a pino destination or any writable stream). @default stdout (pino.destination(1)) */
  destination?: DestinationStream;
  /** Adds `trace_id`/`span_id`/`trace_flags` of the active span to every line. @default true */
  traceContext?: boolean;
  /** Fields on every line (after `service`). @default {} */
  base?: Record<string, unknown>;
  /** Raw pino options, merged last (the format-defining ones above win). */
  pino?: PinoLoggerOptions;
}

/** Options of secret redaction in logs. */
export interface RedactOptions {
  /** More keys whose values are replaced, e.g. `['sessionId']`. */
  keys?: readonly string[];
  /** Replacement text. @default '[REDACTED]' */
  censor?: string;
}
