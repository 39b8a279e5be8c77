import { createMetrics } from '@deia/metrics';
import { describe, expect, it } from 'vitest';
import {
  BotManager,
  configFromEnv,
  createEchoClient,
  ECHO_LABEL,
  isConnectionError,
  redactUrl,
  validateConfig,
} from '../src/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

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
  const make = (maxBots: number, backoff = { initialMs: 20, maxMs: 80 }) => {
    const metrics = createMetrics({ defaultMetrics: false });
    const bots = new BotManager({
      metrics,
      logger: quiet,
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

  it('restarts a crashing bot with exponential backoff and counts restarts and start errors', async () => {
    const { bots, metrics } = make(3);
    const attempts: number[] = [];
    let seen = -1;
    bots.onChange((b) => {
      // one entry per start attempt (clearCrash during an attempt re-announces 'starting')
      if (b.id === 'c' && b.status === 'starting' && b.restarts !== seen) {
        seen = b.restarts;
        attempts.push(Date.now());
      }
    });
    await bots.start('c');
    bots.injectCrash('c');
    await new Promise((r) => setTimeout(r, 450));
    bots.clearCrash('c');
    await new Promise((r) => setTimeout(r, 200));
    expect(bots.get('c')?.status).toBe('running');
    bots.close();

    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    // first gap is the initial start to the first restart (crash happened in between)
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    expect(gaps[1]).toBeLessThan(gaps[3]! + 5); // grows (20, 40, 80, 80 ms plus start time)
    expect(Math.max(...gaps.slice(3))).toBeLessThan(80 + 200); // capped at maxMs (+ start-up time, loaded machines)
    const text = await metrics.registry.metrics();
    const restarts = Number(/bot_restarts_total\{bot_id="c"\} (\d+)/.exec(text)?.[1]);
    const startErrors = Number(/bot_start_errors_total\{bot_id="c"\} (\d+)/.exec(text)?.[1]);
    expect(restarts).toBe(attempts.length - 1);
    expect(startErrors).toBe(restarts - 1); // every restart failed but the last one
  });

  it('the echo model labels its answers', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const reply = await createEchoClient({ metrics }).generate('hi');
    expect(reply.text.startsWith(ECHO_LABEL)).toBe(true);
    expect(reply.model).toBe('local-echo');
  });
});
