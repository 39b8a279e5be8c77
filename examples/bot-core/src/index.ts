export { createApiRoutes, errorResponse } from './api.js';
export { type BotCore, startBotCore } from './bot-core.js';
export { BOT_ID_RE, BotManager } from './bots.js';
export { createRedis, DEFAULT_REDIS_TIMEOUTS, type RedisTimeouts, StatusCache } from './cache.js';
export { CHAT_STREAM_CONTENT_TYPE, type ChatStreamLine, openChatStream } from './chat-stream.js';
export { configFromEnv, DEFAULT_CONFIG, redactUrl, validateConfig } from './config.js';
export { type DemoOptions, runDemo } from './demo.js';
export { createDurabilityMetrics, type DurabilityMetrics } from './durability-metrics.js';
export { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres.js';
export { BotCoreError, DatabaseUnavailableError } from './errors.js';
export {
  errorType,
  type StreamedCallLabels,
  type StreamedCallResult,
  trackStreamedCall,
} from './genai-record.js';
export { createAppHealth, metricsAccess } from './health.js';
export {
  type JournalRecord,
  replayJournal,
  type SegmentContents,
  TaskJournal,
} from './journal.js';
export {
  type Completion,
  createEchoClient,
  createOllamaClient,
  DEFAULT_STREAM_TIMEOUTS,
  ECHO_LABEL,
  ECHO_MODEL,
  type LlmClient,
  splitUrlCredentials,
} from './llm.js';
export {
  LlmCallError,
  type OllamaCounters,
  type StreamCallOptions,
  type StreamTimeouts,
  streamOllamaChat,
  streamWords,
} from './llm-stream.js';
export { type ControllerOptions, type RunningController, runController } from './main.js';
export { MIGRATIONS, migrate } from './migrations.js';
export { isConnectionError } from './pg-errors.js';
export { TaskQueue } from './queue.js';
export { type AcceptOutcome, type ChatMessageRow, Store } from './store.js';
export type {
  ApiRequest,
  ApiResponse,
  ApiRoute,
  BotCoreConfig,
  BotCoreOptions,
  BotStatus,
  BotView,
  Exchange,
  LoggerLike,
  ServiceMode,
  TaskStatus,
  TaskView,
} from './types.js';
