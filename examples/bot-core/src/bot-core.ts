import { resolve } from 'node:path';
import { watchOllamaModels } from '@deia/health';
import type { Metrics } from '@deia/metrics';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { BotManager } from './bots.js';
import { createRedis, StatusCache } from './cache.js';
import { configFromEnv, redactUrl, validateConfig } from './config.js';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.js';
import { TaskJournal } from './journal.js';
import { createEchoClient, createOllamaClient, type LlmClient } from './llm.js';
import { TaskQueue } from './queue.js';
import { Store } from './store.js';
import type { BotCoreConfig, BotCoreOptions, LoggerLike, ServiceMode } from './types.js';

/** Everything the controllers wire into their HTTP app. */
export interface BotCore {
  readonly config: BotCoreConfig;
  readonly logger: LoggerLike;
  readonly store: Store;
  /** The `pg` Pool (for `postgresCheck(pool)` and `observePgPool`). */
  readonly pool: pg.Pool;
  /** The ioredis client, when REDIS_URL is set (for `redisCheck(client)`). */
  readonly redis: Redis | undefined;
  readonly cache: StatusCache;
  readonly llm: LlmClient;
  readonly bots: BotManager;
  readonly queue: TaskQueue;
  /** The embedded PGlite, when DATABASE_URL is unset. */
  readonly embedded: EmbeddedPostgres | undefined;
  /** 'degraded' while the database is down. */
  mode(): ServiceMode;
  /** Human-readable summary of where each dependency is (no credentials), for the start-up banner. */
  describe(): Record<string, string>;
  /** Closers in shutdown order, for `createShutdown({ closers })`. */
  closers(): Array<{ name: string; close: () => Promise<void> }>;
  /** Runs every closer. */
  close(): Promise<void>;
}

const noopLogger: LoggerLike = { debug() {}, info() {}, warn() {}, error() {} };

/** Ollama when OLLAMA_URL is set, else the labelled local echo model; priced when a price is set. */
function createLlm(config: BotCoreConfig, metrics: Metrics): LlmClient {
  const usd = config.llmUsdPerMillionTokens;
  const pricePerToken = usd ? { input: usd.input / 1e6, output: usd.output / 1e6 } : undefined;
  return config.ollamaUrl
    ? createOllamaClient({
        url: config.ollamaUrl,
        model: config.ollamaModel,
        timeoutMs: config.ollamaTimeoutMs,
        streamTimeouts: {
          firstChunkMs: config.ollamaFirstChunkTimeoutMs,
          idleMs: config.ollamaIdleTimeoutMs,
          totalMs: config.ollamaStreamTimeoutMs,
        },
        pricePerToken,
        metrics,
      })
    : createEchoClient({ metrics, pricePerToken });
}

/**
 * Keeps the bots' rows, status cache and audit trail in step with the bot manager. Returns `forget()`,
 * which drops the last statuses it remembers (at close).
 */
function persistBots(
  bots: BotManager,
  store: Store,
  cache: StatusCache,
  logger: LoggerLike,
): { forget(): void } {
  let lastStatus = new Map<string, string>();
  bots.onChange((bot) => {
    // a start or message that ends after its bot was deleted changes nothing that is kept
    if (!bots.has(bot.id)) return;
    void cache.set(bot);
    // Persist transitions, not every attempt of a crash loop twice.
    if (lastStatus.get(bot.id) === bot.status) return;
    lastStatus.set(bot.id, bot.status);
    void store
      .saveBot(bot)
      .catch((err) => logger.error({ err: { message: err.message } }, 'saving bot failed'));
    void store
      .audit(`bot.${bot.status}`, bot.id, bot.lastError ? { error: bot.lastError } : {})
      .catch((err) => logger.error({ err: { message: err.message } }, 'audit log failed'));
  });
  // A deleted bot's row goes too (else the next reconnect would remember it as a stopped bot); its
  // messages and audit trail stay. A best-effort write: during an outage it waits in the outbox.
  bots.onDelete((id) => {
    lastStatus.delete(id);
    void store
      .deleteBot(id)
      .catch((err) => logger.error({ err: { message: err.message } }, 'deleting bot failed'));
    void store
      .audit('bot.deleted', id)
      .catch((err) => logger.error({ err: { message: err.message } }, 'audit log failed'));
  });
  return {
    forget: () => {
      lastStatus = new Map();
    },
  };
}

/**
 * The first time the database answers: bots that were running before a restart (or a crash)
 * start again, then (once the journal is replayed) the messages they had accepted are
 * re-queued. Later: learn bot ids, and re-queue what a later journal replay inserted.
 */
function recoverOnReconnect(store: Store, bots: BotManager, queue: TaskQueue, logger: LoggerLike): void {
  let recovered = false;
  let botsRestarted = false;
  const recoverTasks = async () => {
    if (botsRestarted) queue.recover(await store.pendingTasks());
  };
  store.onReplayed(() => {
    recoverTasks().catch((err: Error) =>
      logger.warn({ err: { message: err.message } }, 're-queueing replayed tasks failed'),
    );
  });
  store.onAvailabilityChange((up) => {
    if (!up) return;
    const first = !recovered;
    recovered = true;
    void (async () => {
      const rows = await store.knownBots();
      for (const r of rows) bots.remember(r.id);
      if (!first) return;
      for (const r of rows) {
        if (r.status !== 'running' && r.status !== 'starting' && r.status !== 'restarting') continue;
        await bots
          .start(r.id)
          .catch((err: Error) =>
            logger.warn({ bot_id: r.id, err: { message: err.message } }, 'restarting a bot failed'),
          );
      }
      botsRestarted = true;
      await store.whenReplayed();
      await recoverTasks();
    })().catch((err: Error) => {
      if (first) recovered = false; // try again when the database is next available
      logger.warn({ err: { message: err.message } }, 'recovering bots and queued tasks failed');
    });
  });
}

/** The PostgreSQL store, with its journal of accepted messages unless JOURNAL_DIR=off. */
function createStore(
  config: BotCoreConfig,
  connectionString: string,
  embedded: boolean,
  metrics: Metrics,
  logger: LoggerLike,
): { store: Store; journal: TaskJournal | undefined } {
  // One journal directory per schema: the journal belongs to the tables it is replayed into.
  const journal = config.journalDir
    ? new TaskJournal({
        dir: resolve(config.journalDir, config.schema),
        maxBytes: config.journalMaxBytes,
        logger,
      })
    : undefined;
  const store = new Store({
    connectionString,
    schema: config.schema,
    poolMax: embedded ? Math.min(config.poolMax, 5) : config.poolMax,
    metrics,
    logger,
    heartbeatMs: config.dbHeartbeatMs,
    probe: config.dbProbe,
    connectTimeoutMs: config.dbConnectTimeoutMs,
    queryTimeoutMs: config.dbQueryTimeoutMs,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    journal,
    replayBatch: config.journalReplayBatch,
  });
  return { store, journal };
}

/** The ioredis client when REDIS_URL is set, and the status cache over it (a no-op without). */
function createCache(
  config: BotCoreConfig,
  metrics: Metrics,
  logger: LoggerLike,
): { redis: Redis | undefined; cache: StatusCache } {
  const redis = config.redisUrl
    ? createRedis(config.redisUrl, logger, {
        commandTimeoutMs: config.redisCommandTimeoutMs,
        connectTimeoutMs: config.redisConnectTimeoutMs,
      })
    : undefined;
  const cache = new StatusCache(redis, {
    metrics,
    prefix: `${config.redisKeyPrefix}${config.schema}:`,
    ttlSeconds: config.cacheTtlSeconds,
  });
  return { redis, cache };
}

/** Where each dependency is (no credentials), for the start-up banner. */
function describeCore(
  config: BotCoreConfig,
  embedded: EmbeddedPostgres | undefined,
  journal: TaskJournal | undefined,
): Record<string, string> {
  return {
    database: embedded
      ? `embedded PGlite on 127.0.0.1:${embedded.port} (set DATABASE_URL to use your PostgreSQL)`
      : `${redactUrl(config.databaseUrl!)} schema ${config.schema}`,
    cache: config.redisUrl ? redactUrl(config.redisUrl) : 'not configured (set REDIS_URL)',
    llm: config.ollamaUrl
      ? `Ollama ${redactUrl(config.ollamaUrl)} model ${config.ollamaModel}`
      : 'local echo model (set OLLAMA_URL to use Ollama)',
    maxBots: String(config.maxBots),
    journal: journal
      ? `${journal.dir} (accepted messages while the database is down)`
      : 'off (JOURNAL_DIR=off: messages are refused with 503 while the database is down)',
    faults: config.faults ? 'fault-injection API enabled (DEIA_EXAMPLE_FAULTS=1)' : 'off',
  };
}

/**
 * Starts the domain side of the example: the PostgreSQL store (or an embedded PGlite served over
 * the wire protocol when DATABASE_URL is unset), migrations, the optional Redis status cache, the
 * LLM client (Ollama, or the labelled local echo model), the bot manager and the task queue.
 * Never fails because the database is down: it starts in degraded mode and recovers by itself.
 */
export async function startBotCore(options: BotCoreOptions): Promise<BotCore> {
  const config = validateConfig({ ...configFromEnv(options.env ?? process.env), ...options.config });
  const { metrics } = options;
  const logger = options.logger ?? noopLogger;

  let embedded: EmbeddedPostgres | undefined;
  let connectionString = config.databaseUrl;
  if (!connectionString) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.pgliteDataDir,
      maxConnections: Math.min(config.poolMax, 5),
      onError: (err) =>
        logger.warn({ err: { message: (err as Error)?.message } }, 'embedded PostgreSQL socket error'),
    });
    connectionString = embedded.connectionString;
    logger.info({ port: embedded.port }, 'DATABASE_URL is unset: started an embedded PostgreSQL (PGlite)');
  }
  const { store, journal } = createStore(config, connectionString, embedded !== undefined, metrics, logger);
  const { redis, cache } = createCache(config, metrics, logger);
  const llm = createLlm(config, metrics);
  // The models Ollama holds in memory (GET /api/ps every 15 s) as llm_model_resident,
  // llm_model_memory_bytes and llm_model_expires_in_seconds; reading it never loads a model.
  const residency = config.ollamaUrl
    ? watchOllamaModels({ url: config.ollamaUrl, sink: metrics.llm, logger })
    : undefined;
  const bots = new BotManager({
    metrics,
    logger,
    llm,
    maxBots: config.maxBots,
    restartBackoff: config.restartBackoff,
  });
  const queue = new TaskQueue({ metrics, logger, bots, store, concurrency: config.queueConcurrency });

  const persisted = persistBots(bots, store, cache, logger);
  recoverOnReconnect(store, bots, queue, logger);

  await store.start();
  if (!store.isAvailable) {
    logger.warn(
      { reason: store.lastErrorMessage },
      'database unreachable at start-up: running in degraded mode',
    );
  }

  let closed = false;
  const closers = () => [
    { name: 'task queue', close: () => queue.close() },
    { name: 'bots', close: async () => bots.close() },
    ...(residency ? [{ name: 'ollama models watch', close: async () => residency.stop() }] : []),
    { name: 'postgres pool', close: () => store.close() },
    ...(redis
      ? [
          {
            name: 'redis',
            close: async () => {
              await redis.quit().catch(() => redis.disconnect());
            },
          },
        ]
      : []),
    ...(embedded ? [{ name: 'embedded postgres', close: () => embedded.close() }] : []),
  ];
  return {
    config,
    logger,
    store,
    pool: store.pool,
    redis,
    cache,
    llm,
    bots,
    queue,
    embedded,
    mode: () => (store.isAvailable ? 'normal' : 'degraded'),
    describe: () => describeCore(config, embedded, journal),
    closers,
    close: async () => {
      if (closed) return;
      closed = true;
      persisted.forget();
      for (const c of closers()) {
        try {
          await c.close();
        } catch (err) {
          logger.error({ closer: c.name, err: { message: (err as Error).message } }, 'close failed');
        }
      }
    },
  };
}
