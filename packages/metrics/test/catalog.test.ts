import { readFileSync } from 'node:fs';
import * as promClient from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { validateDefinition } from '../src/adapter.js';
import {
  CATALOG,
  createMetrics,
  DEFAULT_METRICS_OPTIONS,
  DeiaMetricsError,
  type MetricDefinition,
  renderMetricsMarkdown,
} from '../src/index.js';

const fresh = (opts: Parameters<typeof createMetrics>[0] = {}) =>
  createMetrics({ registry: new promClient.Registry(), warn: () => {}, ...opts });

describe('catalog', () => {
  it('every definition is valid, unique and in base units', () => {
    const names = new Set<string>();
    for (const def of CATALOG) {
      expect(() => validateDefinition(def)).not.toThrow();
      expect(names.has(def.name)).toBe(false);
      names.add(def.name);
      expect(def.name).not.toMatch(/_(ms|mb|percent)$/);
    }
    for (const guideName of [
      'http_requests_total',
      'task_queue_depth',
      'db_connection_pool_active',
      'bot_start_errors_total',
      'bot_dispatch_latency_seconds',
      'http_request_duration_seconds',
    ]) {
      expect(names.has(guideName)).toBe(true);
    }
  });

  it('exposes every catalog metric with HELP and TYPE in the exposition text', async () => {
    const m = fresh();
    m.http.requests.inc({ method: 'GET', route: '/api/bots', status: 200 });
    m.http.duration.observe({ method: 'GET', route: '/api/bots', status: 200 }, 0.042);
    const text = await m.registry.metrics();
    for (const def of CATALOG) {
      expect(text).toContain(`# TYPE ${def.name} ${def.type}`);
    }
    expect(text).toContain('http_requests_total{method="GET",route="/api/bots",status="200"} 1');
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="0.05",method="GET",route="/api/bots",status="200"} 1',
    );
    expect(text).toMatch(/process_cpu_seconds_total \d/);
    expect(text).toMatch(/nodejs_eventloop_lag_seconds/);
    expect(text).toMatch(/process_uptime_seconds \d/);
    expect(text).toMatch(/app_build_info\{version="[^"]+",commit="unknown",node_version="v\d+/);
  });

  it('applies prefix and default labels', async () => {
    const m = fresh({ prefix: 'deia_', defaultLabels: { service: 'bot-controller' }, groups: ['tasks'] });
    m.tasks.enqueued('mail');
    const text = await m.registry.metrics();
    expect(text).toContain('deia_task_enqueued_total{queue="mail",service="bot-controller"} 1');
    expect(text).not.toContain('http_requests_total');
  });

  it('returns the same handles when created twice against one registry', () => {
    const registry = new promClient.Registry();
    const a = createMetrics({ registry, warn: () => {} });
    const b = createMetrics({ registry, warn: () => {} });
    expect(b).toBe(a);
    expect(b.http.requests.metric).toBe(a.http.requests.metric);
    // the defaults spelled out are the same options; key order does not matter
    const c = createMetrics({
      registry,
      groups: [...DEFAULT_METRICS_OPTIONS.groups].reverse(),
      defaultMetrics: true,
      maxLabelValues: 100,
      buildInfo: {},
    });
    expect(c).toBe(a);
  });

  it('throws naming the options that differ when created again with other options', () => {
    const registry = new promClient.Registry();
    const extra: MetricDefinition = {
      name: 'jobs_total',
      type: 'counter',
      help: 'Jobs.',
      unit: '1',
      labelNames: ['kind'],
      group: 'custom',
    };
    const a = createMetrics({ registry, groups: ['http', 'bots'], extraMetrics: [extra], warn: () => {} });
    expect(createMetrics({ registry, groups: ['bots', 'http'], extraMetrics: [{ ...extra }] })).toBe(a);
    let error: unknown;
    try {
      createMetrics({ registry, groups: ['http'], maxLabelValues: 5, extraMetrics: [extra] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DeiaMetricsError);
    expect((error as DeiaMetricsError).code).toBe('DEIA_METRICS_OPTIONS_CONFLICT');
    expect((error as Error).message).toMatch(/created with other groups, maxLabelValues;/);
    // another prefix on the same registry is another catalog
    expect(createMetrics({ registry, prefix: 'x_', groups: ['http'] })).not.toBe(a);
    // an exemplar provider is compared by identity
    const provider = () => undefined;
    const b = createMetrics({ exemplars: provider, groups: ['http'] });
    const om = b.registry;
    expect(createMetrics({ registry: om, exemplars: provider, groups: ['http'] })).toBe(b);
    expect(() => createMetrics({ registry: om, exemplars: () => undefined, groups: ['http'] })).toThrow(
      /other exemplars/,
    );
  });

  it('re-uses a compatible metric registered by another copy of the SDK', async () => {
    const registry = new promClient.Registry();
    const existing = new promClient.Counter({
      name: 'http_requests_total',
      help: 'x',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    const m = createMetrics({ registry, groups: ['http'], warn: () => {} });
    expect(m.http.requests.metric).toBe(existing);
  });

  it('throws a coded error for a conflicting metric', () => {
    const registry = new promClient.Registry();
    new promClient.Gauge({ name: 'http_requests_total', help: 'x', registers: [registry] });
    expect(() => createMetrics({ registry, groups: ['http'], warn: () => {} })).toThrow(
      /DEIA_METRIC_CONFLICT.*http_requests_total/,
    );
  });
});

describe('bad options fail at creation with the metric and the fix', () => {
  const def = (over: Partial<MetricDefinition>): MetricDefinition => ({
    name: 'my_jobs_total',
    type: 'counter',
    help: 'Jobs.',
    unit: '1',
    labelNames: ['kind'],
    group: 'custom',
    ...over,
  });
  it.each([
    [{ name: '9bad_total' }, /DEIA_METRIC_NAME.*9bad_total/],
    [{ name: 'jobs' }, /counter names end in _total/],
    [{ labelNames: ['kind', 'kind'] }, /label "kind" is listed twice/],
    [{ labelNames: ['__x'] }, /must match/],
    [{ type: 'histogram', name: 'my_seconds', buckets: [1, 0.5] }, /strictly increasing, but 0.5 follows 1/],
    [{ type: 'histogram', name: 'my_seconds', buckets: [] }, /non-empty buckets/],
    [{ type: 'gauge', name: 'my_g', buckets: [1] }, /only histograms take buckets/],
    [{ help: '' }, /help text/],
  ] as const)('%o', (over, message) => {
    expect(() => fresh({ groups: [], extraMetrics: [def(over as Partial<MetricDefinition>)] })).toThrow(
      message,
    );
  });
  it('rejects a duplicate of a catalog name, a bad prefix, an unknown group, bad bucket overrides', () => {
    expect(() => fresh({ extraMetrics: [def({ name: 'http_requests_total' })] })).toThrow(
      /DEIA_METRIC_DUPLICATE/,
    );
    expect(() => fresh({ prefix: '1x' })).toThrow(DeiaMetricsError);
    // spans lost on the way to the collector (what @deia/tracing's onDroppedSpans reports)
    const t = fresh({ groups: ['tracing'] });
    t.recordDroppedSpans(3, 'export_failed');
    t.recordDroppedSpans(0, 'queue_full');
    t.recordDroppedSpans(2, 'queue_full');
    return t.registry.metrics().then((text) => {
      expect(text).toMatch(/^tracing_spans_dropped_total\{reason="export_failed"\} 3$/m);
      expect(text).toMatch(/^tracing_spans_dropped_total\{reason="queue_full"\} 2$/m);
    });
  });

  it('rejects unknown options', () => {
    // a typo is rejected with the closest known option, not ignored (the adapters do the same)
    expect(() => fresh({ grups: ['http'] } as never)).toThrow(
      /createMetrics: unknown option "grups" \(did you mean "groups"\?\)/,
    );
    expect(() => fresh({ groups: ['nope' as never] })).toThrow(/unknown group "nope"/);
    expect(() => fresh({ buckets: { http_request_duration_seconds: [2, 1] } })).toThrow(
      /strictly increasing/,
    );
    expect(() => fresh({ buckets: { nope_seconds: [1] } })).toThrow(/buckets.nope_seconds/);
    expect(() => fresh({ defaultLabels: { 'bad-name': 'x' } })).toThrow(/defaultLabels/);
  });
  it('accepts user metrics in the catalog format', async () => {
    const m = fresh({ groups: [], extraMetrics: [def({})] });
    m.get<import('../src/index.js').CounterHandle>('my_jobs_total').inc({ kind: 'a' });
    expect(await m.registry.metrics()).toContain('my_jobs_total{kind="a"} 1');
  });
});

describe('label guards', () => {
  it('folds undeclared values into "other" and caps open labels', async () => {
    const warn = vi.fn();
    const m = createMetrics({
      registry: new promClient.Registry(),
      warn,
      groups: ['http', 'bots'],
      maxLabelValues: 3,
    });
    m.http.requests.inc({ method: 'BREW', route: '/x', status: 418 });
    for (let i = 0; i < 10; i++) m.bots.recordRestart(`bot-${i}`);
    const text = await m.registry.metrics();
    expect(text).toContain('http_requests_total{method="other",route="/x",status="418"} 1');
    expect(text).toContain('bot_restarts_total{bot_id="__overflow__"} 7');
    expect(text.match(/bot_restarts_total\{/g)).toHaveLength(4);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/bot_restarts_total label "bot_id" reached its cap/);
  });
});

describe('domain helpers', () => {
  it('trackStartup times and counts failures, rethrowing', async () => {
    const m = fresh({ groups: ['bots'] });
    await expect(m.bots.trackStartup('bot-7', async () => 'ok')).resolves.toBe('ok');
    await expect(
      m.bots.trackStartup('bot-8', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const text = await m.registry.metrics();
    expect(text).toContain('bot_startup_duration_seconds_count{outcome="success"} 1');
    expect(text).toContain('bot_startup_duration_seconds_count{outcome="error"} 1');
    expect(text).toContain('bot_start_errors_total{bot_id="bot-8"} 1');
    // Created at 0 when the bot is first started, so increase() sees its first error or restart.
    expect(text).toContain('bot_start_errors_total{bot_id="bot-7"} 0');
    expect(text).toContain('bot_restarts_total{bot_id="bot-7"} 0');
  });

  it('creates the error and hit/miss counters at 0 with their label set', async () => {
    const m = fresh({ groups: ['database', 'cache'] });
    await m.db.trackQuery('select', async () => 1);
    m.cache.hit('bot_status');
    const text = await m.registry.metrics();
    expect(text).toContain('db_query_errors_total{operation="select"} 0');
    expect(text).toContain('cache_hits_total{cache="bot_status"} 1');
    expect(text).toContain('cache_misses_total{cache="bot_status"} 0');
  });

  it('creates a bot, queue or auth reason counters at 0 when it becomes known', async () => {
    const m = fresh({ groups: ['bots', 'tasks', 'connections'] });
    m.bots.register('bot-9');
    m.tasks.registerQueue('messages');
    m.observeQueue(() => 0, 'embeddings');
    m.auth.declareReasons('bad_password', 'expired_token');
    let text = await m.registry.metrics();
    expect(text).toContain('bot_start_errors_total{bot_id="bot-9"} 0');
    expect(text).toContain('bot_restarts_total{bot_id="bot-9"} 0');
    for (const queue of ['messages', 'embeddings']) {
      for (const c of ['task_enqueued_total', 'task_completed_total', 'task_failed_total'])
        expect(text).toContain(`${c}{queue="${queue}"} 0`);
    }
    expect(text).toContain('auth_failures_total{reason="bad_password"} 0');
    expect(text).toContain('auth_failures_total{reason="expired_token"} 0');
    // The first enqueue of an unknown queue creates its outcome counters too.
    m.tasks.enqueued('uploads');
    await expect(
      m.tasks.trackTask(Date.now(), () => Promise.reject(new Error('x')), 'uploads'),
    ).rejects.toThrow();
    m.auth.recordFailure('bad_password');
    text = await m.registry.metrics();
    expect(text).toContain('task_enqueued_total{queue="uploads"} 1');
    expect(text).toContain('task_completed_total{queue="uploads"} 0');
    expect(text).toContain('task_failed_total{queue="uploads"} 1');
    expect(text).toContain('auth_failures_total{reason="bad_password"} 1');
  });

  it('registering an object whose group is off is a no-op', async () => {
    const m = fresh({ groups: ['http'] });
    m.bots.register('bot-1');
    m.tasks.registerQueue('q');
    m.auth.declareReasons('x');
    expect(await m.registry.metrics()).not.toMatch(/bot_|task_|auth_/);
  });

  it('samples pool, queue and bot counts at scrape time', async () => {
    const m = fresh({ groups: ['database', 'tasks', 'bots'] });
    const pool = { totalCount: 5, idleCount: 2, waitingCount: 1, options: { max: 20 } };
    let depth = 3;
    m.observePgPool(pool);
    m.observeQueue(() => depth);
    m.bots.observeInstances(() => ({ running: 4, stopped: 1, error: 0, max: 10 }));
    let text = await m.registry.metrics();
    expect(text).toContain('db_connection_pool_active{pool="default"} 3');
    expect(text).toContain('db_connection_pool_max{pool="default"} 20');
    expect(text).toContain('task_queue_depth{queue="default"} 3');
    expect(text).toContain('bot_instances{status="running"} 4');
    expect(text).toContain('bot_instances_max 10');
    depth = 41;
    text = await m.registry.metrics();
    expect(text).toContain('task_queue_depth{queue="default"} 41');
  });

  it('counts tokens and cost, cache hits, task outcomes, health checks', async () => {
    const m = fresh();
    m.llm.recordTokens('llama3', { prompt: 10, completion: 30 }, { prompt: 0.001, completion: 0.002 });
    await expect(
      m.llm.trackRequest({ model: 'llama3', operation: 'generate' }, () => Promise.reject(new Error('500'))),
    ).rejects.toThrow();
    m.cache.hit();
    m.cache.miss();
    await m.tasks.trackTask(Date.now() - 1500, () => 1);
    await expect(
      m.tasks.trackTask(Date.now(), () => {
        throw new Error('x');
      }),
    ).rejects.toThrow();
    m.recordHealthCheck('database', false, 0.01);
    const text = await m.registry.metrics();
    expect(text).toContain('llm_tokens_total{model="llama3",type="completion"} 30');
    expect(Number(/llm_cost_usd_total\{model="llama3"\} (\S+)/.exec(text)?.[1])).toBeCloseTo(0.07, 10);
    expect(text).toContain('llm_request_errors_total{model="llama3",operation="generate"} 1');
    expect(text).toContain('cache_hits_total{cache="default"} 1');
    expect(text).toContain('task_completed_total{queue="default"} 1');
    expect(text).toContain('task_failed_total{queue="default"} 1');
    expect(text).toContain('task_queue_wait_seconds_bucket{le="5",queue="default"} 2');
    expect(text).toContain('health_check_up{check="database"} 0');
  });

  it("turns the cache server's running eviction total into counter increases (0 first, resets counted)", async () => {
    const m = fresh();
    const value = async (name: string) =>
      Number(new RegExp(`^${name}\\{cache="redis"\\} (\\S+)$`, 'm').exec(await m.registry.metrics())?.[1]);
    m.recordCacheStats('redis', { usedMemoryBytes: 1_000_000, maxMemoryBytes: 0, evictedKeys: 500 });
    expect(await value('cache_evictions_total')).toBe(0); // evictions before this process: not new events
    expect(await value('cache_memory_used_bytes')).toBe(1_000_000);
    expect(await value('cache_memory_max_bytes')).toBe(0);
    m.recordCacheStats('redis', { evictedKeys: 520 });
    expect(await value('cache_evictions_total')).toBe(20);
    m.recordCacheStats('redis', { evictedKeys: 5 }); // server restarted or CONFIG RESETSTAT
    expect(await value('cache_evictions_total')).toBe(25);
    m.recordCacheStats('redis', { usedMemoryBytes: Number.NaN, maxMemoryBytes: -1, evictedKeys: undefined });
    expect(await value('cache_memory_used_bytes')).toBe(1_000_000);
    expect(await value('cache_memory_max_bytes')).toBe(0);
    expect(await value('cache_evictions_total')).toBe(25);
  });
});

describe('docs/metrics.md', () => {
  it('is generated from the catalog and up to date (run `pnpm docs` to refresh)', () => {
    const committed = readFileSync(new URL('../../../docs/metrics.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderMetricsMarkdown(CATALOG));
  });
});

describe('exemplars', () => {
  it('attaches the provider labels to histogram buckets in the OpenMetrics exposition', async () => {
    let traceId: string | undefined = '4bf92f3577b34da6a3ce929d0e0e4736';
    const m = createMetrics({
      warn: () => {},
      groups: ['http'],
      exemplars: () => (traceId ? { trace_id: traceId } : undefined),
    });
    expect(m.registry.contentType).toContain('application/openmetrics-text');
    m.http.duration.observe({ method: 'GET', route: '/a', status: 200 }, 0.04);
    traceId = undefined;
    m.http.duration.observe({ method: 'GET', route: '/b', status: 200 }, 0.04);
    const text = await m.registry.metrics();
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0.05",method="GET",route="\/a",status="200"\} 1 # \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736"\} 0.04/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0.05",method="GET",route="\/b",status="200"\} 1\n/,
    );
  });
  it('refuses a plain-text registry', () => {
    expect(() => fresh({ exemplars: () => undefined })).toThrow(/OpenMetrics registry/);
  });
});
