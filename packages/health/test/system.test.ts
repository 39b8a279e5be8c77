import { describe, expect, it } from 'vitest';
import { createHealth, diskCheck, eventLoopCheck, memoryCheck } from '../src/index.js';

describe('memoryCheck', () => {
  it('passes under the thresholds, warns and fails against a given RSS limit', async () => {
    const rss = process.memoryUsage().rss;
    const h = createHealth({
      cacheTtlMs: 0,
      checks: {
        ok: memoryCheck(),
        // RSS is read again by the check: 0.875, midway between warnRatio 0.8 and failRatio 0.95,
        // leaves the most room for it to move between the two reads either way
        warn: memoryCheck({ maxRssBytes: rss / 0.875 }),
        fail: memoryCheck({ maxRssBytes: rss / 2 }),
      },
    });
    const r = await h.run();
    expect(r.checks.ok!.status).toBe('pass');
    expect(r.checks.ok!.details).toMatchObject({
      rss_mb: expect.any(Number),
      heap_ratio: expect.any(Number),
    });
    expect(r.checks.warn!.status).toBe('warn');
    expect(r.checks.fail!.status).toBe('fail');
    expect(r.checks.fail!.message).toMatch(/^rss at \d+% of limit$/);
    expect(r.status).toBe('degraded'); // non-critical by default
    await h.close();
  });

  it('rejects bad thresholds', () => {
    expect(() => memoryCheck({ warnRatio: 0.9, failRatio: 0.8 })).toThrow(/warnRatio <= failRatio/);
  });
});

describe('diskCheck', () => {
  it('reports the free ratio and applies the thresholds; hides the path unless exposeHostnames', async () => {
    const h = createHealth({
      checks: {
        root: diskCheck('/'),
        strict: diskCheck('/', { warnFreeRatio: 0.999, failFreeRatio: 0.998 }),
        missing: diskCheck('/no/such/dir'),
      },
    });
    const r = await h.run();
    const free = r.checks.root!.details.free_ratio as number;
    expect(free).toBeGreaterThan(0);
    expect(free).toBeLessThanOrEqual(1);
    expect(r.checks.root!.details.path).toBeUndefined();
    expect(r.checks.root!.status).toBe(free < 0.1 ? 'fail' : free < 0.15 ? 'warn' : 'pass');
    expect(r.checks.strict!.status).toBe('fail');
    expect(r.checks.missing!.status).toBe('fail');
    expect(r.checks.missing!.message).toBe('no such file or directory');
    await h.close();
    const shown = createHealth({ exposeHostnames: true, checks: { root: diskCheck('/') } });
    expect((await shown.run()).checks.root!.details.path).toBe('/');
  });
});

describe('eventLoopCheck', () => {
  it('passes on an idle loop and warns after the loop was blocked', async () => {
    const h = createHealth({
      cacheTtlMs: 0,
      checks: { loop: eventLoopCheck({ warnMs: 100, failMs: 2000 }) },
    });
    expect((await h.run()).checks.loop!.status).toBe('pass');
    await new Promise((r) => setTimeout(r, 60));
    const until = Date.now() + 250;
    while (Date.now() < until) {
      // block the loop
    }
    await new Promise((r) => setTimeout(r, 60));
    const r = await h.run();
    expect(r.checks.loop!.status).toBe('warn');
    expect(r.checks.loop!.details.lag_max_ms).toBeGreaterThanOrEqual(200);
    await h.close();
  });
});
