import type { AddressInfo } from 'node:net';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DATABASE_URL,
  deleteRedisKeys,
  dropSchema,
  json,
  metricsText,
  post,
  REDIS_URL,
  type StartController,
  type StartedController,
  sample,
  startFakeOllama,
  startTcpProxy,
  TEST_METRICS_TOKEN,
  tempJournalDir,
  uniqueSchema,
  waitFor,
} from './helpers.js';

/** The behaviour both controllers must have, against real PostgreSQL and Redis. */
export function controllerSuite(name: string, start: StartController) {
  describe(`${name}: REST API, health, metrics, faults (real PostgreSQL + Redis)`, () => {
    const schema = uniqueSchema(name.replace(/\W/g, '_').slice(0, 12));
    const keyPrefix = `deia-example-test:${schema}:`;
    let c: StartedController;
    let ollama: Awaited<ReturnType<typeof startFakeOllama>>;

    beforeAll(async () => {
      // an OLLAMA_URL with credentials (fetch refuses those: they go to an Authorization header)
      ollama = await startFakeOllama({ user: 'bot', password: 's3cr@t' });
      c = await start({
        port: 0,
        env: {
          DATABASE_URL,
          DB_SCHEMA: schema,
          REDIS_URL,
          REDIS_KEY_PREFIX: 'deia-example-test:',
          OLLAMA_URL: ollama.url,
          OLLAMA_MODEL: 'tiny',
          MAX_BOTS: '3',
          DEIA_EXAMPLE_FAULTS: '1',
          BOT_RESTART_BACKOFF_MS: '50',
          BOT_RESTART_BACKOFF_MAX_MS: '200',
          DB_HEARTBEAT_MS: '200',
          MESSAGE_WAIT_MS: '5000',
          HEALTH_DETAIL_TOKEN: 'detail-token',
          METRICS_TOKEN: TEST_METRICS_TOKEN,
          SHUTDOWN_DELAY_MS: '0',
        },
      });
    });
    afterAll(async () => {
      await c?.close();
      await ollama?.close();
      await dropSchema(schema);
      await deleteRedisKeys(keyPrefix);
    });

    it('starts bots, answers messages through Ollama, stores them in PostgreSQL', async () => {
      const list = await json(`${c.url}/api/bots`);
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ mode: 'normal', maxBots: 3 });
      expect(list.headers.get('x-service-mode')).toBe('normal');

      const started = await post(`${c.url}/api/bot/b1/start`);
      expect(started.status).toBe(200);
      expect(started.body.bot).toMatchObject({ id: 'b1', status: 'running', model: 'tiny' });

      const answered = await post(`${c.url}/api/bot/b1/message`, { message: 'hello' });
      expect(answered.status).toBe(200);
      expect(answered.body).toMatchObject({ status: 'completed', reply: 'fake answer to: hello' });
      expect(ollama.state.unauthorized).toBe(0); // the credentials went in the Authorization header

      const history = await json(`${c.url}/api/bot/b1/messages`);
      expect(history.status).toBe(200);
      expect(history.body.messages.map((m: { role: string }) => m.role)).toEqual(['assistant', 'user']);

      // the migration created the guides' index
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      try {
        const idx = await client.query(
          `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'idx_bot_created'`,
          [schema],
        );
        expect(idx.rows[0]?.indexdef).toMatch(/chat_messages USING btree \(bot_id, created_at DESC\)/);
        const audit = await client.query(`SELECT action FROM "${schema}".audit_logs WHERE bot_id = 'b1'`);
        expect(audit.rows.map((r) => r.action)).toContain('bot.running');
      } finally {
        await client.end();
      }

      const tasks = await json(`${c.url}/api/tasks`);
      expect(tasks.body.queue).toMatchObject({ depth: 0, paused: false });
      expect(tasks.body.tasks[0]).toMatchObject({ botId: 'b1', status: 'completed' });
    });

    it('DELETE /api/bot/:id forgets a bot: its row and series go, its messages stay', async () => {
      expect((await post(`${c.url}/api/bot/gone/start`)).status).toBe(200);
      expect((await post(`${c.url}/api/bot/gone/message`, { message: 'hi' })).status).toBe(200);
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      const rows = async () =>
        (await client.query(`SELECT 1 FROM "${schema}".bots WHERE id = 'gone'`)).rowCount ?? 0;
      try {
        await waitFor('the bot row', async () => (await rows()) === 1);
        const del = await fetch(`${c.url}/api/bot/gone`, { method: 'DELETE' });
        expect(del.status).toBe(200);
        await waitFor('the bot row deleted', async () => (await rows()) === 0);
        const messages = await client.query(
          `SELECT count(*)::int AS n FROM "${schema}".chat_messages WHERE bot_id = 'gone'`,
        );
        expect(messages.rows[0]?.n).toBe(2);
        const audit = await client.query(`SELECT action FROM "${schema}".audit_logs WHERE bot_id = 'gone'`);
        await waitFor(
          'the audit entry',
          async () =>
            (
              await client.query(
                `SELECT 1 FROM "${schema}".audit_logs WHERE bot_id = 'gone' AND action = 'bot.deleted'`,
              )
            ).rowCount === 1,
        );
        expect(audit.rows.map((r) => r.action)).toContain('bot.running');
      } finally {
        await client.end();
      }
      expect((await json(`${c.url}/api/bot/gone`)).status).toBe(404);
      expect(await metricsText(c.url)).not.toMatch(/bot_id="gone"/);
      expect((await fetch(`${c.url}/api/bot/gone`, { method: 'DELETE' })).status).toBe(404);
    });

    it('validates input and enforces MAX_BOTS', async () => {
      expect((await post(`${c.url}/api/bot/b1/message`, { message: '' })).status).toBe(400);
      expect((await post(`${c.url}/api/bot/${'x'.repeat(80)}/start`)).status).toBe(400);
      expect((await post(`${c.url}/api/bot/nobody/message`, { message: 'hi' })).body.error).toBe(
        'BOT_NOT_RUNNING',
      );
      expect((await json(`${c.url}/api/nope`)).status).toBe(404);
      // NUL cannot be stored in PostgreSQL text: refused before it is accepted
      const nul = await post(`${c.url}/api/bot/b1/message`, { message: 'a\u0000b' });
      expect(nul.status).toBe(400);
      expect(nul.body.error).toBe('BAD_MESSAGE');
      // an undecodable path parameter is a clear 400 about the path
      const badPath = await post(`${c.url}/api/bot/%FF/message`, { message: 'hi' });
      expect(badPath.status).toBe(400);
      expect(badPath.body).toMatchObject({ error: 'BAD_PATH' });
      // a body over the limit: 413 on the route (not a 500 counted as __unmatched__)
      const big = await post(`${c.url}/api/bot/b1/message`, { message: 'x'.repeat(70 * 1024) });
      expect(big.status).toBe(413);
      expect(big.body.error).toBe('BODY_TOO_LARGE');
      const m = await metricsText(c.url);
      expect(sample(m, 'http_requests_total', { route: '/api/bot/:id/message', status: '413' })).toBe(1);
      expect(sample(m, 'http_requests_total', { status: '500' })).toBeUndefined();
      expect((await post(`${c.url}/api/bot/b2/start`)).status).toBe(200);
      expect((await post(`${c.url}/api/bot/b3/start`)).status).toBe(200);
      const refused = await post(`${c.url}/api/bot/b4/start`);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toBe('MAX_BOTS_REACHED');
      expect((await post(`${c.url}/api/bot/b3/stop`)).body.bot.status).toBe('stopped');
      expect((await post(`${c.url}/api/bot/b3/message`, { message: 'hi' })).status).toBe(409);
    });

    it('caches bot status in Redis (hit and miss counted)', async () => {
      await post(`${c.url}/api/bot/b1/start`);
      const first = await json(`${c.url}/api/bot/b1`);
      expect(first.status).toBe(200);
      const second = await json(`${c.url}/api/bot/b1`);
      expect(second.body).toMatchObject({ cached: true, bot: { id: 'b1' } });
      const m = await metricsText(c.url);
      expect(sample(m, 'cache_hits_total', { cache: 'bot_status' })).toBeGreaterThanOrEqual(1);
    });

    it('serves the health endpoints', async () => {
      const h = await json(`${c.url}/health`);
      expect(h.status).toBe(200);
      expect((await json(`${c.url}/health/db`)).status).toBe(200);
      expect((await json(`${c.url}/health/cache`)).status).toBe(200);
      // the cache check reads Redis' INFO: memory, limit and evictions reach /metrics (the Cache dashboard)
      const m = await metricsText(c.url);
      expect(sample(m, 'cache_memory_used_bytes', { cache: 'cache' })).toBeGreaterThan(0);
      expect(sample(m, 'cache_memory_max_bytes', { cache: 'cache' })).toBeGreaterThanOrEqual(0);
      expect(sample(m, 'cache_evictions_total', { cache: 'cache' })).toBeGreaterThanOrEqual(0);
      expect((await json(`${c.url}/health/live`)).status).toBe(200);
      expect((await json(`${c.url}/health/ready`)).status).toBe(200);
      // anonymous: service -> status only, as the package default
      const anonymous = await json(`${c.url}/health/detailed`);
      expect(anonymous.status).toBe(200);
      expect(anonymous.body.services).toMatchObject({ database: 'healthy', ollama: 'healthy' });
      const shown = JSON.stringify(anonymous.body);
      for (const hidden of ['"test"', 'tables_accessible', 'pool', '0.0.0-test', 'latency']) {
        expect(shown).not.toContain(hidden);
      }
      expect(
        (await json(`${c.url}/health/detailed`, { headers: { authorization: 'Bearer wrong' } })).body,
      ).toEqual({ ...anonymous.body, timestamp: expect.any(String), uptime: expect.any(String) });
      // with the token: full detail (still no connection strings or credentials)
      const full = await json(`${c.url}/health/detailed`, {
        headers: { authorization: 'Bearer detail-token' },
      });
      expect(full.status).toBe(200);
      expect(JSON.stringify(full.body)).toMatch(/tables_accessible/);
      expect(JSON.stringify(full.body)).not.toContain('postgres://');
      expect(JSON.stringify(full.body)).not.toContain('s3cr');
      // every per-check endpoint: statuses only without the token (wrong ones of the same or
      // another length included), details with it
      for (const authorization of [undefined, 'Bearer detail-tokeN', 'Bearer x', 'Bearer detail-token-2']) {
        const headers = authorization ? { authorization } : undefined;
        expect((await json(`${c.url}/health/db`, { headers })).body).toEqual({ status: 'connected' });
        expect((await json(`${c.url}/health/cache`, { headers })).body).toEqual({ status: 'healthy' });
      }
      const auth = { headers: { authorization: 'Bearer detail-token' } };
      expect((await json(`${c.url}/health/db`, auth)).body).toMatchObject({ database: 'test' });
      expect((await json(`${c.url}/health/cache`, auth)).body.memory_used_mb).toEqual(expect.any(Number));
    });

    it('/metrics needs METRICS_TOKEN when it is set', async () => {
      for (const authorization of [undefined, 'Bearer metrics-tokeN', 'Bearer wrong']) {
        const res = await fetch(`${c.url}/metrics`, {
          headers: authorization ? { authorization } : {},
          signal: AbortSignal.timeout(10_000),
        });
        expect(res.status).toBe(401);
        expect(await res.text()).not.toContain('http_requests_total');
      }
      expect(await metricsText(c.url)).toContain('http_requests_total');
    });

    it('exposes the catalog series on /metrics', async () => {
      const m = await metricsText(c.url);
      expect(
        sample(m, 'http_requests_total', { route: '/api/bot/:id/start', method: 'POST', status: '200' }),
      ).toBeGreaterThan(0);
      expect(sample(m, 'bot_instances', { status: 'running' })).toBeGreaterThanOrEqual(1);
      expect(sample(m, 'bot_instances_max')).toBe(3);
      expect(sample(m, 'task_enqueued_total', { queue: 'messages' })).toBeGreaterThanOrEqual(1);
      expect(sample(m, 'task_completed_total', { queue: 'messages' })).toBeGreaterThanOrEqual(1);
      expect(sample(m, 'task_queue_depth', { queue: 'messages' })).toBe(0);
      expect(sample(m, 'bot_dispatch_latency_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(sample(m, 'db_connection_pool_max', { pool: 'default' })).toBe(10);
      expect(
        sample(m, 'db_query_duration_seconds_count', { operation: 'insert_chat_messages' }),
      ).toBeGreaterThanOrEqual(1);
      expect(sample(m, 'llm_tokens_total', { model: 'tiny', type: 'prompt' })).toBeGreaterThanOrEqual(7);
      // the queued (not streamed) calls in the GenAI series too
      const completion = { gen_ai_operation_name: 'text_completion', gen_ai_request_model: 'tiny' };
      expect(
        sample(m, 'gen_ai_client_operation_duration_seconds_count', { ...completion, error_type: '' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sample(m, 'gen_ai_client_token_usage_count', { ...completion, gen_ai_token_type: 'input' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sample(m, 'dependency_request_duration_seconds_count', { dependency: 'ollama', outcome: 'success' }),
      ).toBeGreaterThanOrEqual(1);
      expect(sample(m, 'health_check_up', { check: 'database' })).toBe(1);
      expect(sample(m, 'health_check_up', { check: 'cache' })).toBe(1);
    });

    it('turns Ollama errors into 502s and LLM error metrics', async () => {
      await post(`${c.url}/api/bot/b1/start`);
      ollama.state.failing = true;
      try {
        const res = await post(`${c.url}/api/bot/b1/message`, { message: 'will fail' });
        expect(res.status).toBe(502);
        expect(res.body.task.error).toMatch(/Ollama answered HTTP 500/);
        expect(JSON.stringify(res.body)).not.toContain(ollama.url);
      } finally {
        ollama.state.failing = false;
      }
      const m = await metricsText(c.url);
      expect(
        sample(m, 'llm_request_errors_total', { model: 'tiny', operation: 'generate' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sample(m, 'gen_ai_client_operation_duration_seconds_count', {
          gen_ai_operation_name: 'text_completion',
          error_type: '500',
        }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        sample(m, 'dependency_request_duration_seconds_count', { dependency: 'ollama', outcome: 'error' }),
      ).toBeGreaterThanOrEqual(1);
      expect(sample(m, 'task_failed_total', { queue: 'messages' })).toBeGreaterThanOrEqual(1);
      expect(
        sample(m, 'http_requests_total', { route: '/api/bot/:id/message', status: '502' }),
      ).toBeGreaterThanOrEqual(1);
    });

    it('fault API: a crashing bot is restarted with backoff and counted, until the fault is cleared', async () => {
      await post(`${c.url}/api/bot/b2/start`);
      const crashed = await post(`${c.url}/api/admin/bots/b2/crash`);
      expect(crashed.status).toBe(200);
      await waitFor('three restarts', async () => {
        const m = await metricsText(c.url);
        return (
          (sample(m, 'bot_restarts_total', { bot_id: 'b2' }) ?? 0) >= 3 &&
          (sample(m, 'bot_start_errors_total', { bot_id: 'b2' }) ?? 0) >= 3
        );
      });
      expect((await json(`${c.url}/api/bot/b2`)).body.bot.crashInjected).toBe(true);
      expect(
        (await json(`${c.url}/api/bots`)).body.bots.find((b: { id: string }) => b.id === 'b2').status,
      ).toMatch(/restarting|starting/);
      expect((await json(`${c.url}/api/admin/bots/b2/crash`, { method: 'DELETE' })).status).toBe(200);
      await waitFor('b2 running again', async () => {
        const bots = (await json(`${c.url}/api/bots`)).body.bots as Array<{ id: string; status: string }>;
        return bots.find((b) => b.id === 'b2')?.status === 'running';
      });
    }, 40_000);

    it('fault API: a paused queue holds tasks (202, depth grows) and drains on resume', async () => {
      await post(`${c.url}/api/bot/b1/start`);
      expect((await post(`${c.url}/api/admin/queue/pause`)).status).toBe(200);
      const queued = await post(`${c.url}/api/bot/b1/message`, { message: 'held' });
      expect(queued.status).toBe(202);
      expect(queued.body).toMatchObject({ status: 'queued', task: { status: 'queued' } });
      expect(sample(await metricsText(c.url), 'task_queue_depth', { queue: 'messages' })).toBe(1);
      expect((await post(`${c.url}/api/admin/queue/resume`)).status).toBe(200);
      await waitFor('held task completed', async () => {
        const t = await json(`${c.url}/api/tasks/${queued.body.task.id}`);
        return t.body.task?.status === 'completed';
      });
    }, 30_000);
  });

  describe(`${name}: MAX_BOTS=0, faults off, Redis down`, () => {
    const schema = uniqueSchema(`${name.replace(/\W/g, '_').slice(0, 12)}z`);
    let c: StartedController;
    let deadPort: number;
    beforeAll(async () => {
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      deadPort = (probe.address() as AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      c = await start({
        port: 0,
        env: {
          DATABASE_URL,
          DB_SCHEMA: schema,
          REDIS_URL: `redis://127.0.0.1:${deadPort}`,
          MAX_BOTS: '0',
          HEALTH_REFRESH_MS: '200',
        },
      });
    });
    afterAll(async () => {
      await c?.close();
      await dropSchema(schema);
    });

    it('refuses new launches, hides the fault API, reports the cache down but keeps serving', async () => {
      const refused = await post(`${c.url}/api/bot/b1/start`);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toBe('BOT_LAUNCHES_DISABLED');
      expect((await post(`${c.url}/api/admin/queue/pause`)).status).toBe(404);
      expect((await json(`${c.url}/api/bots`)).status).toBe(200);
      // refreshed in the background: the alert on health_check_up does not depend on /health traffic
      await waitFor(
        'cache reported down on /metrics',
        async () => sample(await metricsText(c.url), 'health_check_up', { check: 'cache' }) === 0,
      );
      expect((await json(`${c.url}/health/cache`)).status).toBe(503);
      const detailed = JSON.stringify((await json(`${c.url}/health/detailed`)).body);
      expect(detailed).toMatch(/not_configured|not configured/); // ollama without OLLAMA_URL
      expect(detailed).not.toContain(String(deadPort));
      expect(sample(await metricsText(c.url), 'bot_instances_max')).toBe(0);
    });
  });

  describe(`${name}: degraded mode while PostgreSQL is unreachable`, () => {
    const schema = uniqueSchema(`${name.replace(/\W/g, '_').slice(0, 12)}d`);
    let c: StartedController;
    let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
    const journal = tempJournalDir();
    beforeAll(async () => {
      const u = new URL(DATABASE_URL);
      proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
      u.port = String(proxy.port);
      c = await start({
        port: 0,
        env: {
          DATABASE_URL: u.toString(),
          DB_SCHEMA: schema,
          DB_HEARTBEAT_MS: '200',
          MESSAGE_WAIT_MS: '5000',
          JOURNAL_DIR: journal.dir,
        },
      });
    });
    afterAll(async () => {
      await c?.close();
      await proxy?.close();
      await dropSchema(schema);
      journal.remove();
    });

    it('queues tasks, says "degraded", loses nothing and drains when the database returns', async () => {
      expect((await post(`${c.url}/api/bot/d1/start`)).status).toBe(200);
      expect((await post(`${c.url}/api/bot/d1/message`, { message: 'before' })).status).toBe(200);

      await proxy.cut();
      await waitFor('degraded mode', async () => (await json(`${c.url}/api/bots`)).body.mode === 'degraded');
      const ids: string[] = [];
      for (const message of ['during 1', 'during 2', 'during 3']) {
        const res = await post(`${c.url}/api/bot/d1/message`, { message });
        expect(res.status).toBe(202);
        expect(res.body.status).toBe('degraded');
        expect(res.headers.get('x-service-mode')).toBe('degraded');
        ids.push(res.body.task.id);
      }
      await waitFor('/health/db 503', async () => (await json(`${c.url}/health/db`)).status === 503);
      expect(sample(await metricsText(c.url), 'health_check_up', { check: 'database' })).toBe(0);
      expect((await json(`${c.url}/api/bot/d1/messages`)).status).toBe(503);
      const tasks = await json(`${c.url}/api/tasks`);
      expect(tasks.body.queue.depth).toBe(3);
      expect(sample(await metricsText(c.url), 'task_queue_depth', { queue: 'messages' })).toBe(3);

      await proxy.restore();
      await waitFor(
        'backlog drained',
        async () => {
          const all = await Promise.all(ids.map((id) => json(`${c.url}/api/tasks/${id}`)));
          return all.every((t) => t.body.task?.status === 'completed');
        },
        20_000,
      );
      expect((await json(`${c.url}/api/bots`)).body.mode).toBe('normal');
      const history = await json(`${c.url}/api/bot/d1/messages`);
      const contents = history.body.messages.map((m: { content: string }) => m.content);
      for (const m of ['before', 'during 1', 'during 2', 'during 3']) expect(contents).toContain(m);
    }, 60_000);
  });
}
