import { checkOptions, type OptionRule, type OptionsSchema, rules } from '@deia/options';
import { bearerTokenMatcher } from './auth.js';
import { createHandler, resolvePaths } from './endpoints.js';
import { DeiaHealthError } from './errors.js';
import { formatUptime, publicReason, roundMs, scrub, scrubDetails } from './safe.js';
import type {
  CheckFunction,
  CheckKind,
  CheckOptions,
  CheckOutcome,
  CheckResult,
  CheckStatus,
  Health,
  HealthCheck,
  HealthLogger,
  HealthMetricsSink,
  HealthOptions,
  HealthReport,
  HealthRequest,
  HealthStatus,
} from './types.js';
import { CHECK_OPTIONS_SCHEMA, failOptions } from './validation.js';

/** Defaults of `createHealth` and of every check that does not set its own. */
export const DEFAULT_HEALTH_OPTIONS = {
  /** Re-use a result for 2 s: a storm of requests costs one run per check per 2 s. */
  cacheTtlMs: 2000,
  /** Off: checks run on demand, so nothing queries your database while nobody asks. */
  refreshIntervalMs: 0,
  /** Statuses only: per-check details are opt-in (`'full'`, `{ token }` or a function of the request). */
  detail: 'status' as const,
  exposeHostnames: false,
  /** The guides' endpoint timeout (5 s; the cache endpoint's is 3 s, see `redisCheck`). */
  timeoutMs: 5000,
  critical: true,
  /** The guides' "failure threshold: 2 consecutive failures". */
  failureThreshold: 2,
} as const;

/** Whether a request gets per-check details, from the `detail` option (validated before). */
function detailFor(detail: NonNullable<HealthOptions['detail']>): (req: HealthRequest) => boolean {
  if (detail === 'full') return () => true;
  if (detail === 'status') return () => false;
  if (typeof detail === 'function') {
    return (req) => {
      try {
        const d = detail(req);
        return d === true || d === 'full';
      } catch {
        return false;
      }
    };
  }
  return bearerTokenMatcher(detail.token);
}

/** The options of `createHealth`, declared once (see `checkOptions`). */
const HEALTH_OPTIONS_SCHEMA = {
  checks: {
    must: 'an object of name -> check, e.g. { database: postgresCheck(pool) }',
    ok: (c) =>
      (c !== null && typeof c === 'object' && !Array.isArray(c)) ||
      'createHealth({ checks }): checks must be an object of name -> check, e.g. { database: postgresCheck(pool) }.',
    required: true,
  },
  version: rules.nonEmptyString('a version string'),
  metrics: rules.methods(
    ['recordHealthCheck'],
    'an object with recordHealthCheck(check, up, seconds); pass the object createMetrics() returns',
  ),
  logger: rules.methods(['warn', 'error'], 'a logger with warn(obj, msg) and error(obj, msg) (pino fits)'),
  cacheTtlMs: rules.number('a number >= 0 (0: no cache)', { min: 0 }),
  refreshIntervalMs: rules.number('a number >= 0 (0: off)', { min: 0 }),
  detail: {
    must: "'full', 'status', { token: string } or (req) => 'full' | 'status' | boolean",
    ok: (d) =>
      d === 'full' ||
      d === 'status' ||
      typeof d === 'function' ||
      (d !== null &&
        typeof d === 'object' &&
        typeof (d as { token?: unknown }).token === 'string' &&
        (d as { token: string }).token.length > 0),
  },
  exposeHostnames: rules.boolean(),
  paths: rules.type('object', 'an object of endpoint -> path'),
  defaults: rules.type('object', 'an object of check settings (critical, timeoutMs, failureThreshold)'),
} as const satisfies OptionsSchema & Record<keyof HealthOptions, OptionRule>;
const NAME_RE = /^[a-zA-Z0-9_.-]{1,64}$/;
const KINDS: readonly CheckKind[] = ['database', 'cache', 'llm', 'http', 'system', 'custom'];
const TIMEOUT = Symbol('timeout');
/** A timed-out run still pending after this many timeouts is abandoned and a new run may start. */
export const ABANDON_AFTER_TIMEOUTS = 10;

interface NormalizedCheck {
  name: string;
  run: CheckFunction;
  kind: CheckKind;
  critical: boolean;
  timeoutMs: number;
  failureThreshold: number;
  close?: () => void | Promise<void>;
}

function positive(value: unknown, what: string, integer = false): void {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new DeiaHealthError(
      'DEIA_HEALTH_OPTIONS',
      `${what} must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}.`,
    );
  }
}

function normalize(name: string, check: HealthCheck, defaults: CheckOptions): NormalizedCheck {
  if (!NAME_RE.test(name)) {
    throw new DeiaHealthError(
      'DEIA_HEALTH_OPTIONS',
      `check name "${name}" is not allowed; use 1-64 letters, digits, '_', '-' or '.' (it becomes a metric label).`,
    );
  }
  const def = typeof check === 'function' ? { run: check } : check;
  if (!def || typeof def !== 'object' || typeof def.run !== 'function') {
    throw new DeiaHealthError(
      'DEIA_HEALTH_OPTIONS',
      `checks.${name} must be a function (signal) => outcome or a check such as postgresCheck(pool).`,
    );
  }
  checkOptions(
    `checks.${name}`,
    def,
    { ...CHECK_OPTIONS_SCHEMA, run: rules.function(), kind: rules.oneOf(KINDS), close: rules.function() },
    failOptions,
  );
  const kind = def.kind ?? 'custom';
  if (!KINDS.includes(kind)) {
    throw new DeiaHealthError(
      'DEIA_HEALTH_OPTIONS',
      `checks.${name}.kind must be one of ${KINDS.join(', ')}.`,
    );
  }
  const timeoutMs = def.timeoutMs ?? defaults.timeoutMs ?? DEFAULT_HEALTH_OPTIONS.timeoutMs;
  positive(timeoutMs, `checks.${name}.timeoutMs`);
  const failureThreshold =
    def.failureThreshold ?? defaults.failureThreshold ?? DEFAULT_HEALTH_OPTIONS.failureThreshold;
  positive(failureThreshold, `checks.${name}.failureThreshold`, true);
  return {
    name,
    run: def.run,
    kind,
    critical: def.critical ?? defaults.critical ?? DEFAULT_HEALTH_OPTIONS.critical,
    timeoutMs,
    failureThreshold,
    ...(def.close ? { close: def.close } : {}),
  };
}

function normalizeOutcome(value: unknown): CheckOutcome {
  if (value === undefined || value === true) return { status: 'pass' };
  if (value === false) return { status: 'fail', message: 'check returned false' };
  if (value && typeof value === 'object' && 'status' in value) {
    const status = (value as CheckOutcome).status;
    if (status === 'pass' || status === 'warn' || status === 'fail' || status === 'not_configured') {
      return value as CheckOutcome;
    }
  }
  return {
    status: 'fail',
    message: 'check returned an invalid result',
    error: new Error('invalid check result'),
  };
}

/** Runs one check with timeout, failure threshold, cache and single-flight. */
class CheckRunner {
  private last: CheckResult | undefined;
  private lastAt = 0;
  private inflight: Promise<CheckResult> | undefined;
  /** `performance.now()` when the check's own promise from a timed-out run was started, while it has not settled. */
  private pendingSince: number | undefined;
  private everPassed = false;
  private failures = 0;

  constructor(
    readonly check: NormalizedCheck,
    private readonly ctx: {
      metrics: HealthMetricsSink | undefined;
      logger: HealthLogger | undefined;
      exposeHostnames: boolean;
    },
  ) {}

  /**
   * The cached result when younger than `maxAgeMs` (even while a refresh runs: a probe never waits
   * for a background run), else the in-flight run, else a new run.
   */
  get(maxAgeMs: number): Promise<CheckResult> {
    if (this.last && performance.now() - this.lastAt < maxAgeMs) {
      return Promise.resolve({ ...this.last, cached: true });
    }
    return this.refresh();
  }

  /** Starts a run unless one is in flight (single-flight); resolves with that run's result. */
  refresh(): Promise<CheckResult> {
    if (this.inflight) return this.inflight;
    this.inflight = this.execute().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  get hasResult(): boolean {
    return this.last !== undefined;
  }

  private async execute(): Promise<CheckResult> {
    const { check } = this;
    const start = performance.now();
    let outcome: CheckOutcome;
    const pendingFor = this.pendingSince === undefined ? undefined : start - this.pendingSince;
    if (pendingFor !== undefined && pendingFor < check.timeoutMs * ABANDON_AFTER_TIMEOUTS) {
      // Do not pile up work on a dependency that still has not answered the previous run.
      // (After ABANDON_AFTER_TIMEOUTS timeouts the old run is given up, so a check whose work
      // never settles cannot stay failing after its dependency recovered.)
      outcome = {
        status: 'fail',
        message: 'previous run has not finished',
        error: new Error(`health check "${check.name}": the previous run timed out and is still pending`),
      };
    } else {
      outcome = await this.invoke();
    }
    const seconds = (performance.now() - start) / 1000;
    return this.record(outcome, seconds);
  }

  private async invoke(): Promise<CheckOutcome> {
    const { check } = this;
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), check.timeoutMs);
    });
    let invocation: Promise<unknown>;
    try {
      invocation = Promise.resolve(
        check.run(controller.signal, {
          name: check.name,
          exposeHostnames: this.ctx.exposeHostnames,
          timeoutMs: check.timeoutMs,
        }),
      );
    } catch (err) {
      invocation = Promise.reject(err);
    }
    const startedAt = performance.now();
    this.pendingSince = startedAt;
    const settled = invocation.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    void settled.then(() => {
      if (this.pendingSince === startedAt) this.pendingSince = undefined;
    });
    try {
      const winner = await Promise.race([settled, timeout]);
      if (winner === TIMEOUT) {
        const error = new Error(`health check "${check.name}" timed out after ${check.timeoutMs} ms`);
        error.name = 'TimeoutError';
        controller.abort(error);
        return { status: 'fail', message: `timed out after ${check.timeoutMs} ms`, error };
      }
      if ('error' in winner) {
        return { status: 'fail', message: publicReason(winner.error), error: winner.error };
      }
      return normalizeOutcome(winner.value);
    } finally {
      clearTimeout(timer);
    }
  }

  private record(outcome: CheckOutcome, seconds: number): CheckResult {
    const { check, ctx } = this;
    const raw: CheckStatus = outcome.status;
    let status: CheckStatus = raw;
    if (raw === 'fail') {
      this.failures++;
      if (this.everPassed && this.failures < check.failureThreshold) status = 'warn';
    } else if (raw === 'pass' || raw === 'warn') {
      this.failures = 0;
      this.everPassed = true;
    }
    let message = outcome.message !== undefined ? scrub(outcome.message, ctx.exposeHostnames) : undefined;
    if (message === undefined && outcome.error !== undefined) message = publicReason(outcome.error);
    if (raw === 'fail' && status === 'warn') {
      message = `${message ?? 'failed'} (${this.failures} of ${check.failureThreshold} consecutive failures)`;
    }
    const result: CheckResult = {
      name: check.name,
      kind: check.kind,
      critical: check.critical,
      status,
      rawStatus: raw,
      latencyMs: roundMs(outcome.latencyMs ?? seconds * 1000),
      consecutiveFailures: this.failures,
      details: outcome.details ? scrubDetails(outcome.details) : {},
      ...(message !== undefined && raw !== 'pass' ? { message } : {}),
      time: new Date().toISOString(),
      cached: false,
    };
    this.last = result;
    this.lastAt = performance.now();

    if (raw !== 'not_configured' && ctx.metrics) {
      try {
        ctx.metrics.recordHealthCheck(check.name, raw !== 'fail', seconds);
      } catch (err) {
        ctx.logger?.warn({ err, check: check.name }, 'health: metrics.recordHealthCheck threw');
      }
    }
    if (outcome.cacheStats && typeof ctx.metrics?.recordCacheStats === 'function') {
      try {
        ctx.metrics.recordCacheStats(check.name, outcome.cacheStats);
      } catch (err) {
        ctx.logger?.warn({ err, check: check.name }, 'health: metrics.recordCacheStats threw');
      }
    }
    if (ctx.logger && (raw === 'fail' || outcome.error !== undefined)) {
      const entry = {
        check: check.name,
        status,
        critical: check.critical,
        consecutive_failures: this.failures,
        duration_ms: roundMs(seconds * 1000),
        err: outcome.error,
      };
      try {
        if (status === 'fail' && check.critical)
          ctx.logger.error(entry, `health check "${check.name}" failed`);
        else
          ctx.logger.warn(
            entry,
            `health check "${check.name}" ${raw === 'fail' ? 'failed' : 'reported a problem'}`,
          );
      } catch {
        // a broken logger must not break health checks
      }
    }
    return result;
  }
}

/** Overall status of a set of results: a failing critical check is unhealthy, any other problem degraded. */
export function aggregateStatus(results: readonly CheckResult[]): HealthStatus {
  let status: HealthStatus = 'healthy';
  for (const r of results) {
    if (r.status === 'fail' && r.critical) return 'unhealthy';
    if (r.status === 'fail' || r.status === 'warn') status = 'degraded';
  }
  return status;
}

/** The result of a check whose run rejected (`execute()` never rejects: belt and braces). */
function rejectedResult(check: NormalizedCheck, reason: unknown): CheckResult {
  return {
    name: check.name,
    kind: check.kind,
    critical: check.critical,
    status: 'fail',
    rawStatus: 'fail',
    latencyMs: 0,
    consecutiveFailures: 0,
    details: {},
    message: publicReason(reason),
    time: new Date().toISOString(),
    cached: false,
  };
}

/** Closes every check (their `close()`, in parallel); a failure is logged, never thrown. */
function closeChecks(runners: Iterable<CheckRunner>, logger: HealthOptions['logger']): Promise<void> {
  return Promise.allSettled(
    [...runners].map(async (r) => {
      try {
        await r.check.close?.();
      } catch (err) {
        logger?.warn({ err, check: r.check.name }, 'health: closing a check failed');
      }
    }),
  ).then(() => undefined);
}

/**
 * Creates the health handle: runs the checks (bounded, in parallel, cached, single-flight) and
 * answers the health endpoints.
 */
export function createHealth(options: HealthOptions): Health {
  checkOptions('createHealth', options, HEALTH_OPTIONS_SCHEMA, failOptions);
  if (options.defaults !== undefined) {
    checkOptions('createHealth defaults', options.defaults, CHECK_OPTIONS_SCHEMA, failOptions);
  }
  const cacheTtlMs = options.cacheTtlMs ?? DEFAULT_HEALTH_OPTIONS.cacheTtlMs;
  const refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_HEALTH_OPTIONS.refreshIntervalMs;
  const detail = detailFor(options.detail ?? DEFAULT_HEALTH_OPTIONS.detail);
  const exposeHostnames = options.exposeHostnames ?? DEFAULT_HEALTH_OPTIONS.exposeHostnames;
  const defaults = options.defaults ?? {};
  const ctx = { metrics: options.metrics, logger: options.logger, exposeHostnames };
  const runners = new Map<string, CheckRunner>();
  for (const [name, check] of Object.entries(options.checks)) {
    runners.set(name, new CheckRunner(normalize(name, check, defaults), ctx));
  }
  const maxTimeout = Math.max(0, ...[...runners.values()].map((r) => r.check.timeoutMs));
  // With background refresh, the last result stays valid until a refresh is clearly overdue.
  const maxAgeMs =
    refreshIntervalMs > 0 ? Math.max(cacheTtlMs, 2 * refreshIntervalMs + maxTimeout) : cacheTtlMs;

  let shuttingDown = false;
  let closed: Promise<void> | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;

  const run = async (names?: readonly string[]): Promise<HealthReport> => {
    const selected = names ?? [...runners.keys()];
    const list = selected.map((n) => {
      const r = runners.get(n);
      if (!r) throw new DeiaHealthError('DEIA_HEALTH_UNKNOWN_CHECK', `no check named "${n}".`);
      return r;
    });
    const settled = await Promise.allSettled(list.map((r) => r.get(maxAgeMs)));
    const checks: Record<string, CheckResult> = {};
    settled.forEach((s, i) => {
      const runner = list[i]!;
      // execute() never rejects; this is belt and braces
      checks[runner.check.name] = s.status === 'fulfilled' ? s.value : rejectedResult(runner.check, s.reason);
    });
    return {
      status: aggregateStatus(Object.values(checks)),
      timestamp: new Date().toISOString(),
      ...(options.version !== undefined ? { version: options.version } : {}),
      uptime: formatUptime(process.uptime()),
      shuttingDown,
      checks,
    };
  };

  if (refreshIntervalMs > 0 && runners.size > 0) {
    const refresh = () => {
      for (const r of runners.values()) void r.refresh().catch(() => undefined);
    };
    refresh();
    refreshTimer = setInterval(refresh, refreshIntervalMs);
    refreshTimer.unref();
  }

  const paths = resolvePaths(options.paths, {
    hasDatabase: [...runners.values()].some((r) => r.check.kind === 'database'),
    hasCache: [...runners.values()].some((r) => r.check.kind === 'cache'),
  });

  const health: Health = {
    paths: Object.values(paths).filter((p): p is string => typeof p === 'string'),
    handle: () => undefined,
    run,
    setShuttingDown() {
      shuttingDown = true;
    },
    get shuttingDown() {
      return shuttingDown;
    },
    close() {
      if (closed) return closed;
      if (refreshTimer) clearInterval(refreshTimer);
      closed = closeChecks(runners.values(), options.logger);
      return closed;
    },
  };
  health.handle = createHandler({
    paths,
    run,
    checkNames: (kind) => [...runners.values()].filter((r) => r.check.kind === kind).map((r) => r.check.name),
    allNames: () => [...runners.keys()],
    isShuttingDown: () => shuttingDown,
    version: options.version,
    detail,
    exposeHostnames,
  });
  return health;
}
