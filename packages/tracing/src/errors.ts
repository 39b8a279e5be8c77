/** Error thrown on bad set-up (bad options, bad environment). `code` is stable; match on it. */
export class DeiaTracingError extends Error {
  /**
   * What went wrong, stable across versions; the message repeats it as `[code]`. One of
   * `DEIA_TRACING_OPTIONS`, `DEIA_TRACING_ENV`, `DEIA_TRACING_GRPC_MISSING`,
   * `DEIA_TRACING_FASTIFY_OTEL_MISSING`, `DEIA_LOGGER_OPTIONS`.
   */
  readonly code: string;
  constructor(code: string, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'DeiaTracingError';
    this.code = code;
  }
}
