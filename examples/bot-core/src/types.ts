import type { Metrics } from '@deia/metrics';

/** pino-compatible logger (the controllers pass `createLogger()` from `@deia/tracing`). */
export interface LoggerLike {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Configuration of the bot controller; `configFromEnv()` reads it from the environment. */
export interface BotCoreConfig {
  /** PostgreSQL connection string (`DATABASE_URL`). Unset: an embedded PGlite is started. */
  databaseUrl: string | undefined;
  /** Schema holding the tables (`DB_SCHEMA`). @default 'public' */
  schema: string;
  /** Pool size (`PG_POOL_MAX`). @default 10 */
  poolMax: number;
  /** Directory for the embedded PGlite's data (`PGLITE_DATA_DIR`). Unset: in memory. */
  pgliteDataDir: string | undefined;
  /** Redis connection string (`REDIS_URL`). Unset: no cache, reported as not configured. */
  redisUrl: string | undefined;
  /** Prefix of the Redis keys (`REDIS_KEY_PREFIX`). @default 'deia-example:' */
  redisKeyPrefix: string;
  /** Seconds a cached bot status lives. @default 30 */
  cacheTtlSeconds: number;
  /** Ollama base URL (`OLLAMA_URL`). Unset: the local echo model answers. */
  ollamaUrl: string | undefined;
  /** Ollama model (`OLLAMA_MODEL`). @default 'llama3.2' */
  ollamaModel: string;
  /** Timeout of one Ollama call in ms (`OLLAMA_TIMEOUT_MS`). @default 30000 */
  ollamaTimeoutMs: number;
  /**
   * Longest wait for the first piece of a streamed answer, in ms (`OLLAMA_FIRST_CHUNK_TIMEOUT_MS`):
   * connecting, the headers and loading the model. @default 15000
   */
  ollamaFirstChunkTimeoutMs: number;
  /** Longest gap between two pieces of a streamed answer, in ms (`OLLAMA_IDLE_TIMEOUT_MS`). @default 10000 */
  ollamaIdleTimeoutMs: number;
  /** Longest streamed answer, in ms (`OLLAMA_STREAM_TIMEOUT_MS`). @default 120000 */
  ollamaStreamTimeoutMs: number;
  /**
   * Price of the model in US dollars per million input and output tokens
   * (`LLM_USD_PER_MILLION_TOKENS="<input>,<output>"`, e.g. `0.15,0.6`), for
   * `llm_request_cost_usd_total`. @default undefined (no cost recorded)
   */
  llmUsdPerMillionTokens: { input: number; output: number } | undefined;
  /** Maximum bots running at once (`MAX_BOTS`); 0 stops new launches. @default 10 */
  maxBots: number;
  /** Tasks processed at once (`QUEUE_CONCURRENCY`). @default 4 */
  queueConcurrency: number;
  /** How long `POST /api/bot/:id/message` waits for the reply before answering 202 (`MESSAGE_WAIT_MS`). @default 10000 */
  messageWaitMs: number;
  /** First and largest delay between restarts of a crashed bot (`BOT_RESTART_BACKOFF_MS`, `BOT_RESTART_BACKOFF_MAX_MS`). */
  restartBackoff: { initialMs: number; maxMs: number };
  /** Interval of the database heartbeat while it is up, in ms (`DB_HEARTBEAT_MS`). @default 2000 */
  dbHeartbeatMs: number;
  /** First and largest delay between reconnection probes while the database is down. */
  dbProbe: { initialMs: number; maxMs: number };
  /**
   * Longest wait for a pooled PostgreSQL connection, new or free (`DB_CONNECT_TIMEOUT_MS`, pg's
   * `connectionTimeoutMillis`). @default 2000
   */
  dbConnectTimeoutMs: number;
  /**
   * Client-side limit of one query (`DB_QUERY_TIMEOUT_MS`, pg's `query_timeout`): a query whose
   * answer does not arrive in time (a partition) is failed and its connection destroyed. A write
   * that timed out may still commit: every acknowledged write is idempotent by id. @default 5000
   */
  dbQueryTimeoutMs: number;
  /**
   * Server-side limit of one statement (`DB_STATEMENT_TIMEOUT_MS`, PostgreSQL's
   * `statement_timeout`); below `dbQueryTimeoutMs` so a slow server cancels the statement itself.
   * @default 4000
   */
  dbStatementTimeoutMs: number;
  /**
   * Directory of the task journal (`JOURNAL_DIR`): while PostgreSQL is unreachable, an accepted
   * message is appended and fsynced here before it is answered 202, and replayed into PostgreSQL
   * (at most once per task id) when it returns or at the next start. `undefined` (`JOURNAL_DIR=off`):
   * no journal, messages are refused with 503 while the database is unreachable.
   * @default 'data/journal' (relative to the working directory; one sub-directory per schema)
   */
  journalDir: string | undefined;
  /** Most bytes the journal holds before it refuses messages with 503 (`JOURNAL_MAX_BYTES`). @default 67108864 */
  journalMaxBytes: number;
  /** Tasks inserted per statement when the journal is replayed (`JOURNAL_REPLAY_BATCH`). @default 500 */
  journalReplayBatch: number;
  /** Timeout of one Redis command (`REDIS_COMMAND_TIMEOUT_MS`): a slow cache is a miss. @default 500 */
  redisCommandTimeoutMs: number;
  /** Timeout of a Redis connection attempt (`REDIS_CONNECT_TIMEOUT_MS`). @default 2000 */
  redisConnectTimeoutMs: number;
  /**
   * Pre-stop delay at SIGTERM, in ms (`SHUTDOWN_DELAY_MS`): readiness answers 503 while requests
   * are still served, so a load balancer sees the 503 and stops routing before the listener
   * closes. Set it above the balancer's probe interval times
   * its failure threshold. @default 5000
   */
  shutdownDelayMs: number;
  /** Enables the fault-injection admin API (`DEIA_EXAMPLE_FAULTS=1`). @default false */
  faults: boolean;
}

/** What `startBotCore()` needs. */
export interface BotCoreOptions {
  metrics: Metrics;
  logger?: LoggerLike;
  /** Overrides of the configuration read from `env`. */
  config?: Partial<BotCoreConfig>;
  /** Environment to read the configuration from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Lifecycle state of a bot. `restarting` means it crashed and waits for its next start attempt. */
export type BotStatus = 'starting' | 'running' | 'stopped' | 'restarting' | 'error';

/** A bot as the API shows it. */
export interface BotView {
  id: string;
  status: BotStatus;
  model: string;
  restarts: number;
  lastError: string | null;
  startedAt: string | null;
  /** True while the fault API makes every start attempt crash. */
  crashInjected: boolean;
}

/** A message and its reply, stored together. */
export interface Exchange {
  botId: string;
  taskId: string;
  message: string;
  reply: string;
  model: string;
  at: Date;
  repliedAt: Date;
}

/** Lifecycle state of a task. */
export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed';

/** A message sent to a bot, as the API shows it. */
export interface TaskView {
  id: string;
  botId: string;
  status: TaskStatus;
  message: string;
  reply: string | null;
  error: string | null;
  model: string | null;
  enqueuedAt: string;
  finishedAt: string | null;
}

/** 'degraded' while the database is unreachable: tasks queue, nothing is lost. */
export type ServiceMode = 'normal' | 'degraded';

/** A framework-neutral API request. */
export interface ApiRequest {
  params: Record<string, string | undefined>;
  query: Record<string, unknown>;
  body: unknown;
}

/**
 * A framework-neutral API response: the body is JSON, or, when `stream` is set, the stream is the
 * body (the adapters send it as it is and destroy it if the client goes away).
 */
export interface ApiResponse {
  statusCode: number;
  body: unknown;
  headers?: Record<string, string>;
  stream?: import('node:stream').Readable;
}

/** One route of the REST API; both controllers register these. */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** Express/Fastify route template, e.g. `/api/bot/:id/start`. */
  path: string;
  handle(req: ApiRequest): Promise<ApiResponse>;
}
