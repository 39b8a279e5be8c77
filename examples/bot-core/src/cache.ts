import type { Metrics } from '@deia/metrics';
import { Redis } from 'ioredis';
import type { BotView, LoggerLike } from './types.js';

const CACHE_NAME = 'bot_status';

/** Bounds of every Redis call. */
export interface RedisTimeouts {
  /** A command without a reply in this time fails ("Command timed out"): the lookup is a miss. @default 500 */
  commandTimeoutMs: number;
  /**
   * A connection attempt fails after this time; a connection that receives nothing for this long
   * while commands wait (packets dropped) is destroyed and reconnected. @default 2000
   */
  connectTimeoutMs: number;
}

/** Defaults of `createRedis` (`REDIS_COMMAND_TIMEOUT_MS`, `REDIS_CONNECT_TIMEOUT_MS`). */
export const DEFAULT_REDIS_TIMEOUTS: RedisTimeouts = { commandTimeoutMs: 500, connectTimeoutMs: 2_000 };

/**
 * Creates the ioredis client the way the example wants it: lazy (connect is started explicitly,
 * in the background), one retry per command, a command timeout (a slow or partitioned Redis
 * answers no later than `commandTimeoutMs`), no offline queue (while Redis is disconnected a
 * command fails at once instead of piling up), a socket timeout (a connection that went silent is
 * replaced), reconnection with a capped backoff so the cache comes back by itself when Redis does.
 */
export function createRedis(
  url: string,
  logger: LoggerLike,
  timeouts: RedisTimeouts = DEFAULT_REDIS_TIMEOUTS,
): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: timeouts.commandTimeoutMs,
    connectTimeout: timeouts.connectTimeoutMs,
    socketTimeout: timeouts.connectTimeoutMs,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5_000),
  });
  let lastLog = 0;
  redis.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastLog < 30_000) return; // an outage logs once per 30 s, not once per retry
    lastLog = now;
    logger.warn(
      { err: { message: err.message } },
      'redis error (the cache is optional; continuing without it)',
    );
  });
  redis.on('ready', () => logger.info({}, 'redis connected'));
  redis.connect().catch(() => {}); // failures are reported through 'error' and retried
  return redis;
}

/**
 * Caches bot status in Redis (`<prefix>bot:<id>`, with a TTL). Lookups count
 * `cache_hits_total`/`cache_misses_total{cache="bot_status"}`; a Redis outage counts as a miss
 * and never fails the request. After a command timed out the cache is bypassed for
 * `bypassMs` (every lookup a miss at once), so one request waits for at most one timeout.
 */
export class StatusCache {
  private bypassUntil = 0;

  constructor(
    private readonly redis: Redis | undefined,
    private readonly options: { metrics: Metrics; prefix: string; ttlSeconds: number; bypassMs?: number },
  ) {}

  /** Runs a command unless the cache is bypassed; a timeout starts a bypass. */
  private async run<T>(command: string, fn: (redis: Redis) => Promise<T>): Promise<T | undefined> {
    const redis = this.redis;
    if (!redis || Date.now() < this.bypassUntil) return undefined;
    try {
      return await this.options.metrics.cache.trackCommand(command, () => fn(redis));
    } catch (err) {
      if (/timed out/i.test((err as Error).message)) {
        this.bypassUntil = Date.now() + (this.options.bypassMs ?? 1_000);
      }
      return undefined;
    }
  }

  get enabled(): boolean {
    return this.redis !== undefined;
  }

  private key(id: string) {
    return `${this.options.prefix}bot:${id}`;
  }

  async get(id: string): Promise<BotView | undefined> {
    const { metrics } = this.options;
    if (!this.redis) return undefined;
    const raw = await this.run('get', (r) => r.get(this.key(id)));
    if (raw === undefined || raw === null) {
      metrics.cache.miss(CACHE_NAME);
      return undefined;
    }
    metrics.cache.hit(CACHE_NAME);
    return JSON.parse(raw) as BotView;
  }

  async set(bot: BotView): Promise<void> {
    await this.run('set', (r) => r.set(this.key(bot.id), JSON.stringify(bot), 'EX', this.options.ttlSeconds));
  }

  async delete(id: string): Promise<void> {
    await this.run('del', (r) => r.del(this.key(id)));
  }
}
