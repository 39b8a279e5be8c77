import { timingSafeEqual } from 'node:crypto';
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
 * `/health/detailed` shows full detail only with `Authorization: Bearer <HEALTH_DETAIL_TOKEN>`.
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
  const token = env.HEALTH_DETAIL_TOKEN?.trim()
    ? Buffer.from(`Bearer ${env.HEALTH_DETAIL_TOKEN.trim()}`)
    : undefined;
  return createHealth({
    version,
    metrics,
    logger,
    // Anonymous callers get what the package shows by default (service -> status); per-check
    // details (database name, pool counts, versions, failure messages) only with
    // `Authorization: Bearer $HEALTH_DETAIL_TOKEN`, as metricsAuth does for /metrics.
    detail: (req) => {
      if (!token) return 'status';
      const given = req.headers.authorization;
      const value = Buffer.from(typeof given === 'string' ? given : '');
      return value.length === token.length && timingSafeEqual(value, token) ? 'full' : 'status';
    },
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
