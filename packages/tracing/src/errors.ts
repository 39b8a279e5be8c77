/** Error thrown on bad set-up (bad options, bad environment). `code` is stable; match on it. */
export class DeiaTracingError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'DeiaTracingError';
    this.code = code;
  }
}
