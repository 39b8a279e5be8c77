import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ECHO_LABEL } from '../src/index.js';
import {
  DATABASE_URL,
  dropSchema,
  json,
  metricsText,
  post,
  type StartController,
  type StartedController,
  sample,
  startFakeOllama,
  TEST_METRICS_TOKEN,
  uniqueSchema,
  waitFor,
} from './helpers.js';

// biome-ignore lint/suspicious/noExplicitAny: NDJSON lines are asserted field by field
type Line = any;

/** POSTs to the chat route and reads the whole NDJSON answer (throws if the connection is reset). */
async function chat(url: string, bot: string, message: string) {
  const res = await fetch(`${url}/api/bot/${bot}/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message }),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  const lines: Line[] =
    res.headers.get('content-type')?.startsWith('application/x-ndjson') === true
      ? text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      : [JSON.parse(text)];
  const chunks = lines.filter((l) => l.type === 'chunk').map((l) => l.text as string);
  return { status: res.status, headers: res.headers, lines, text: chunks.join(''), last: lines.at(-1) };
}

const env = (schema: string, extra: NodeJS.ProcessEnv) => ({
  DATABASE_URL,
  DB_SCHEMA: schema,
  MAX_BOTS: '3',
  DB_HEARTBEAT_MS: '200',
  METRICS_TOKEN: TEST_METRICS_TOKEN,
  SHUTDOWN_DELAY_MS: '0',
  JOURNAL_DIR: 'off',
  ...extra,
});

/** The streamed chat route, the same on both controllers: against a scripted fake Ollama and real PostgreSQL. */
export function streamSuite(name: string, start: StartController) {
  describe(`${name}: POST /api/bot/:id/chat streams the answer (fake Ollama, real PostgreSQL)`, () => {
    const schema = uniqueSchema(`${name.replace(/\W/g, '_').slice(0, 10)}s`);
    let c: StartedController;
    let ollama: Awaited<ReturnType<typeof startFakeOllama>>;

    beforeAll(async () => {
      ollama = await startFakeOllama({ user: 'bot', password: 's3cr@t' });
      c = await start({
        port: 0,
        env: env(schema, {
          OLLAMA_URL: ollama.url,
          OLLAMA_MODEL: 'tiny',
          OLLAMA_FIRST_CHUNK_TIMEOUT_MS: '1000',
          OLLAMA_IDLE_TIMEOUT_MS: '400',
          OLLAMA_STREAM_TIMEOUT_MS: '5000',
          LLM_USD_PER_MILLION_TOKENS: '1,2',
        }),
      });
      expect((await post(`${c.url}/api/bot/s1/start`)).status).toBe(200);
    });
    afterAll(async () => {
      await c?.close();
      await ollama?.close();
      await dropSchema(schema);
    });

    it('streams the scripted chunks as NDJSON, saves the exchange before "done", records the call', async () => {
      ollama.state.chat = { chunks: ['Hel', 'lo', ' there'], gapMs: 20 };
      const r = await chat(c.url, 's1', 'hi');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      expect(r.lines[0]).toMatchObject({ type: 'start', botId: 's1', model: 'tiny' });
      expect(r.lines.filter((l) => l.type === 'chunk').map((l) => l.text)).toEqual(['Hel', 'lo', ' there']);
      expect(r.last).toMatchObject({ type: 'done', saved: true, usage: { inputTokens: 7, outputTokens: 5 } });
      expect(ollama.state.unauthorized).toBe(0);

      // "saved": the exchange is in PostgreSQL when the client reads "done"
      const history = await json(`${c.url}/api/bot/s1/messages`);
      expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual(['Hello there', 'hi']);
      expect(history.body.messages[0].taskId).toBe(r.last.taskId);

      // one streamed call in the GenAI series: 3 chunks (a first and 2 gaps), Ollama's counters
      const m = await metricsText(c.url);
      const call = {
        gen_ai_operation_name: 'chat',
        gen_ai_provider_name: 'ollama',
        gen_ai_request_model: 'tiny',
      };
      const model = { gen_ai_provider_name: 'ollama', gen_ai_request_model: 'tiny' };
      const ok = { ...call, error_type: '' };
      expect(sample(m, 'gen_ai_client_operation_duration_seconds_count', ok)).toBe(1);
      expect(sample(m, 'gen_ai_client_operation_time_to_first_chunk_seconds_count', call)).toBe(1);
      expect(sample(m, 'gen_ai_client_operation_time_per_output_chunk_seconds_count', call)).toBe(2);
      expect(sample(m, 'gen_ai_client_token_usage_sum', { ...call, gen_ai_token_type: 'input' })).toBe(7);
      expect(sample(m, 'gen_ai_client_token_usage_sum', { ...call, gen_ai_token_type: 'output' })).toBe(5);
      expect(sample(m, 'llm_model_load_duration_seconds_sum', model)).toBe(1.5);
      expect(sample(m, 'llm_model_cold_starts_total', model)).toBe(1);
      expect(sample(m, 'llm_eval_tokens_total', { ...model, phase: 'generation' })).toBe(5);
      expect(sample(m, 'llm_eval_duration_seconds_total', { ...model, phase: 'generation' })).toBe(0.25);
      // 7 input tokens at $1/M and 5 output tokens at $2/M
      expect(sample(m, 'llm_request_cost_usd_total', model)).toBeCloseTo(0.000017, 12);
      // the model Ollama holds in memory (/api/ps, polled at start-up)
      const resident = { gen_ai_provider_name: 'ollama', gen_ai_request_model: 'tiny:latest' };
      const ps = await waitFor('the /api/ps poll', async () => {
        const text = await metricsText(c.url);
        return sample(text, 'llm_model_resident', resident) === 1 && text;
      });
      expect(sample(ps, 'llm_model_memory_bytes', { ...resident, memory: 'vram' })).toBe(1_500_000);
      // the deprecated series keep counting for a release
      expect(sample(m, 'llm_request_duration_seconds_count', { model: 'tiny', operation: 'chat' })).toBe(1);
      expect(sample(m, 'bot_messages_processed_total', { bot_id: 's1' })).toBeGreaterThanOrEqual(1);
      // the streamed response is an HTTP request like the others, under its route template
      expect(sample(m, 'http_requests_total', { route: '/api/bot/:id/chat', status: '200' })).toBe(1);
    });

    it('an error line from Ollama mid-answer ends the stream cleanly with an error marker', async () => {
      ollama.state.chat = { chunks: ['one', ' two', ' three'], fault: 'error-mid', failAfter: 2 };
      const r = await chat(c.url, 's1', 'break');
      expect(r.status).toBe(200);
      expect(r.text).toBe('one two');
      expect(r.last).toMatchObject({ type: 'error', error: 'LLM_ERROR' });
      expect(r.last.message).toMatch(/model runner crashed/);
    });

    it('a partition (Ollama accepts, then sends nothing) ends the stream at the idle timeout', async () => {
      ollama.state.chat = { chunks: ['a', 'b', 'c'], fault: 'stall-mid', failAfter: 1 };
      const r = await chat(c.url, 's1', 'stall');
      expect(r.text).toBe('a');
      expect(r.last).toMatchObject({ type: 'error', error: 'LLM_IDLE_TIMEOUT' });
      await waitFor('the stalled upstream call closed', async () => ollama.state.chatOpen === 0, 3_000);
    });

    it('an Ollama that never answers ends the stream at the first-chunk timeout', async () => {
      ollama.state.chat = { fault: 'stall-headers' };
      const r = await chat(c.url, 's1', 'nothing');
      expect(r.lines.map((l) => l.type)).toEqual(['start', 'error']);
      expect(r.last).toMatchObject({ type: 'error', error: 'LLM_TIMEOUT' });
      await waitFor('the stalled upstream call closed', async () => ollama.state.chatOpen === 0, 3_000);
    });

    it('a client that disconnects mid-stream aborts the upstream call; the controller stays healthy', async () => {
      ollama.state.chat = { chunks: Array.from({ length: 200 }, (_, i) => ` w${i}`), gapMs: 20 };
      const aborted = ollama.state.chatAborted;
      const ctl = new AbortController();
      const res = await fetch(`${c.url}/api/bot/s1/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'long' }),
        signal: ctl.signal,
      });
      const reader = res.body!.getReader();
      let seen = '';
      while (!seen.includes('"chunk"')) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += Buffer.from(value).toString();
      }
      ctl.abort();
      await reader.cancel().catch(() => {});
      await waitFor('the upstream call aborted', async () => ollama.state.chatAborted === aborted + 1, 3_000);
      expect(ollama.state.chatOpen).toBe(0);

      ollama.state.chat = {};
      expect((await json(`${c.url}/health/live`)).status).toBe(200);
      const again = await chat(c.url, 's1', 'still there?');
      expect(again.text).toBe('fake answer to: still there?');
      expect(again.last).toMatchObject({ type: 'done', saved: true });
    });

    it('/metrics counts each failed stream under its error_type', async () => {
      const m = await metricsText(c.url);
      const failed = (error_type: string) =>
        sample(m, 'gen_ai_client_operation_duration_seconds_count', {
          gen_ai_provider_name: 'ollama',
          gen_ai_request_model: 'tiny',
          error_type,
        });
      expect(failed('ollama_error')).toBe(1); // the error line
      expect(failed('timeout')).toBe(2); // the partition (idle) and the silent Ollama (first chunk)
      expect(failed('cancelled')).toBe(1); // the client that went away
    });

    it('refuses before streaming: a bad body is a 400, a stopped bot a 409 (JSON, not NDJSON)', async () => {
      const bad = await post(`${c.url}/api/bot/s1/chat`, { message: '' });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: 'BAD_MESSAGE' });
      expect((await post(`${c.url}/api/bot/s2/start`)).status).toBe(200);
      expect((await post(`${c.url}/api/bot/s2/stop`)).status).toBe(200);
      const stopped = await post(`${c.url}/api/bot/s2/chat`, { message: 'hi' });
      expect(stopped.status).toBe(409);
      expect(stopped.body).toMatchObject({ error: 'BOT_NOT_RUNNING' });
    });
  });

  describe(`${name}: without OLLAMA_URL the labelled echo model streams too`, () => {
    const schema = uniqueSchema(`${name.replace(/\W/g, '_').slice(0, 10)}e`);
    let c: StartedController;
    beforeAll(async () => {
      c = await start({ port: 0, env: env(schema, {}) });
      expect((await post(`${c.url}/api/bot/e1/start`)).status).toBe(200);
    });
    afterAll(async () => {
      await c?.close();
      await dropSchema(schema);
    });

    it('streams word by word, labelled, and is recorded like a model call', async () => {
      const r = await chat(c.url, 'e1', 'three little words');
      expect(r.lines[0]).toMatchObject({ type: 'start', model: 'local-echo' });
      const chunks = r.lines.filter((l) => l.type === 'chunk');
      expect(chunks[0].text).toBe(ECHO_LABEL);
      expect(chunks.length).toBe(6); // the label, "You", "said:", and the three words
      expect(r.text).toBe(`${ECHO_LABEL} You said: three little words`);
      expect(r.last).toMatchObject({ type: 'done', saved: true });
      const m = await metricsText(c.url);
      const call = { gen_ai_provider_name: 'local', gen_ai_request_model: 'local-echo' };
      expect(sample(m, 'gen_ai_client_operation_duration_seconds_count', { ...call, error_type: '' })).toBe(
        1,
      );
      expect(sample(m, 'gen_ai_client_operation_time_to_first_chunk_seconds_count', call)).toBe(1);
      expect(sample(m, 'gen_ai_client_operation_time_per_output_chunk_seconds_count', call)).toBe(5);
      expect(sample(m, 'gen_ai_client_token_usage_sum', { ...call, gen_ai_token_type: 'input' })).toBe(3);
      expect(sample(m, 'llm_eval_tokens_total', { ...call, phase: 'generation' })).toBe(12);
    });
  });
}
