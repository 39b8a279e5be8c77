// `pnpm start` as a newcomer runs it: no DATABASE_URL/REDIS_URL/OLLAMA_URL, a child process
// (tracing starts before the app is loaded), the banner says where everything is, SIGTERM
// shuts it down cleanly.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { json, post, waitFor } from '../../bot-core/test/controller-suite.js';

const dir = fileURLToPath(new URL('..', import.meta.url));

describe('fastify: pnpm start with no configuration', () => {
  let child: ChildProcess | undefined;
  let output = '';
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('starts on embedded PGlite, prints the endpoints, serves them and shuts down on SIGTERM', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' };
    for (const k of [
      'DATABASE_URL',
      'REDIS_URL',
      'OLLAMA_URL',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_TRACES_EXPORTER',
    ])
      delete env[k];
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => (output += d));
    child.stderr?.on('data', (d) => (output += d));
    const url = await waitFor(
      'the banner',
      async () => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1],
      110_000,
    );
    expect(output).toContain(`metrics  ${url}/metrics`);
    expect(output).toContain(`health   ${url}/health`);
    expect(output).toMatch(/cache\s+not configured \(set REDIS_URL\)/);
    expect(output).toMatch(/llm\s+local echo model/);

    expect((await post(`${url}/api/bot/m1/start`)).status).toBe(200);
    const answered = await post(`${url}/api/bot/m1/message`, { message: 'hi' });
    expect(answered.status).toBe(200);
    const detailed = await json(`${url}/health/detailed`);
    expect(detailed.body.services).toMatchObject({
      database: 'healthy',
      cache: 'not_configured',
      ollama: 'not_configured',
    });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^http_requests_total\{.*route="\/api\/bot\/:id\/message".*\} 1$/m);

    // JSON log lines in the guides' format, carrying the trace id of the request
    const botStarted = output.split('\n').find((l) => l.includes('"message":"bot started"'));
    expect(JSON.parse(botStarted!)).toMatchObject({
      level: 'INFO',
      service: 'fastify-controller',
      bot_id: 'm1',
    });
    expect(JSON.parse(botStarted!).trace_id).toMatch(/^[0-9a-f]{32}$/);

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('shutdown: done');
  }, 150_000);
});
