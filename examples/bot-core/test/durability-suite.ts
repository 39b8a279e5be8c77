// Accepted work is never lost: every message answered 202 ends up stored exactly once, across a
// PostgreSQL connection cut mid-write, a SIGTERM under keep-alive load and a SIGKILL. Real
// PostgreSQL (a unique schema per run), the controllers' own processes for the signals.
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from './fault-proxy.js';
import {
  DATABASE_URL,
  dropSchema,
  json,
  post,
  type StartController,
  tempJournalDir,
  uniqueSchema,
  waitFor,
} from './helpers.js';

/** user rows per task id, and the rows (ids) left in the persistent queue. */
export async function stored(schema: string) {
  const client = new pg.Client({ connectionString: DATABASE_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    // one snapshot: a task moving from task_queue to chat_messages between two reads is not "missing"
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    const rows = await client.query<{ task_id: string; n: number }>(
      `SELECT task_id::text, count(*)::int AS n FROM "${schema}".chat_messages WHERE role = 'user' GROUP BY task_id`,
    );
    const queued = await client.query<{ id: string }>(`SELECT id::text FROM "${schema}".task_queue`);
    await client.query('COMMIT');
    return {
      perTask: new Map(rows.rows.map((r) => [r.task_id, r.n])),
      queued: queued.rowCount ?? 0,
      queuedIds: new Set(queued.rows.map((r) => r.id)),
    };
  } finally {
    await client.end();
  }
}

/** Asserts every accepted id is stored exactly once and nothing is stored twice. */
export function expectExactlyOnce(accepted: Set<string>, perTask: Map<string, number>) {
  const missing = [...accepted].filter((id) => !perTask.has(id));
  const twice = [...perTask].filter(([, n]) => n !== 1);
  expect({ missing, twice }).toEqual({ missing: [], twice: [] });
}

/** POSTs messages from `workers` loops until `stop()`; collects the ids answered 2xx. */
export function sendLoad(url: string, bots: string[], workers: number, agent?: Agent) {
  const accepted = new Set<string>();
  const statuses = new Map<number | string, number>();
  let stopped = false;
  const one = (path: string, body: string) =>
    new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
      const req = httpRequest(
        `${url}${path}`,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let n = 0;
  const loops = Array.from({ length: workers }, async (_, w) => {
    while (!stopped) {
      const bot = bots[(n + w) % bots.length]!;
      const i = n++;
      try {
        const r = await one(`/api/bot/${bot}/message?wait=0`, JSON.stringify({ message: `m${i}` }));
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status >= 200 && r.status < 300) accepted.add(JSON.parse(r.body).task.id);
        else await new Promise((res) => setTimeout(res, 20));
        // told to go away (shutdown): like a load balancer, stop sending to this instance
        if (r.connection === 'close' && agent) return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        statuses.set(code, (statuses.get(code) ?? 0) + 1);
        if (agent) return; // the instance is gone (or reset us: counted above)
        await new Promise((res) => setTimeout(res, 20));
      }
    }
  });
  return {
    accepted,
    statuses,
    get sent() {
      return n;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
    done: () => Promise.all(loops),
  };
}

/** In-process: the controller's connection to PostgreSQL is cut again and again under load. */
export function durabilitySuite(name: string, start: StartController) {
  describe(`${name}: every 202 is stored once, with PostgreSQL cut mid-write`, () => {
    const schema = uniqueSchema(`${name.replace(/\W/g, '_').slice(0, 12)}w`);
    const journal = tempJournalDir();
    afterAll(async () => {
      journal.remove();
      await dropSchema(schema);
    });

    it('resets and an outage under load: 0 lost, none twice, the queue table drains', async () => {
      const u = new URL(DATABASE_URL);
      const proxy = await startFaultProxy({ host: u.hostname, port: Number(u.port || 5432) });
      u.port = String(proxy.port);
      const c = await start({
        port: 0,
        env: {
          DATABASE_URL: u.toString(),
          DB_SCHEMA: schema,
          DB_HEARTBEAT_MS: '100',
          SHUTDOWN_DELAY_MS: '0',
          JOURNAL_DIR: journal.dir,
        },
      });
      try {
        for (const b of ['w1', 'w2']) expect((await post(`${c.url}/api/bot/${b}/start`)).status).toBe(200);
        const load = sendLoad(c.url, ['w1', 'w2'], 8);
        const atLeast = (n: number) => waitFor(`${n} accepted`, async () => load.accepted.size >= n, 20_000);
        proxy.delayMs = 5; // writes are on the wire when the reset lands
        for (let i = 1; i <= 5; i++) {
          await atLeast(i * 20);
          proxy.reset();
        }
        await atLeast(120);
        await proxy.cut(); // an outage: accepted messages wait in the outbox
        await waitFor('degraded', async () => (await json(`${c.url}/api/bots`)).body.mode === 'degraded');
        const during = load.accepted.size;
        await waitFor('accepted while down', async () => load.accepted.size >= during + 20, 20_000);
        await proxy.restore();
        proxy.delayMs = 0;
        await atLeast(load.accepted.size + 20);
        await load.stop();
        expect([...load.statuses.keys()].filter((s) => s !== 202)).toEqual([]);
        const result = await waitFor(
          'every task stored',
          async () => {
            const s = await stored(schema);
            return s.queued === 0 && [...load.accepted].every((id) => s.perTask.has(id)) && s;
          },
          30_000,
        );
        expectExactlyOnce(load.accepted, result.perTask);
        expect(result.perTask.size).toBe(load.accepted.size);
        console.log(
          `${name} pg cut mid-write: ${load.accepted.size} accepted (5 resets + an outage), all stored once`,
        );
      } finally {
        await c.close();
        await proxy.close();
      }
    }, 90_000);
  });
}

export interface Child {
  readonly url: string;
  readonly proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

export async function spawnController(exampleDir: string, env: NodeJS.ProcessEnv): Promise<Child> {
  let output = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: exampleDir,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', OTEL_TRACES_EXPORTER: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (d) => (output += d));
  proc.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  try {
    const url = await waitFor(
      'the banner',
      async () => {
        if (proc.exitCode !== null) throw new Error(`exited early:\n${output}`);
        return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      },
      60_000,
    );
    return { url, proc, output: () => output, exited };
  } catch (error) {
    proc.kill('SIGKILL'); // the caller never got it, so its afterAll cannot stop it
    throw error;
  }
}

/** The controller's own process, stopped with SIGTERM under keep-alive load, then killed. */
export function processDurabilitySuite(name: string, exampleDir: string) {
  describe(`${name}: accepted messages survive SIGTERM and SIGKILL (real process, real PostgreSQL)`, () => {
    const schema = uniqueSchema(`${name.replace(/\W/g, '_').slice(0, 12)}k`);
    const journal = tempJournalDir();
    const children: Child[] = [];
    afterAll(async () => {
      journal.remove();
      for (const c of children)
        if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
      await dropSchema(schema);
    });

    it('SIGTERM: readiness 503 during the pre-stop delay, 50 keep-alive clients see no reset; SIGKILL; 0 lost, none twice', async () => {
      const env = {
        DATABASE_URL,
        DB_SCHEMA: schema,
        DB_HEARTBEAT_MS: '200',
        SHUTDOWN_DELAY_MS: '1000',
        JOURNAL_DIR: journal.dir,
      };
      const accepted = new Set<string>();
      // 1. SIGTERM under load
      const a = await spawnController(exampleDir, env);
      children.push(a);
      for (const b of ['k1', 'k2']) expect((await post(`${a.url}/api/bot/${b}/start`)).status).toBe(200);
      const agent = new Agent({ keepAlive: true, maxSockets: 50 });
      const load = sendLoad(a.url, ['k1', 'k2'], 50, agent);
      await waitFor('load running', async () => load.accepted.size >= 100, 30_000);
      // readiness, polled every 25 ms on fresh connections, as a load balancer's probe does
      const probe = () =>
        new Promise<number | string>((resolve) => {
          const req = httpRequest(`${a.url}/health/ready`, { agent: false, timeout: 2_000 }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', (err) => resolve((err as NodeJS.ErrnoException).code ?? err.message));
          req.end();
        });
      await waitFor('ready before SIGTERM', async () => (await probe()) === 200);
      const seen: Array<number | string> = [];
      const poll = (async () => {
        while (a.proc.exitCode === null) {
          const r = await probe();
          if (seen.at(-1) !== r) seen.push(r);
          await new Promise((res) => setTimeout(res, 25));
        }
      })();
      a.proc.kill('SIGTERM');
      const codeA = await a.exited;
      await Promise.all([load.done(), poll]);
      agent.destroy();
      for (const id of load.accepted) accepted.add(id);
      expect(codeA).toBe(0);
      // 200 until SIGTERM, then 503 during the pre-stop delay, then refused once it stopped listening
      expect(seen).toContain(503);
      // every client was told Connection: close before its socket closed: nothing reset
      expect(load.statuses.get('ECONNRESET') ?? 0).toBe(0);
      expect(load.statuses.get(500) ?? 0).toBe(0);
      expect(a.output()).not.toMatch(/uncaught|unhandled/i);

      // 2. SIGKILL mid-work (it also picks up what the first one left queued)
      const b = await spawnController(exampleDir, env);
      children.push(b);
      const load2 = sendLoad(b.url, ['k1', 'k2'], 8);
      await waitFor('second load running', async () => load2.accepted.size >= 100, 30_000);
      b.proc.kill('SIGKILL');
      await b.exited;
      await load2.stop();
      for (const id of load2.accepted) accepted.add(id);

      // 3. a fresh process finishes what was accepted
      const c = await spawnController(exampleDir, { ...env, SHUTDOWN_DELAY_MS: '0' });
      children.push(c);
      const result = await waitFor(
        'every accepted message stored',
        async () => {
          const s = await stored(schema);
          return s.queued === 0 && [...accepted].every((id) => s.perTask.has(id)) && s;
        },
        60_000,
      );
      expectExactlyOnce(accepted, result.perTask);
      console.log(
        `${name} SIGTERM: readiness ${seen.join(' -> ')}; ${load.accepted.size} accepted, statuses ${JSON.stringify(Object.fromEntries(load.statuses))}; ` +
          `SIGKILL: ${load2.accepted.size} accepted; stored once: ${accepted.size}/${accepted.size}`,
      );
      c.proc.kill('SIGTERM');
      expect(await c.exited).toBe(0);
    }, 240_000);
  });
}
