/** Error thrown on bad set-up (bad options). `code` is stable; match on it. */
export class DeiaHealthError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'DeiaHealthError';
    this.code = code;
  }
}
