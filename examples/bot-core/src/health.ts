import {
  createHealth,
  type Health,
  type HealthLogger,
  ollamaCheck,
  postgresCheck,
  redisCheck,
} from '@deia/health';
import type { Metrics } from '@deia/metrics';
import type { BotCore } from './bot-core.js';
import { splitUrlCredentials } from './llm.js';

/**
 * `/health`, `/health/db`, `/health/cache`, `/health/detailed`, `/health/live`, `/health/ready`.
 * Check names `database` and `cache` are what the generated alert rules and dashboards match.
 * Without REDIS_URL the cache check reports "not configured" (never failing); the same for Ollama.
 *
 * Per-check details (`/health/db`, `/health/cache`, `/health/detailed`: database name, tables, pool
 * counts, Redis memory, versions, failure messages) only with `Authorization: Bearer
 * <HEALTH_DETAIL_TOKEN>`; without it, or unset, statuses only.
 *
 * The checks also run in the background every HEALTH_REFRESH_MS (default 5 s), so
 * `health_check_up` on /metrics stays current when nobody calls /health: the cache and database
 * alerts read it.
 */
export function createAppHealth(
  core: BotCore,
  metrics: Metrics,
  logger: HealthLogger,
  version: string,
  env: NodeJS.ProcessEnv = process.env,
): Health {
  const refresh = Number(env.HEALTH_REFRESH_MS ?? 5_000);
  const token = env.HEALTH_DETAIL_TOKEN?.trim();
  return createHealth({
    version,
    metrics,
    logger,
    // Anonymous callers get statuses only on every health path; per-check details only with
    // `Authorization: Bearer $HEALTH_DETAIL_TOKEN` (compared in constant time by @deia/health).
    detail: token ? { token } : 'status',
    refreshIntervalMs: Number.isFinite(refresh) && refresh >= 0 ? refresh : 5_000,
    checks: {
      database: postgresCheck(core.pool, { schema: core.config.schema }),
      cache: core.redis
        ? redisCheck(core.redis)
        : {
            kind: 'cache',
            critical: false,
            run: () => ({ status: 'not_configured', message: 'REDIS_URL is not set' }),
          },
      ollama: ollamaCheck(
        core.config.ollamaUrl ? splitUrlCredentials(core.config.ollamaUrl) : { url: undefined },
      ),
    },
  });
}

/**
 * `/metrics` access for the adapters: with `METRICS_TOKEN` set, a scrape needs `Authorization:
 * Bearer <METRICS_TOKEN>` (401 otherwise; compared in constant time by `metricsAuth`); unset, it is
 * open, as most Prometheus setups inside a cluster expect.
 */
export function metricsAccess(env: NodeJS.ProcessEnv = process.env): { metricsAuth?: { token: string } } {
  const token = env.METRICS_TOKEN?.trim();
  return token ? { metricsAuth: { token } } : {};
}
