// The controller's own process around a PostgreSQL outage (connections refused by a fault proxy):
// SIGKILL just after the outage ends, while the journal is being replayed and new messages arrive,
// and SIGTERM during the outage. After each, a fresh process must store every message that was
// answered 2xx exactly once. `OUTAGE_REPEAT` runs more cycles of each (the issue asks for 10).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Child, expectExactlyOnce, sendLoad, spawnController, stored } from './durability-suite.js';
import { startFaultProxy } from './fault-proxy.js';
import { DATABASE_URL, dropSchema, json, post, tempJournalDir, uniqueSchema, waitFor } from './helpers.js';

const REPEAT = Number(process.env.OUTAGE_REPEAT ?? 1);
const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 3_000);
const BOTS = ['o1', 'o2', 'o3', 'o4'];

export function outageProcessSuite(name: string, exampleDir: string) {
  describe(`${name}: SIGKILL after and SIGTERM during a PostgreSQL outage (real process, journal)`, () => {
    const schema = uniqueSchema(`${name.replace(/\W/g, '_').slice(0, 12)}o`);
    const journal = tempJournalDir();
    const children: Child[] = [];
    afterAll(async () => {
      for (const c of children)
        if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      journal.remove();
      await dropSchema(schema);
    });
    const segments = () => {
      try {
        return readdirSync(join(journal.dir, schema)).filter((f) => f.endsWith('.jsonl')).length;
      } catch {
        return 0;
      }
    };

    it(
      `every 2xx stored exactly once, ${REPEAT} cycle(s) of each`,
      async () => {
        const u = new URL(DATABASE_URL);
        const proxy = await startFaultProxy({ host: u.hostname, port: Number(u.port || 5432) });
        u.port = String(proxy.port);
        const env = {
          DATABASE_URL: u.toString(),
          DB_SCHEMA: schema,
          DB_HEARTBEAT_MS: '200',
          JOURNAL_DIR: journal.dir,
          JOURNAL_REPLAY_BATCH: '5', // a slow replay: the kill lands while it runs
          SHUTDOWN_DELAY_MS: '500',
        };
        const accepted = new Set<string>();
        const report: string[] = [];
        const spawn = async () => {
          const c = await spawnController(exampleDir, env);
          children.push(c);
          for (const b of BOTS) expect((await post(`${c.url}/api/bot/${b}/start`)).status).toBe(200);
          return c;
        };
        /** The fresh process stores everything accepted so far, each once. */
        const verify = async (what: string) => {
          // The backlog (thousands after a long outage on a loaded machine) drains at the echo
          // model's pace: wait as long as exchanges keep being stored, fail after 30 s without one.
          let best = -1;
          let progressAt = Date.now();
          const done = await waitFor(
            `${what}: every accepted message stored`,
            async () => {
              const r = await stored(schema);
              // progress: more exchanges stored (a replay before the backlog drains adds rows first)
              if (r.perTask.size > best) {
                best = r.perTask.size;
                progressAt = Date.now();
              }
              if (r.queued === 0 && [...accepted].every((id) => r.perTask.has(id))) return r;
              return Date.now() - progressAt > 30_000 && 'stalled';
            },
            300_000,
          ).catch((err: Error) => err.message);
          if (typeof done === 'string') {
            const r = await stored(schema);
            const missing = [...accepted].filter((id) => !r.perTask.has(id));
            const inQueue = missing.filter((id) => r.queuedIds.has(id)).length;
            const tail = children
              .flatMap((ch) => ch.output().split('\n'))
              .filter((l) => /"level":"(WARN|ERROR)"|replayed|re-queued|missing/.test(l))
              .slice(-20)
              .join('\n');
            const last = children.at(-1);
            const lastLines = last?.output().split('\n').slice(-25).join('\n');
            throw new Error(
              `${what}: ${done}: ${missing.length} of ${accepted.size} missing (${inQueue} of them in task_queue, ${r.queued} rows there)\n${tail}\n--- the last process (exit ${last?.proc.exitCode}, signal ${last?.proc.signalCode}):\n${lastLines}`,
            );
          }
          const s = done;
          expectExactlyOnce(accepted, s.perTask);
        };
        const outage = async (c: Child, load: ReturnType<typeof sendLoad>) => {
          await waitFor('load running', async () => load.accepted.size >= 30, 30_000);
          await proxy.cut();
          await waitFor('degraded', async () => (await json(`${c.url}/api/bots`)).body.mode === 'degraded');
          const before = load.accepted.size;
          await new Promise((r) => setTimeout(r, OUTAGE_MS));
          return load.accepted.size - before;
        };
        try {
          let c = await spawn();
          try {
            for (let i = 1; i <= REPEAT; i++) {
              // SIGKILL within a second of the outage's end: the journal replays while new work arrives
              const load = sendLoad(c.url, BOTS, 8);
              const during = await outage(c, load);
              const ups = c.output().split('leaving degraded mode').length;
              await proxy.restore();
              await waitFor(
                'back to normal',
                async () => c.output().split('leaving degraded mode').length > ups,
              );
              const after = load.accepted.size;
              // new messages are answered while the journal replays (they do not wait behind it)
              await waitFor(
                'accepted after the outage',
                async () => load.accepted.size >= after + 20,
                10_000,
              );
              await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 500)));
              c.proc.kill('SIGKILL');
              await c.exited;
              const left = segments();
              await load.stop();
              for (const id of load.accepted) accepted.add(id);
              c = await spawn();
              await verify(`SIGKILL ${i}`);
              report.push(
                `kill ${i}: ${load.accepted.size} accepted (${during} journaled during the outage, ${load.accepted.size - after} after it), ${left} journal segment(s) left at the kill`,
              );
            }
            for (let i = 1; i <= REPEAT; i++) {
              // SIGTERM during the outage: what the journal holds is replayed by the next process
              const load = sendLoad(c.url, BOTS, 8);
              const during = await outage(c, load);
              c.proc.kill('SIGTERM');
              const code = await c.exited;
              await load.stop();
              for (const id of load.accepted) accepted.add(id);
              expect(code).toBe(0);
              expect(c.output()).not.toMatch(/uncaught|unhandled/i);
              const left = segments();
              await proxy.restore();
              c = await spawn();
              await verify(`SIGTERM ${i}`);
              report.push(
                `term ${i}: ${load.accepted.size} accepted (${during} during the outage), ${left} journal segment(s) at exit`,
              );
            }
            await waitFor('journal replayed and removed', async () => segments() === 0, 30_000);
            // More may be stored than was answered: a message made durable whose answer the kill cut
            // off (the client saw a reset, not a 2xx; a retry with its taskId would find it).
            const final = await stored(schema);
            expect(final.perTask.size).toBeGreaterThanOrEqual(accepted.size);
            console.log(
              `${name} outage cycles: ${accepted.size} answered 2xx, all stored once (${final.perTask.size - accepted.size} more stored whose answer a kill cut off)\n  ${report.join('\n  ')}`,
            );
          } finally {
            c.proc.kill('SIGTERM');
            await c.exited;
          }
        } finally {
          await proxy.close();
        }
      },
      // bounded by progress: each verify fails after 30 s without an exchange stored; the backlog of a
      // long outage drains at the echo model's (now streaming, word by word) pace on a loaded host
      240_000 + REPEAT * 2 * 180_000,
    );
  });
}
