/**
 * Every `code` a `DeiaOpsError` can carry. Stable: match on it (`err.code === 'DEIA_OPS_OPTIONS'`).
 * - `DEIA_OPS_OPTIONS`: bad options of `generateOps` / `writeOps` / `generateKubernetes`
 *   (or of the CLI's `--config`); an invalid `extraMetrics` definition or
 *   `buckets` override is reported with this code too, its message carrying `@deia/metrics`' own.
 * - `DEIA_OPS_CATALOG`: options that do not match the catalog (a rule reads a metric, label or
 *   bucket bound that is not registered).
 * - `DEIA_OPS_DASHBOARD`: an alert with no dashboard to link (`grafana.url` set) or a broken panel spec.
 * - `DEIA_OPS_KUBERNETES`: options the `kubernetes` target cannot turn into resources.
 */
export type DeiaOpsErrorCode =
  | 'DEIA_OPS_OPTIONS'
  | 'DEIA_OPS_CATALOG'
  | 'DEIA_OPS_DASHBOARD'
  | 'DEIA_OPS_KUBERNETES';

/** Error thrown on options the generator cannot build from. `code` is stable; match on it. */
export class DeiaOpsError extends Error {
  /** What went wrong, stable across versions; the message repeats it as `[code]`. */
  readonly code: DeiaOpsErrorCode;
  constructor(code: DeiaOpsErrorCode, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'DeiaOpsError';
    this.code = code;
  }
}
