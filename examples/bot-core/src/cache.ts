import type { Metrics } from '@deia/metrics';
import { Redis } from 'ioredis';
import type { BotView, LoggerLike } from './types.js';

const CACHE_NAME = 'bot_status';

/**
 * Creates the ioredis client the way the example wants it: lazy (connect is started explicitly,
 * in the background), one retry per command, no offline queue (a command fails fast while Redis
 * is down instead of piling up), reconnection with a capped backoff so the cache comes back by
 * itself when Redis does.
 */
export function createRedis(url: string, logger: LoggerLike): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
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
 * and never fails the request.
 */
export class StatusCache {
  constructor(
    private readonly redis: Redis | undefined,
    private readonly options: { metrics: Metrics; prefix: string; ttlSeconds: number },
  ) {}

  get enabled(): boolean {
    return this.redis !== undefined;
  }

  private key(id: string) {
    return `${this.options.prefix}bot:${id}`;
  }

  async get(id: string): Promise<BotView | undefined> {
    const { metrics } = this.options;
    const redis = this.redis;
    if (!redis) return undefined;
    let raw: string | null = null;
    try {
      raw = await metrics.cache.trackCommand('get', () => redis.get(this.key(id)));
    } catch {
      raw = null;
    }
    if (raw === null) {
      metrics.cache.miss(CACHE_NAME);
      return undefined;
    }
    metrics.cache.hit(CACHE_NAME);
    return JSON.parse(raw) as BotView;
  }

  async set(bot: BotView): Promise<void> {
    const redis = this.redis;
    if (!redis) return;
    try {
      await this.options.metrics.cache.trackCommand('set', () =>
        redis.set(this.key(bot.id), JSON.stringify(bot), 'EX', this.options.ttlSeconds),
      );
    } catch {
      // The cache is optional; the next lookup is a miss.
    }
  }

  async delete(id: string): Promise<void> {
    const redis = this.redis;
    if (!redis) return;
    try {
      await this.options.metrics.cache.trackCommand('del', () => redis.del(this.key(id)));
    } catch {}
  }
}
