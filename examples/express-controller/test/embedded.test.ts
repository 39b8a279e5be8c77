// DATABASE_URL unset: the controller runs an embedded PGlite served over the Postgres wire protocol
// (so the code path is still pg). Stopping that server (fault API) puts it in degraded mode.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, metricsText, post, sample, tempJournalDir, waitFor } from '../../bot-core/test/helpers.js';
import { type Controller, startController } from '../src/app.js';

describe('express: embedded PGlite (no DATABASE_URL)', () => {
  let c: Controller;
  const journal = tempJournalDir();
  beforeAll(async () => {
    c = await startController({
      port: 0,
      env: {
        DEIA_EXAMPLE_FAULTS: '1',
        DB_HEARTBEAT_MS: '200',
        MESSAGE_WAIT_MS: '5000',
        JOURNAL_DIR: journal.dir,
      },
    });
  }, 120_000);
  afterAll(async () => {
    await c?.close();
    journal.remove();
  });

  it('uses pg against the embedded server, and degrades and recovers when it stops and returns', async () => {
    expect(c.core.embedded).toBeDefined();
    expect((await json(`${c.url}/health/db`)).status).toBe(200);
    expect((await post(`${c.url}/api/bot/e1/start`)).status).toBe(200);
    const answered = await post(`${c.url}/api/bot/e1/message`, { message: 'hello pglite' });
    expect(answered.status).toBe(200);
    expect(answered.body.reply).toMatch(
      /^\[local echo model: OLLAMA_URL is not set\] You said: hello pglite$/,
    );

    expect((await post(`${c.url}/api/admin/database/stop`)).status).toBe(200);
    await waitFor('degraded mode', async () => (await json(`${c.url}/api/bots`)).body.mode === 'degraded');
    const queued = await post(`${c.url}/api/bot/e1/message`, { message: 'while stopped' });
    expect(queued.status).toBe(202);
    expect(queued.body.status).toBe('degraded');
    expect(sample(await metricsText(c.url), 'task_queue_depth', { queue: 'messages' })).toBe(1);

    expect((await post(`${c.url}/api/admin/database/start`)).status).toBe(200);
    await waitFor('backlog drained', async () => {
      const t = await json(`${c.url}/api/tasks/${queued.body.task.id}`);
      return t.body.task?.status === 'completed';
    });
    const history = await json(`${c.url}/api/bot/e1/messages`);
    expect(history.body.messages.map((m: { content: string }) => m.content)).toContain('while stopped');
    expect(
      sample(await metricsText(c.url), 'llm_tokens_total', { model: 'local-echo', type: 'prompt' }),
    ).toBeGreaterThan(0);
  }, 60_000);
});
