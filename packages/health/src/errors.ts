/**
 * Every `code` a `DeiaHealthError` can carry. Stable: match on it.
 * - `DEIA_HEALTH_OPTIONS`: bad options of `createHealth` or a check factory.
 * - `DEIA_SHUTDOWN_OPTIONS`: bad options of `createShutdown`.
 * - `DEIA_HEALTH_PG_MISSING`: `postgresCheck({ connectionString })` without the `pg` package.
 * - `DEIA_HEALTH_UNKNOWN_CHECK`: `health.check(names)` with a name that is not a check.
 */
export type DeiaHealthErrorCode =
  | 'DEIA_HEALTH_OPTIONS'
  | 'DEIA_SHUTDOWN_OPTIONS'
  | 'DEIA_HEALTH_PG_MISSING'
  | 'DEIA_HEALTH_UNKNOWN_CHECK';

/** Error thrown on bad set-up (bad options). `code` is stable; match on it. */
export class DeiaHealthError extends Error {
  /** What went wrong, stable across versions; the message repeats it as `[code]`. */
  readonly code: DeiaHealthErrorCode;
  constructor(code: DeiaHealthErrorCode, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'DeiaHealthError';
    this.code = code;
  }
}
