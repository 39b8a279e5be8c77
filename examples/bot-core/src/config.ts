import { BotCoreError } from './errors.js';
import type { BotCoreConfig } from './types.js';

/** Defaults of the bot controller configuration. */
export const DEFAULT_CONFIG: BotCoreConfig = {
  databaseUrl: undefined,
  schema: 'public',
  poolMax: 10,
  pgliteDataDir: undefined,
  redisUrl: undefined,
  redisKeyPrefix: 'deia-example:',
  cacheTtlSeconds: 30,
  ollamaUrl: undefined,
  ollamaModel: 'llama3.2',
  ollamaTimeoutMs: 30_000,
  ollamaFirstChunkTimeoutMs: 15_000,
  ollamaIdleTimeoutMs: 10_000,
  ollamaStreamTimeoutMs: 120_000,
  llmUsdPerMillionTokens: undefined,
  maxBots: 10,
  queueConcurrency: 4,
  messageWaitMs: 10_000,
  restartBackoff: { initialMs: 1_000, maxMs: 30_000 },
  dbHeartbeatMs: 2_000,
  dbProbe: { initialMs: 250, maxMs: 5_000 },
  dbConnectTimeoutMs: 2_000,
  dbQueryTimeoutMs: 5_000,
  dbStatementTimeoutMs: 4_000,
  journalDir: 'data/journal',
  journalMaxBytes: 64 * 1024 * 1024,
  journalReplayBatch: 500,
  redisCommandTimeoutMs: 500,
  redisConnectTimeoutMs: 2_000,
  shutdownDelayMs: 5_000,
  faults: false,
};

const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new BotCoreError('CONFIG', `${name}="${raw}" is not valid; set it to an integer >= ${min}.`);
  }
  return n;
}

function str(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

/** `JOURNAL_DIR`: unset means the default, `off` (or `none`, `false`, `0`) means no journal. */
function journalDir(env: NodeJS.ProcessEnv, fallback: string | undefined): string | undefined {
  const v = str(env, 'JOURNAL_DIR');
  if (v === undefined) return fallback;
  return /^(off|none|false|0)$/i.test(v) ? undefined : v;
}

/** `LLM_USD_PER_MILLION_TOKENS="<input>,<output>"`: two non-negative numbers. */
function prices(env: NodeJS.ProcessEnv): { input: number; output: number } | undefined {
  const raw = str(env, 'LLM_USD_PER_MILLION_TOKENS');
  if (raw === undefined) return undefined;
  const parts = raw.split(',').map((p) => Number(p.trim()));
  if (parts.length !== 2 || parts.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new BotCoreError(
      'CONFIG',
      `LLM_USD_PER_MILLION_TOKENS="${raw}" is not valid; set it to "<input>,<output>" USD per million tokens, e.g. "0.15,0.6".`,
    );
  }
  return { input: parts[0]!, output: parts[1]! };
}

/** Reads the configuration from environment variables (see the controllers' READMEs). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BotCoreConfig {
  const d = DEFAULT_CONFIG;
  return {
    databaseUrl: str(env, 'DATABASE_URL'),
    schema: str(env, 'DB_SCHEMA') ?? d.schema,
    poolMax: int(env, 'PG_POOL_MAX', d.poolMax, 1),
    pgliteDataDir: str(env, 'PGLITE_DATA_DIR'),
    redisUrl: str(env, 'REDIS_URL'),
    redisKeyPrefix: str(env, 'REDIS_KEY_PREFIX') ?? d.redisKeyPrefix,
    cacheTtlSeconds: int(env, 'CACHE_TTL_SECONDS', d.cacheTtlSeconds, 1),
    ollamaUrl: str(env, 'OLLAMA_URL')?.replace(/\/+$/, ''),
    ollamaModel: str(env, 'OLLAMA_MODEL') ?? d.ollamaModel,
    ollamaTimeoutMs: int(env, 'OLLAMA_TIMEOUT_MS', d.ollamaTimeoutMs, 1),
    ollamaFirstChunkTimeoutMs: int(env, 'OLLAMA_FIRST_CHUNK_TIMEOUT_MS', d.ollamaFirstChunkTimeoutMs, 1),
    ollamaIdleTimeoutMs: int(env, 'OLLAMA_IDLE_TIMEOUT_MS', d.ollamaIdleTimeoutMs, 1),
    ollamaStreamTimeoutMs: int(env, 'OLLAMA_STREAM_TIMEOUT_MS', d.ollamaStreamTimeoutMs, 1),
    llmUsdPerMillionTokens: prices(env),
    maxBots: int(env, 'MAX_BOTS', d.maxBots, 0),
    queueConcurrency: int(env, 'QUEUE_CONCURRENCY', d.queueConcurrency, 1),
    messageWaitMs: int(env, 'MESSAGE_WAIT_MS', d.messageWaitMs, 0),
    restartBackoff: {
      initialMs: int(env, 'BOT_RESTART_BACKOFF_MS', d.restartBackoff.initialMs, 1),
      maxMs: int(env, 'BOT_RESTART_BACKOFF_MAX_MS', d.restartBackoff.maxMs, 1),
    },
    dbHeartbeatMs: int(env, 'DB_HEARTBEAT_MS', d.dbHeartbeatMs, 100),
    dbProbe: { ...d.dbProbe },
    dbConnectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', d.dbConnectTimeoutMs, 1),
    dbQueryTimeoutMs: int(env, 'DB_QUERY_TIMEOUT_MS', d.dbQueryTimeoutMs, 1),
    dbStatementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', d.dbStatementTimeoutMs, 1),
    journalDir: journalDir(env, d.journalDir),
    journalMaxBytes: int(env, 'JOURNAL_MAX_BYTES', d.journalMaxBytes, 1024),
    journalReplayBatch: int(env, 'JOURNAL_REPLAY_BATCH', d.journalReplayBatch, 1),
    redisCommandTimeoutMs: int(env, 'REDIS_COMMAND_TIMEOUT_MS', d.redisCommandTimeoutMs, 1),
    redisConnectTimeoutMs: int(env, 'REDIS_CONNECT_TIMEOUT_MS', d.redisConnectTimeoutMs, 1),
    shutdownDelayMs: int(env, 'SHUTDOWN_DELAY_MS', d.shutdownDelayMs, 0),
    faults: env.DEIA_EXAMPLE_FAULTS === '1' || env.DEIA_EXAMPLE_FAULTS === 'true',
  };
}

/** Throws a coded error naming the setting to change when the configuration is unusable. */
export function validateConfig(config: BotCoreConfig): BotCoreConfig {
  if (!SCHEMA_RE.test(config.schema)) {
    throw new BotCoreError(
      'CONFIG',
      `DB_SCHEMA="${config.schema}" is not valid; use lower-case letters, digits and '_'.`,
    );
  }
  for (const [name, url] of [
    ['DATABASE_URL', config.databaseUrl],
    ['REDIS_URL', config.redisUrl],
    ['OLLAMA_URL', config.ollamaUrl],
  ] as const) {
    if (url === undefined) continue;
    try {
      new URL(url);
    } catch {
      // Never echo the value: it may hold a password.
      throw new BotCoreError('CONFIG', `${name} is not a valid URL; check its format.`);
    }
  }
  if (config.dbStatementTimeoutMs > config.dbQueryTimeoutMs) {
    throw new BotCoreError(
      'CONFIG',
      'DB_STATEMENT_TIMEOUT_MS must be <= DB_QUERY_TIMEOUT_MS (the server cancels before the client gives up).',
    );
  }
  if (
    config.ollamaFirstChunkTimeoutMs > config.ollamaStreamTimeoutMs ||
    config.ollamaIdleTimeoutMs > config.ollamaStreamTimeoutMs
  ) {
    throw new BotCoreError(
      'CONFIG',
      'OLLAMA_FIRST_CHUNK_TIMEOUT_MS and OLLAMA_IDLE_TIMEOUT_MS must be <= OLLAMA_STREAM_TIMEOUT_MS.',
    );
  }
  if (config.restartBackoff.maxMs < config.restartBackoff.initialMs) {
    throw new BotCoreError('CONFIG', 'BOT_RESTART_BACKOFF_MAX_MS must be >= BOT_RESTART_BACKOFF_MS.');
  }
  return config;
}

/** A URL without user name, password, query or hash, safe to log or print. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
