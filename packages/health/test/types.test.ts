import type { Server } from 'node:http';
import type { HealthLike, Metrics, PgPoolLike as MetricsPgPoolLike } from '@deia/metrics';
import type Redis from 'ioredis';
import type pg from 'pg';
import { describe, expectTypeOf, it } from 'vitest';
import type {
  CheckFunction,
  Health,
  HealthMetricsSink,
  HealthRequest,
  HealthResponse,
  PgPoolLike,
  RedisClientLike,
  ShutdownOptions,
} from '../src/index.js';

// Compile-time contracts (checked by `tsc`): the user's clients and the adapters' values fit.
describe('types', () => {
  it('pg Pool, ioredis client and @deia/metrics fit the structural types', () => {
    expectTypeOf<pg.Pool>().toMatchTypeOf<PgPoolLike>();
    // one pool shape across the SDK: what postgresCheck takes, observePgPool takes too
    expectTypeOf<pg.Pool>().toMatchTypeOf<MetricsPgPoolLike>();
    expectTypeOf<PgPoolLike>().toMatchTypeOf<MetricsPgPoolLike>();
    expectTypeOf<Redis>().toMatchTypeOf<RedisClientLike>();
    expectTypeOf<Metrics>().toMatchTypeOf<HealthMetricsSink>();
    expectTypeOf<Server>().toMatchTypeOf<NonNullable<ShutdownOptions['server']>>();
  });

  it('handle() is sync-undefined or a promise of the neutral response', () => {
    expectTypeOf<Health['handle']>().parameter(0).toEqualTypeOf<HealthRequest>();
    expectTypeOf<ReturnType<Health['handle']>>().toEqualTypeOf<Promise<HealthResponse> | undefined>();
    expectTypeOf<Health['paths']>().toEqualTypeOf<readonly string[]>();
    // what the adapters (through @deia/metrics' HTTP core) mount
    expectTypeOf<Health>().toMatchTypeOf<HealthLike>();
  });

  it('custom checks may return nothing, a boolean or an outcome, sync or async', () => {
    expectTypeOf(async () => undefined).toMatchTypeOf<CheckFunction>();
    expectTypeOf(async (_s: AbortSignal) => {}).toMatchTypeOf<CheckFunction>();
    expectTypeOf(() => true).toMatchTypeOf<CheckFunction>();
    expectTypeOf(() => ({ status: 'warn' as const, details: { lag: 1 } })).toMatchTypeOf<CheckFunction>();
  });
});
