import { checkOptions as checkSchema } from '@deia/options';
import { DeiaHealthError } from '../errors.js';
import { type ErrorEmitterLike, warnIfNoErrorListener } from '../listeners.js';
import type { CheckOptions, CheckOutcome, HealthCheckDefinition } from '../types.js';
import { CHECK_OPTIONS_SCHEMA, failOptions } from '../validation.js';

/**
 * The part of a Redis client the check uses. An `ioredis` client fits (`status`), and so does a
 * node-redis v4+ client (`isReady`). Give it an `'error'` listener: without one ioredis prints an
 * "Unhandled error event" stack on every failed reconnect and node-redis crashes the process; the
 * check warns once when there is none.
 */
export interface RedisClientLike extends ErrorEmitterLike {
  /** ioredis: `'ready'` when commands are sent right away. */
  readonly status?: string;
  /** node-redis: true when connected. */
  readonly isReady?: boolean;
  /** `PING`; its round trip is the check's latency. A rejection fails the check. */
  ping(): Promise<unknown>;
  /** `INFO <section>` (`memory`, `stats`): the raw reply, `field:value` lines. */
  info(section: string): Promise<string>;
}

/**
 * Options of `redisCheck`: the check options, with the cache endpoint's defaults of the guides
 * (`critical` @default false, `timeoutMs` @default 3000). These are the factory's own settings, so
 * `createHealth({ defaults })` does not change them; pass them to `redisCheck` instead.
 */
export type RedisCheckOptions = CheckOptions;

/** Every default of `redisCheck`, in one place: the guides' cache endpoint (3 s, degraded when down). */
const REDIS_CHECK_DEFAULTS = { critical: false, timeoutMs: 3000 } as const;

function clientState(client: RedisClientLike): string {
  if (typeof client.status === 'string') return client.status;
  if (typeof client.isReady === 'boolean') return client.isReady ? 'ready' : 'not ready';
  return 'ready';
}

/** The `field:value` lines of a Redis `INFO` reply (section headers and blank lines skipped). */
export function parseRedisInfo(info: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of info.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

const count = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);

/** `used_memory:<bytes>` from `INFO memory`, in MB rounded to 0.1. */
export function parseUsedMemoryMb(info: string): number | undefined {
  const m = /^used_memory:(\d+)\s*$/m.exec(info);
  return m ? Math.round((Number(m[1]) / 1024 / 1024) * 10) / 10 : undefined;
}

/**
 * Redis: `PING`, `INFO memory` and `INFO stats` (latency; memory used, memory limit and evicted
 * keys, which `createHealth`'s `metrics` records as `cache_memory_used_bytes`,
 * `cache_memory_max_bytes` and `cache_evictions_total`) on your client. Never creates
 * connections, and sends nothing unless the client is ready: with ioredis, commands sent while it
 * is reconnecting would wait in its offline queue, so a down Redis is reported at once as
 * `client not ready (reconnecting)` and the client's own retry strategy stays the only source
 * of connection attempts. Non-critical (the service is degraded, not unhealthy) and 3 s timeout
 * by default, per the guides' cache endpoint.
 */
export function redisCheck(client: RedisClientLike, options: RedisCheckOptions = {}): HealthCheckDefinition {
  checkSchema('redisCheck', options ?? {}, { ...CHECK_OPTIONS_SCHEMA }, failOptions);
  if (!client || typeof client.ping !== 'function' || typeof client.info !== 'function') {
    throw new DeiaHealthError(
      'DEIA_HEALTH_OPTIONS',
      'redisCheck(client) needs your ioredis (or node-redis) client, e.g. redisCheck(new Redis(process.env.REDIS_URL, { commandTimeout: 2000 })) (a commandTimeout bounds every command when packets are dropped).',
    );
  }
  const run = async (): Promise<CheckOutcome> => {
    warnIfNoErrorListener(
      client,
      'redisCheck: the Redis client',
      "connection errors are printed as unhandled (ioredis) or crash the process (node-redis). Add client.on('error', (err) => log.warn(err)).",
    );
    const state = clientState(client);
    if (state !== 'ready') {
      return {
        status: 'fail',
        message: `client not ready (${state})`,
        details: { provider: 'redis', client_status: state },
      };
    }
    const start = performance.now();
    // all written at once: one round trip
    const ping = client.ping().then(() => performance.now() - start);
    const info = client.info('memory');
    // evicted_keys lives in INFO stats; a server that refuses it (renamed or ACL-restricted INFO
    // sections) still passes, only without the eviction count.
    const stats = client.info('stats').then(
      (t) => parseRedisInfo(String(t)),
      () => ({}) as Record<string, string>,
    );
    const [latencyMs, text, statsFields] = await Promise.all([ping, info, stats]);
    const memory = parseRedisInfo(String(text));
    const cacheStats = {
      usedMemoryBytes: count(memory.used_memory),
      maxMemoryBytes: count(memory.maxmemory),
      evictedKeys: count(statsFields.evicted_keys),
    };
    return {
      status: 'pass',
      latencyMs,
      details: { provider: 'redis', memory_used_mb: parseUsedMemoryMb(String(text)) },
      cacheStats,
    };
  };
  return { kind: 'cache', ...REDIS_CHECK_DEFAULTS, ...options, run };
}
