import { createMetrics } from '@deia/metrics';
import { describe, expect, it } from 'vitest';
import {
  BotManager,
  configFromEnv,
  createEchoClient,
  ECHO_LABEL,
  isConnectionError,
  type LoggerLike,
  redactUrl,
  validateConfig,
} from '../src/index.js';

const quiet: LoggerLike = { debug() {}, info() {}, warn() {}, error() {} };

describe('configuration', () => {
  it('has the guides defaults', () => {
    const c = configFromEnv({});
    expect(c).toMatchObject({ maxBots: 10, databaseUrl: undefined, redisUrl: undefined, faults: false });
  });

  it('throws a coded error naming the variable, without echoing secrets', () => {
    expect(() => configFromEnv({ MAX_BOTS: '-1' })).toThrow(/MAX_BOTS="-1" is not valid/);
    let err: (Error & { code?: string }) | undefined;
    try {
      validateConfig(configFromEnv({ DATABASE_URL: 'postgres://u:s3cret@[bad' }));
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err?.code).toBe('CONFIG');
    expect(err?.message).toMatch(/DATABASE_URL/);
    expect(err?.message).not.toContain('s3cret');
    expect(() => validateConfig(configFromEnv({ DB_SCHEMA: 'Robert"; DROP' }))).toThrow(/DB_SCHEMA/);
  });

  it('redacts credentials from URLs it prints', () => {
    expect(redactUrl('postgres://user:pw@db.internal:5432/app?sslmode=require')).toBe(
      'postgres://db.internal:5432/app',
    );
  });
});

describe('isConnectionError', () => {
  it('tells an outage from a bad query', () => {
    expect(
      isConnectionError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isConnectionError(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(
      true,
    );
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
  });
});

describe('BotManager', () => {
  const make = (maxBots: number, backoff = { initialMs: 20, maxMs: 80 }, logger = quiet) => {
    const metrics = createMetrics({ defaultMetrics: false });
    const bots = new BotManager({
      metrics,
      logger,
      llm: createEchoClient({ metrics }),
      maxBots,
      restartBackoff: backoff,
    });
    return { metrics, bots };
  };

  it('MAX_BOTS caps running bots and 0 refuses every launch', async () => {
    const { bots } = make(1);
    await bots.start('a');
    await expect(bots.start('b')).rejects.toMatchObject({ code: 'MAX_BOTS_REACHED', statusCode: 409 });
    expect((await bots.start('a')).status).toBe('running'); // idempotent
    bots.stop('a');
    expect((await bots.start('b')).status).toBe('running');
    bots.close();
    const off = make(0).bots;
    await expect(off.start('a')).rejects.toMatchObject({ code: 'BOT_LAUNCHES_DISABLED' });
  });

  it("creates a bot's start-error and restart counters at 0 when the bot becomes known, before any start", async () => {
    const { bots, metrics } = make(1);
    bots.remember('known-1');
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^bot_start_errors_total\{bot_id="known-1"\} 0$/m);
    expect(text).toMatch(/^bot_restarts_total\{bot_id="known-1"\} 0$/m);
    bots.close();
  });

  it('restarts a crashing bot with exponential backoff and counts restarts and start errors', async () => {
    // the schedule the manager chose, from its 'bot crashed' warnings (the start-up time, 10-49 ms,
    // and a busy machine only stretch the wall-clock gaps; the chosen delays do not move)
    const crashes: { retryInMs: number; at: number }[] = [];
    const logger = {
      ...quiet,
      warn(obj: object, msg?: string) {
        if (msg === 'bot crashed' && (obj as { bot_id?: string }).bot_id === 'c') {
          crashes.push({ retryInMs: (obj as { retryInMs: number }).retryInMs, at: performance.now() });
        }
      },
    };
    const { bots, metrics } = make(3, undefined, logger);
    const attempts: number[] = [];
    let seen = -1;
    bots.onChange((b) => {
      // one entry per start attempt (clearCrash during an attempt re-announces 'starting')
      if (b.id === 'c' && b.status === 'starting' && b.restarts !== seen) {
        seen = b.restarts;
        attempts.push(performance.now());
      }
    });
    await bots.start('c');
    bots.injectCrash('c');
    // the crash on the running bot and three failed restarts: 20, 40, 80 and then 80 (capped) ms
    await expect.poll(() => crashes.length, { timeout: 5000 }).toBeGreaterThanOrEqual(5);
    bots.clearCrash('c');
    await expect.poll(() => bots.get('c')?.status, { timeout: 5000 }).toBe('running');
    bots.close();

    const delays = crashes.map((c) => c.retryInMs);
    expect(delays.slice(0, 5)).toEqual([20, 40, 80, 80, 80]);
    expect(delays).toEqual(delays.map((_, i) => Math.min(20 * 2 ** i, 80)));
    // every crash was followed by exactly one start attempt, none before its delay ran out
    // (lower bounds only: a loaded machine makes timers late, never early; 1 ms for rounding)
    expect(attempts).toHaveLength(crashes.length + 1);
    crashes.forEach((c, i) => {
      expect(attempts[i + 1]! - c.at).toBeGreaterThanOrEqual(c.retryInMs - 1);
    });
    const text = await metrics.registry.metrics();
    const restarts = Number(/bot_restarts_total\{bot_id="c"\} (\d+)/.exec(text)?.[1]);
    const startErrors = Number(/bot_start_errors_total\{bot_id="c"\} (\d+)/.exec(text)?.[1]);
    expect(restarts).toBe(attempts.length - 1);
    expect(restarts).toBe(crashes.length);
    expect(startErrors).toBe(restarts - 1); // every restart failed but the last one
  });

  it('the echo model labels its answers', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const reply = await createEchoClient({ metrics }).generate('hi');
    expect(reply.text.startsWith(ECHO_LABEL)).toBe(true);
    expect(reply.model).toBe('local-echo');
  });
});
