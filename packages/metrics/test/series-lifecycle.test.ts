import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as promClient from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import { type CounterHandle, createMetrics, type MetricsOptions } from '../src/index.js';

const fresh = (opts: MetricsOptions = {}) =>
  createMetrics({
    registry: new promClient.Registry(),
    defaultMetrics: false,
    warn: () => {},
    ...opts,
  });

/** Sample lines of the text exposition (one per series, histogram buckets included). */
const samples = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

const until = async (what: () => Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
};

describe('series of things that go away', () => {
  it('10,000 bots created, used and deleted: the exposition returns to its size before them', async () => {
    const m = fresh({ groups: ['bots', 'process'] });
    const use = async (id: string, i: number) => {
      m.bots.register(id);
      await m.bots.trackStartup(id, async () => undefined);
      if (i % 7 === 0) await m.bots.trackStartup(id, () => Promise.reject(new Error('boom'))).catch(() => {});
      await m.bots.trackMessage(id, async () => 'reply');
      if (i % 5 === 0) await m.bots.trackMessage(id, () => Promise.reject(new Error('x'))).catch(() => {});
      if (i % 3 === 0) m.bots.recordRestart(id);
      m.bots.setResources(id, { cpuRatio: 0.1, memoryBytes: 1e6 });
    };
    // the series every bot shares (startup and processing histograms by outcome) exist from the first
    await use('warm-up', 0);
    await use('warm-up', 5);
    await use('warm-up', 7);
    m.bots.remove('warm-up');
    const before = samples(await m.registry.metrics());
    expect(before.some((l) => l.includes('bot_id='))).toBe(false);

    // 10,000 bots in batches of 50 live at once (the default cap is 100 distinct ids per label)
    let peak = 0;
    for (let batch = 0; batch < 200; batch++) {
      const ids = Array.from({ length: 50 }, (_, j) => `bot-${batch * 50 + j}`);
      await Promise.all(ids.map((id, j) => use(id, batch * 50 + j)));
      if (batch % 50 === 0) {
        const live = samples(await m.registry.metrics());
        peak = Math.max(peak, live.filter((l) => l.includes('bot_id="bot-')).length);
        expect(live.some((l) => l.includes('__overflow__'))).toBe(false);
      }
      for (const id of ids) expect(m.bots.remove(id)).toBeGreaterThanOrEqual(5);
    }
    expect(peak).toBeGreaterThanOrEqual(50 * 5);

    const after = samples(await m.registry.metrics());
    expect(after.filter((l) => l.includes('bot_id='))).toEqual([]);
    expect(after.length).toBe(before.length);
    // the same series (names and labels), only the shared histograms' values moved on
    const series = (lines: string[]) => lines.map((l) => l.slice(0, l.lastIndexOf(' '))).sort();
    expect(series(after)).toEqual(series(before));
    expect(after.join('\n')).not.toContain('metric_series_dropped_total');
  }, 60_000);

  it('removeSeries removes a model, a reason, a queue across metrics; a returning queue starts at 0', async () => {
    const m = fresh({ groups: ['llm', 'connections', 'tasks'] });
    await m.llm.trackRequest({ model: 'llama3', operation: 'chat' }, async () => 1);
    await m.llm.trackRequest({ model: 'mistral', operation: 'chat' }, async () => 1);
    m.llm.recordTokens('llama3', { prompt: 3, completion: 4 }, { prompt: 1, completion: 1 });
    m.auth.recordFailure('expired_token');
    m.tasks.enqueued('q7');
    // its duration histogram, two token types and its cost
    expect(m.removeSeries({ model: 'llama3' })).toBe(4);
    let text = await m.registry.metrics();
    expect(text).not.toContain('llama3');
    expect(text).toContain('model="mistral"');
    expect(m.removeSeries({ reason: 'expired_token' })).toBe(1);
    expect(await m.registry.metrics()).not.toContain('expired_token');
    expect(m.removeSeries({ queue: 'q7' })).toBe(3);
    m.tasks.enqueued('q7');
    text = await m.registry.metrics();
    expect(text).toContain('task_enqueued_total{queue="q7"} 1');
    expect(text).toContain('task_failed_total{queue="q7"} 0');
    // a label no metric has: nothing removed; an extra metric's handle removes by partial labels
    expect(m.removeSeries({ nope: 'x' })).toBe(0);
  });

  it('a handle removes its series by partial labels and frees their values under the cap', async () => {
    const m = fresh({
      groups: [],
      maxLabelValues: 2,
      extraMetrics: [
        {
          name: 'jobs_total',
          type: 'counter',
          help: 'Jobs.',
          unit: '1',
          labelNames: ['tenant', 'kind'],
          group: 'custom',
        },
      ],
    });
    const jobs = m.get<CounterHandle<'tenant' | 'kind'>>('jobs_total');
    jobs.inc({ tenant: 'a', kind: 'x' });
    jobs.inc({ tenant: 'a', kind: 'y' });
    jobs.inc({ tenant: 'b', kind: 'x' });
    expect(jobs.remove({ tenant: 'a' })).toBe(2);
    jobs.inc({ tenant: 'c', kind: 'x' }); // 'a' was freed: 'c' fits under the cap of 2 tenants
    const text = await m.registry.metrics();
    expect(text).not.toContain('tenant="a"');
    expect(text).toContain('jobs_total{tenant="c",kind="x"} 1');
    expect(text).not.toContain('__overflow__');
  });
});

describe('series budget', () => {
  it('folds label sets past maxSeriesPerMetric into one overflow series, keeps totals and counts them', async () => {
    const logger = { warn: vi.fn() };
    const m = createMetrics({
      registry: new promClient.Registry(),
      defaultMetrics: false,
      groups: ['bots', 'process'],
      maxSeriesPerMetric: 5,
      logger,
    });
    for (let i = 0; i < 8; i++) m.bots.recordRestart(`bot-${i}`);
    m.bots.recordRestart('bot-7'); // still in the overflow series
    let text = await m.registry.metrics();
    const restarts = samples(text).filter((l) => l.startsWith('bot_restarts_total{'));
    expect(restarts).toHaveLength(6);
    expect(text).toContain('bot_restarts_total{bot_id="__overflow__"} 4');
    expect(restarts.reduce((n, l) => n + Number(l.split(' ')[1]), 0)).toBe(9);
    expect(text).toContain('metric_series_dropped_total{metric="bot_restarts_total",reason="budget"} 4');
    // one structured log line per metric, through the configured logger
    const calls = logger.warn.mock.calls.filter(([, msg]) => String(msg).includes('budget'));
    expect(calls).toHaveLength(1);
    expect(calls[0]?.[0]).toMatchObject({ metric: 'bot_restarts_total', maxSeries: 5 });
    // a removed bot frees its place
    expect(m.bots.remove('bot-0')).toBe(1);
    m.bots.recordRestart('bot-new');
    text = await m.registry.metrics();
    expect(text).toContain('bot_restarts_total{bot_id="bot-new"} 1');
  });

  it('a declared label keeps its value in the overflow series; a per-metric maxSeries wins', async () => {
    const m = fresh({
      groups: [],
      extraMetrics: [
        {
          name: 'calls_total',
          type: 'counter',
          help: 'Calls.',
          unit: '1',
          labelNames: ['user', 'outcome'],
          labelValues: { outcome: ['ok', 'error'] },
          maxSeries: 2,
          group: 'custom',
        },
      ],
    });
    const calls = m.get<CounterHandle<'user' | 'outcome'>>('calls_total');
    for (const user of ['u1', 'u2', 'u3', 'u4']) calls.inc({ user, outcome: user === 'u4' ? 'error' : 'ok' });
    const text = await m.registry.metrics();
    expect(text).toContain('calls_total{user="__overflow__",outcome="ok"} 1');
    expect(text).toContain('calls_total{user="__overflow__",outcome="error"} 1');
  });
});

describe('idle TTL', () => {
  it('removes label sets not recorded for seriesTtlSeconds, keeps the busy ones, counts them', async () => {
    const m = fresh({ groups: ['bots', 'process'], seriesTtlSeconds: 1 });
    try {
      m.bots.recordRestart('idle');
      m.bots.recordRestart('busy');
      const busy = setInterval(() => m.bots.recordRestart('busy'), 100);
      try {
        const gone = await until(async () => !(await m.registry.metrics()).includes('bot_id="idle"'), 15_000);
        expect(gone).toBe(true);
        const text = await m.registry.metrics();
        expect(text).toContain('bot_restarts_total{bot_id="busy"}');
        expect(text).toMatch(
          /metric_series_dropped_total\{metric="bot_restarts_total",reason="expired"\} [1-9]/,
        );
      } finally {
        clearInterval(busy);
      }
      // an expired bot that comes back starts again
      m.bots.recordRestart('idle');
      expect(await m.registry.metrics()).toContain('bot_restarts_total{bot_id="idle"} 1');
    } finally {
      m.shutdown();
    }
  }, 30_000);

  it("does not keep the process alive: the expiry timer is unref'd", () => {
    // the sources through tsx, as the tests import them; the process must end on its own
    const src = fileURLToPath(new URL('../src/index.ts', import.meta.url));
    const code = `const { createMetrics } = await import(${JSON.stringify(src)});
      const m = createMetrics({ seriesTtlSeconds: 1, defaultMetrics: false });
      m.bots.recordRestart('b');
      console.log('created');`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.stdout).toContain('created');
    expect(r.signal).toBeNull(); // not killed by the timeout: it exited by itself
    expect(r.status).toBe(0);
  }, 30_000);

  it('rejects bad lifecycle options', () => {
    expect(() => fresh({ seriesTtlSeconds: 0 })).toThrow(/seriesTtlSeconds/);
    expect(() => fresh({ maxSeriesPerMetric: 1.5 })).toThrow(/maxSeriesPerMetric/);
    expect(() => fresh({ logger: {} as never })).toThrow(/logger/);
  });

  it('sends label cap warnings to the logger with the metric and label', async () => {
    const logger = { warn: vi.fn() };
    const m = createMetrics({
      registry: new promClient.Registry(),
      defaultMetrics: false,
      groups: ['bots', 'process'],
      maxLabelValues: 2,
      logger,
    });
    for (let i = 0; i < 4; i++) m.bots.recordRestart(`b${i}`);
    expect(logger.warn).toHaveBeenCalledWith(
      { metric: 'bot_restarts_total', label: 'bot_id' },
      expect.stringMatching(/reached its cap/),
    );
    expect(await m.registry.metrics()).toContain(
      'metric_series_dropped_total{metric="bot_restarts_total",reason="label_cap"} 2',
    );
  });
});
