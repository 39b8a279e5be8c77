import { createMetrics } from '@deia/metrics';
import { describe, expect, it } from 'vitest';
import { BotManager, createEchoClient, type LoggerLike } from '../src/index.js';

const quiet: LoggerLike = { debug() {}, info() {}, warn() {}, error() {} };

describe('deleted bots leave no series', () => {
  it('1,000 bots started, messaged, crashed and deleted: the exposition returns to its size before them', async () => {
    const metrics = createMetrics({
      defaultMetrics: false,
      groups: ['bots', 'llm', 'process'],
      warn: () => {},
    });
    const bots = new BotManager({
      metrics,
      logger: quiet,
      llm: createEchoClient({ metrics }),
      maxBots: 100,
      restartBackoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    const samples = async () =>
      (await metrics.registry.metrics()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const cycle = async (id: string, i: number) => {
      await bots.start(id);
      if (bots.tryAcquire(id)) {
        try {
          await bots.handleMessage(id, 'hello');
        } finally {
          bots.release(id);
        }
      }
      if (i % 4 === 0) bots.injectCrash(id); // counted: a crash, a pending restart
      bots.delete(id);
    };
    try {
      await cycle('warm-up', 0);
      const before = await samples();
      for (let batch = 0; batch < 20; batch++) {
        await Promise.all(Array.from({ length: 50 }, (_, j) => cycle(`bot-${batch}-${j}`, j)));
      }
      const after = await samples();
      expect(after.filter((l) => l.includes('bot_id='))).toEqual([]);
      expect(after.length).toBe(before.length);
      expect(bots.list()).toEqual([]);
    } finally {
      bots.close();
      metrics.shutdown();
    }
  }, 60_000);

  it('a start still in progress when its bot is deleted leaves no series behind', async () => {
    const metrics = createMetrics({ defaultMetrics: false, groups: ['bots'], warn: () => {} });
    const bots = new BotManager({
      metrics,
      logger: quiet,
      llm: createEchoClient({ metrics }),
      maxBots: 5,
      restartBackoff: { initialMs: 60_000, maxMs: 60_000 },
    });
    try {
      bots.injectCrash('slow');
      const start = bots.start('slow').catch(() => 'failed');
      bots.delete('slow');
      expect(await start).toBe('failed');
      expect(await metrics.registry.metrics()).not.toContain('bot_id="slow"');
      expect(() => bots.delete('slow')).toThrow(/no bot slow/);
    } finally {
      bots.close();
    }
  });
});
