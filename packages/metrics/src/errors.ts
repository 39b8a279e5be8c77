/** Error thrown on bad set-up (bad options, bad definitions). `code` is stable; match on it. */
export class DeiaMetricsError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'DeiaMetricsError';
    this.code = code;
  }
}
