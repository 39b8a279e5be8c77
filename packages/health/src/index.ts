export { type DiskCheckOptions, diskCheck } from './checks/disk.js';
export { type EventLoopCheckOptions, eventLoopCheck } from './checks/event-loop.js';
export { type HttpCheckOptions, httpCheck } from './checks/http.js';
export { type MemoryCheckOptions, memoryCheck } from './checks/memory.js';
export { type OllamaCheckOptions, ollamaCheck } from './checks/ollama.js';
export {
  type PgClientLike,
  type PgPoolLike,
  type PostgresCheckOptions,
  type PostgresConnectionConfig,
  postgresCheck,
} from './checks/postgres.js';
export {
  type RedisCheckOptions,
  type RedisClientLike,
  redisCheck,
} from './checks/redis.js';
export { DEFAULT_HEALTH_PATHS } from './endpoints.js';
export { DeiaHealthError, type DeiaHealthErrorCode } from './errors.js';
export { createHealth, DEFAULT_HEALTH_OPTIONS } from './health.js';
export {
  DEFAULT_OLLAMA_MODELS_OPTIONS,
  type OllamaModelsOptions,
  type OllamaModelsWatch,
  type ResidentModelsSink,
  watchOllamaModels,
} from './ollama-models.js';
export { createShutdown, DEFAULT_SHUTDOWN_OPTIONS } from './shutdown.js';
export type {
  CacheStats,
  CheckContext,
  CheckFunction,
  CheckKind,
  CheckOptions,
  CheckOutcome,
  CheckResult,
  CheckStatus,
  Closer,
  DetailLevel,
  Health,
  HealthCheck,
  HealthCheckDefinition,
  HealthLogger,
  HealthMetricsSink,
  HealthOptions,
  HealthPaths,
  HealthReport,
  HealthRequest,
  HealthResponse,
  HealthStatus,
  ResidentModelInfo,
  Shutdown,
  ShutdownOptions,
  ShutdownSettings,
} from './types.js';
