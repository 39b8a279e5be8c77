import { rejectUnknownKeys } from '@deia/options';
import { DeiaHealthError } from './errors.js';
import { formatUptime } from './safe.js';
import type {
  CheckKind,
  CheckResult,
  CheckStatus,
  HealthPaths,
  HealthReport,
  HealthRequest,
  HealthResponse,
  HealthStatus,
} from './types.js';
import { failOptions } from './validation.js';

type Route = 'health' | 'db' | 'cache' | 'detailed' | 'live' | 'ready';

/** Default paths, the guides' endpoints plus Kubernetes probes. */
export const DEFAULT_HEALTH_PATHS = {
  health: '/health',
  db: '/health/db',
  cache: '/health/cache',
  detailed: '/health/detailed',
  live: '/health/live',
  ready: '/health/ready',
} as const;

export const HEALTH_JSON = 'application/health+json';
const JSON_TYPE = 'application/json; charset=utf-8';

const normalizePath = (path: string): string => {
  const q = path.search(/[?#]/);
  const p = q === -1 ? path : path.slice(0, q);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
};

/** Paths in use; `/health/db` and `/health/cache` only when such a check exists. */
export function resolvePaths(
  paths: HealthPaths | undefined,
  has: { hasDatabase: boolean; hasCache: boolean },
): Record<Route, string | false> {
  if (paths !== undefined)
    rejectUnknownKeys('createHealth paths', paths ?? {}, Object.keys(DEFAULT_HEALTH_PATHS), failOptions);
  const out = { ...DEFAULT_HEALTH_PATHS, ...(paths ?? {}) } as Record<Route, string | false>;
  if (!has.hasDatabase) out.db = false;
  if (!has.hasCache) out.cache = false;
  const seen = new Set<string>();
  for (const [route, path] of Object.entries(out)) {
    if (path === false) continue;
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new DeiaHealthError(
        'DEIA_HEALTH_OPTIONS',
        `paths.${route} must start with "/" (or be false to disable it).`,
      );
    }
    const n = normalizePath(path);
    if (seen.has(n))
      throw new DeiaHealthError('DEIA_HEALTH_OPTIONS', `paths.${route}: "${path}" is used twice.`);
    seen.add(n);
    out[route as Route] = n;
  }
  return out;
}

const serviceStatus = (s: CheckStatus): HealthStatus | 'not_configured' =>
  s === 'pass' ? 'healthy' : s === 'warn' ? 'degraded' : s === 'fail' ? 'unhealthy' : 'not_configured';

const hjStatus = (s: HealthStatus | CheckStatus): 'pass' | 'warn' | 'fail' =>
  s === 'healthy' || s === 'pass' || s === 'not_configured'
    ? 'pass'
    : s === 'degraded' || s === 'warn'
      ? 'warn'
      : 'fail';

const COMPONENT_TYPE: Record<CheckKind, string> = {
  database: 'datastore',
  cache: 'datastore',
  llm: 'component',
  http: 'component',
  system: 'system',
  custom: 'component',
};

const header = (headers: HealthRequest['headers'], name: string): string => {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
};

const wantsHealthJson = (req: HealthRequest): boolean => {
  const accept = header(req.headers, 'accept').toLowerCase();
  return accept
    .split(',')
    .some((part) => part.trim().startsWith(HEALTH_JSON) && !/;\s*q=0(\.0*)?\s*(;|$)/.test(part));
};

const codeFor = (status: HealthStatus): number => (status === 'unhealthy' ? 503 : 200);

function checkEntry(r: CheckResult, full: boolean): Record<string, unknown> {
  if (!full) return { status: serviceStatus(r.status) };
  return {
    status: serviceStatus(r.status),
    critical: r.critical,
    latency_ms: r.latencyMs,
    ...(r.consecutiveFailures > 0 ? { consecutive_failures: r.consecutiveFailures } : {}),
    ...(r.message !== undefined ? { message: r.message } : {}),
    ...r.details,
    time: r.time,
  };
}

function healthJsonChecks(results: CheckResult[], full: boolean): Record<string, unknown[]> {
  const checks: Record<string, unknown[]> = {};
  for (const r of results) {
    const base: Record<string, unknown> = {
      componentType: COMPONENT_TYPE[r.kind],
      status: hjStatus(r.status),
      time: r.time,
    };
    if (full && r.status !== 'not_configured') {
      base.observedValue = r.latencyMs;
      base.observedUnit = 'ms';
    }
    if (r.status === 'not_configured') base.output = 'not configured';
    else if (full && r.message !== undefined && r.status !== 'pass') base.output = r.message;
    checks[`${r.name}:responseTime`] = [base];
  }
  return checks;
}

export interface HandlerContext {
  paths: Record<Route, string | false>;
  run(names?: readonly string[]): Promise<HealthReport>;
  checkNames(kind: CheckKind): string[];
  allNames(): string[];
  isShuttingDown(): boolean;
  version: string | undefined;
  /** Whether this request gets per-check details (the `detail` option, resolved). */
  detail: (req: HealthRequest) => boolean;
  exposeHostnames: boolean;
}

function reply(req: HealthRequest, statusCode: number, body: unknown, healthJson: boolean): HealthResponse {
  return {
    statusCode,
    headers: {
      'content-type': healthJson ? HEALTH_JSON : JSON_TYPE,
      'cache-control': 'no-cache, no-store, must-revalidate',
    },
    body: req.method.toUpperCase() === 'HEAD' ? '' : JSON.stringify(body),
  };
}

/** One request being answered: its format (health+json or plain JSON) and each format's version fields. */
interface Asked {
  req: HealthRequest;
  hj: boolean;
  version: Record<string, string>;
  hjVersion: Record<string, string>;
}

function answerLive({ req, hj, hjVersion }: Asked): HealthResponse {
  // never touches a dependency: answering at all is the proof of life
  const uptime = formatUptime(process.uptime());
  return hj
    ? reply(req, 200, { status: 'pass', ...hjVersion, description: 'liveness' }, true)
    : reply(req, 200, { status: 'healthy', uptime }, false);
}

async function answerReady(ctx: HandlerContext, { req, hj, hjVersion }: Asked): Promise<HealthResponse> {
  if (ctx.isShuttingDown()) {
    return hj
      ? reply(req, 503, { status: 'fail', ...hjVersion, output: 'shutting down' }, true)
      : reply(req, 503, { status: 'not_ready', reason: 'shutting down' }, false);
  }
  const report = await ctx.run();
  const code = codeFor(report.status);
  if (hj) return reply(req, code, { status: hjStatus(report.status), ...hjVersion }, true);
  return reply(
    req,
    code,
    code === 200 ? { status: 'ready' } : { status: 'not_ready', reason: 'critical dependency failing' },
    false,
  );
}

async function answerHealth(
  ctx: HandlerContext,
  { req, hj, version, hjVersion }: Asked,
): Promise<HealthResponse> {
  const report = await ctx.run();
  if (hj) return reply(req, codeFor(report.status), { status: hjStatus(report.status), ...hjVersion }, true);
  return reply(
    req,
    codeFor(report.status),
    { status: report.status, timestamp: report.timestamp, ...version, uptime: report.uptime },
    false,
  );
}

async function answerDetailed(
  ctx: HandlerContext,
  { req, hj, version, hjVersion }: Asked,
): Promise<HealthResponse> {
  const full = ctx.detail(req);
  const report = await ctx.run();
  const results = Object.values(report.checks);
  if (hj) {
    return reply(
      req,
      codeFor(report.status),
      { status: hjStatus(report.status), ...hjVersion, checks: healthJsonChecks(results, full) },
      true,
    );
  }
  const services: Record<string, string> = {};
  for (const r of results) services[r.name] = serviceStatus(r.status);
  const body: Record<string, unknown> = {
    status: report.status,
    timestamp: report.timestamp,
    ...version,
    uptime: report.uptime,
    services,
  };
  if (report.shuttingDown) body.shutting_down = true;
  if (full) {
    const checks: Record<string, unknown> = {};
    for (const r of results) checks[r.name] = checkEntry(r, true);
    body.checks = checks;
  }
  return reply(req, codeFor(report.status), body, false);
}

/** `/health/db` and `/health/cache`: the checks of that kind, in the guides' shape of each. */
async function answerDependency(
  ctx: HandlerContext,
  route: 'db' | 'cache',
  { req, hj, hjVersion }: Asked,
): Promise<HealthResponse> {
  const names = ctx.checkNames(route === 'db' ? 'database' : 'cache');
  const report = await ctx.run(names);
  const results = Object.values(report.checks);
  const first = results[0]!;
  const worst = results.some((r) => r.status === 'fail')
    ? 'fail'
    : results.some((r) => r.status === 'warn')
      ? 'warn'
      : first.status;
  // the dependency endpoint fails when its dependency fails, critical or not
  const code = worst === 'fail' ? 503 : 200;
  // details (names, counts, latency, failure messages) only at detail level full
  const full = ctx.detail(req);
  if (hj) {
    return reply(
      req,
      code,
      { status: hjStatus(worst), ...hjVersion, checks: healthJsonChecks(results, full) },
      true,
    );
  }
  const msg = first.message !== undefined && first.status !== 'pass' ? { error: first.message } : {};
  if (route === 'db') {
    const dbStatus =
      first.status === 'pass'
        ? 'connected'
        : first.status === 'warn'
          ? 'degraded'
          : first.status === 'fail'
            ? 'disconnected'
            : 'not_configured';
    if (!full) return reply(req, code, { status: dbStatus }, false);
    const { database, tables_accessible, ...rest } = first.details;
    return reply(
      req,
      code,
      { status: dbStatus, database, latency_ms: first.latencyMs, tables_accessible, ...rest, ...msg },
      false,
    );
  }
  if (!full) return reply(req, code, { status: serviceStatus(first.status) }, false);
  const { provider, memory_used_mb, ...rest } = first.details;
  return reply(
    req,
    code,
    {
      status: serviceStatus(first.status),
      provider: provider ?? 'redis',
      latency_ms: first.latencyMs,
      memory_used_mb,
      ...rest,
      ...msg,
    },
    false,
  );
}

async function answer(ctx: HandlerContext, route: Route, req: HealthRequest): Promise<HealthResponse> {
  const asked: Asked = {
    req,
    hj: wantsHealthJson(req),
    version: ctx.version !== undefined ? { version: ctx.version } : {},
    hjVersion: ctx.version !== undefined ? { version: ctx.version, releaseId: ctx.version } : {},
  };
  switch (route) {
    case 'live':
      return answerLive(asked);
    case 'ready':
      return answerReady(ctx, asked);
    case 'health':
      return answerHealth(ctx, asked);
    case 'detailed':
      return answerDetailed(ctx, asked);
    case 'db':
    case 'cache':
      return answerDependency(ctx, route, asked);
  }
}

/** The framework-neutral handler behind `health.handle(req)`. */
export function createHandler(
  ctx: HandlerContext,
): (req: HealthRequest) => Promise<HealthResponse> | undefined {
  const routes = new Map<string, Route>();
  for (const [route, path] of Object.entries(ctx.paths)) if (path) routes.set(path, route as Route);

  return (req) => {
    const route = routes.get(normalizePath(req.path ?? ''));
    if (!route) return undefined;
    const method = (req.method ?? 'GET').toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      return Promise.resolve({
        statusCode: 405,
        headers: { allow: 'GET, HEAD', 'content-type': JSON_TYPE, 'cache-control': 'no-store' },
        body: JSON.stringify({ error: 'method not allowed' }),
      });
    }
    return answer(ctx, route, req).catch(() =>
      // run() does not reject for failing checks; this is a last resort that never leaks the error
      reply(req, 503, { status: 'unhealthy' }, false),
    );
  };
}
