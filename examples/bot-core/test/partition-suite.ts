// Partitions (packets dropped, sockets left open) between the controller and Redis or PostgreSQL,
// through a blackholing TCP proxy in front of the real servers: no request waits longer than the
// documented timeouts + 1 s, and no message is stored that the client was not told was accepted
// (or, when refused, the client's retry with the same taskId stores it once).
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { expectExactlyOnce, stored } from './durability-suite.js';
import { startFaultProxy } from './fault-proxy.js';
import {
  DATABASE_URL,
  deleteRedisKeys,
  dropSchema,
  json,
  post,
  REDIS_URL,
  type StartController,
  tempJournalDir,
  uniqueSchema,
  waitFor,
} from './helpers.js';

/** How long each partition lasts (the 20 s scaled down; `PARTITION_MS` to run it longer). */
const PARTITION_MS = Number(process.env.PARTITION_MS ?? 5_000);
const REPEAT = Number(process.env.PARTITION_REPEAT ?? 1);

function viaProxy(url: string, port: number) {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}

/** Runs `worker` in `n` loops until `ms` passed; returns the longest call in ms. */
async function during(ms: number, n: number, worker: () => Promise<void>) {
  const end = Date.now() + ms;
  let longest = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (Date.now() < end) {
        const t0 = Date.now();
        await worker();
        longest = Math.max(longest, Date.now() - t0);
        await new Promise((r) => setTimeout(r, 20));
      }
    }),
  );
  return longest;
}

export function partitionSuite(name: string, start: StartController) {
  const tag = name.replace(/\W/g, '_').slice(0, 12);

  describe(`${name}: a Redis partition (blackhole) is a cache miss within REDIS_COMMAND_TIMEOUT_MS`, () => {
    const schema = uniqueSchema(`${tag}r`);
    const prefix = `deia-example-test-${schema}:`;
    afterAll(async () => {
      await dropSchema(schema);
      await deleteRedisKeys(prefix);
    });

    it(
      'GET /api/bot/:id answers 200 within the command timeout + 1 s for the whole partition',
      async () => {
        const u = new URL(REDIS_URL);
        const proxy = await startFaultProxy({ host: u.hostname, port: Number(u.port || 6379) });
        const timeout = 300;
        const c = await start({
          port: 0,
          env: {
            DATABASE_URL,
            DB_SCHEMA: schema,
            REDIS_URL: viaProxy(REDIS_URL, proxy.port),
            REDIS_KEY_PREFIX: prefix,
            REDIS_COMMAND_TIMEOUT_MS: String(timeout),
            REDIS_CONNECT_TIMEOUT_MS: '1000',
            SHUTDOWN_DELAY_MS: '0',
          },
        });
        try {
          expect((await post(`${c.url}/api/bot/r1/start`)).status).toBe(200);
          await waitFor('a cache hit', async () => (await json(`${c.url}/api/bot/r1`)).body.cached === true);
          const statuses = new Map<number | string, number>();
          const get = async () => {
            try {
              const r = await json(`${c.url}/api/bot/r1`);
              statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            } catch (err) {
              statuses.set((err as Error).name, (statuses.get((err as Error).name) ?? 0) + 1);
            }
          };
          const longest: number[] = [];
          for (let i = 0; i < REPEAT; i++) {
            proxy.blackhole(i % 2 === 0 ? 'stall' : 'drop');
            longest.push(await during(PARTITION_MS, 4, get));
            proxy.heal();
            await waitFor(
              'cache hits again',
              async () => (await json(`${c.url}/api/bot/r1`)).body.cached === true,
              15_000,
            );
          }
          expect([...statuses.keys()]).toEqual([200]);
          expect(Math.max(...longest)).toBeLessThanOrEqual(timeout + 1_000);
          console.log(
            `${name} redis blackhole ${PARTITION_MS} ms x${REPEAT}: ${statuses.get(200)} GETs all 200, longest ${longest.join('/')} ms (limit ${timeout + 1_000})`,
          );
        } finally {
          await c.close();
          await proxy.close();
        }
      },
      60_000 + REPEAT * (PARTITION_MS + 15_000),
    );
  });

  describe(`${name}: a PostgreSQL partition (blackhole) bounds every request; nothing stored unannounced`, () => {
    const schemas: string[] = [];
    const journals: Array<ReturnType<typeof tempJournalDir>> = [];
    afterAll(async () => {
      for (const j of journals) j.remove();
      for (const s of schemas) await dropSchema(s);
    });

    const run = async (journalOn: boolean) => {
      const schema = uniqueSchema(`${tag}p`);
      schemas.push(schema);
      const journal = tempJournalDir();
      journals.push(journal);
      const u = new URL(DATABASE_URL);
      const proxy = await startFaultProxy({ host: u.hostname, port: Number(u.port || 5432) });
      const limits = { connect: 1_000, query: 1_000, statement: 800 };
      const c = await start({
        port: 0,
        env: {
          DATABASE_URL: viaProxy(DATABASE_URL, proxy.port),
          DB_SCHEMA: schema,
          DB_HEARTBEAT_MS: '200',
          DB_CONNECT_TIMEOUT_MS: String(limits.connect),
          DB_QUERY_TIMEOUT_MS: String(limits.query),
          DB_STATEMENT_TIMEOUT_MS: String(limits.statement),
          JOURNAL_DIR: journalOn ? journal.dir : 'off',
          SHUTDOWN_DELAY_MS: '0',
        },
      });
      const bound = limits.connect + limits.query + 1_000;
      const accepted = new Set<string>();
      const refused = new Map<string, { bot: string; message: string }>();
      const statuses = new Map<number | string, number>();
      try {
        for (const b of ['p1', 'p2']) expect((await post(`${c.url}/api/bot/${b}/start`)).status).toBe(200);
        let n = 0;
        const send = async () => {
          const bot = n % 2 ? 'p1' : 'p2';
          const message = `m${n++}`;
          const taskId = randomUUID();
          try {
            const r = await post(`${c.url}/api/bot/${bot}/message?wait=0`, { message, taskId });
            statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
            if (r.status >= 200 && r.status < 300) accepted.add(taskId);
            else if (r.status === 503) {
              expect(r.body.taskId).toBe(taskId);
              expect(r.headers.get('retry-after')).toBeTruthy();
              refused.set(taskId, { bot, message });
            }
          } catch (err) {
            statuses.set((err as Error).name, (statuses.get((err as Error).name) ?? 0) + 1);
          }
        };
        const longest: number[] = [];
        for (let i = 0; i < REPEAT; i++) {
          await during(500, 6, send); // in flight when the partition starts
          proxy.blackhole('stall');
          longest.push(await during(PARTITION_MS, 6, send));
          proxy.heal();
          await waitFor('normal mode', async () => (await json(`${c.url}/api/bots`)).body.mode === 'normal');
        }
        await during(500, 6, send);
        expect(Math.max(...longest)).toBeLessThanOrEqual(bound);
        const only = [...statuses.keys()].filter((s) => s !== 202 && s !== 503);
        expect(only).toEqual([]);
        if (journalOn)
          expect(refused.size).toBe(0); // the journal takes what PostgreSQL does not answer
        else expect(refused.size).toBeGreaterThan(0);

        // Stored while the client was told 503: an INSERT sent into the partition ran when it ended.
        // Never an acknowledged one: compare before the retries.
        const before = await waitFor(
          'accepted messages stored',
          async () => {
            const s = await stored(schema);
            return [...accepted].every((id) => s.perTask.has(id)) && s;
          },
          30_000 + accepted.size * 20, // the backlog drains through two bots
        );
        const late = [...before.perTask.keys(), ...before.queuedIds].filter((id) => !accepted.has(id));
        for (const id of late) expect(refused.has(id)).toBe(true);
        // The client retries what was refused, with the same taskId: stored once, never twice.
        for (const [taskId, m] of refused) {
          const r = await post(`${c.url}/api/bot/${m.bot}/message?wait=0`, { message: m.message, taskId });
          expect(r.status).toBe(202);
          expect(r.body.task.id).toBe(taskId);
          accepted.add(taskId);
        }
        const after = await waitFor(
          'retries stored',
          async () => {
            const s = await stored(schema);
            return s.queued === 0 && [...accepted].every((id) => s.perTask.has(id)) && s;
          },
          30_000 + accepted.size * 20, // the backlog drains through two bots
        );
        expectExactlyOnce(accepted, after.perTask);
        expect(after.perTask.size).toBe(accepted.size);
        console.log(
          `${name} pg blackhole ${PARTITION_MS} ms x${REPEAT}, journal ${journalOn ? 'on' : 'off'}: statuses ${JSON.stringify(Object.fromEntries(statuses))}, ` +
            `longest ${longest.join('/')} ms (limit ${bound}); ${late.length} refused but committed late, retried: all ${accepted.size} stored once`,
        );
      } finally {
        await c.close();
        await proxy.close();
      }
    };

    it(
      'journal on: every message answered 202 within connect + query timeout + 1 s, stored once',
      () => run(true),
      120_000 + REPEAT * (PARTITION_MS * 4 + 10_000),
    );

    it(
      'journal off: 503 + taskId within the bound; a retry with the taskId stores it once',
      () => run(false),
      120_000 + REPEAT * (PARTITION_MS * 4 + 10_000),
    );
  });
}
