// `pnpm start` of an example as a newcomer runs it (shared by both controllers).
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { json, metricsText, post, sample, waitFor } from './helpers.js';

/**
 * `pnpm start` as a newcomer runs it: `src/main.ts` in a child process with no DATABASE_URL,
 * REDIS_URL or OLLAMA_URL (embedded PGlite), tracing started before the app loads. Checks the
 * banner, the endpoints, trace ids in log lines and exemplars, and a clean exit on SIGTERM.
 */
export function mainProcessSuite(name: string, exampleDir: string, serviceName: string) {
  describe(`${name}: pnpm start with no configuration`, () => {
    let child: ChildProcess | undefined;
    let output = '';
    afterAll(() => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
    });

    it('starts on embedded PGlite, prints the endpoints, serves them and shuts down on SIGTERM', async () => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        SHUTDOWN_DELAY_MS: '0',
      };
      for (const k of [
        'DATABASE_URL',
        'REDIS_URL',
        'OLLAMA_URL',
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        'OTEL_TRACES_EXPORTER',
        'OTEL_SERVICE_NAME',
      ]) {
        delete env[k];
      }
      child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: exampleDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (d) => {
        output += d;
      });
      child.stderr?.on('data', (d) => {
        output += d;
      });
      const url = await waitFor(
        'the banner',
        async () => {
          if (child?.exitCode !== null) throw new Error(`exited early:\n${output}`);
          return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
        },
        110_000,
      );
      expect(output).toContain(`metrics  ${url}/metrics`);
      expect(output).toContain(`health   ${url}/health`);
      expect(output).toMatch(/cache\s+not configured \(set REDIS_URL\)/);
      expect(output).toMatch(/llm\s+local echo model/);

      expect((await post(`${url}/api/bot/m1/start`)).status).toBe(200);
      expect((await post(`${url}/api/bot/m1/message`, { message: 'hi' })).status).toBe(200);
      const detailed = await json(`${url}/health/detailed`);
      expect(detailed.body.services).toMatchObject({
        database: 'healthy',
        cache: 'not_configured',
        ollama: 'not_configured',
      });
      const metrics = await metricsText(url);
      expect(sample(metrics, 'http_requests_total', { route: '/api/bot/:id/message', status: '200' })).toBe(
        1,
      );
      // latency histograms carry the trace id of a request as an exemplar (OpenMetrics only)
      expect(metrics).not.toMatch(/ # \{trace_id=/);
      expect(await metricsText(url, 'openmetrics')).toMatch(
        /^http_request_duration_seconds_bucket\{.*\} \d+ # \{trace_id="[0-9a-f]{32}"/m,
      );

      // JSON log lines in the guides' format, carrying the trace id of the request
      const botStarted = output.split('\n').find((l) => l.includes('"message":"bot started"'));
      const line = JSON.parse(botStarted ?? '{}');
      expect(line).toMatchObject({ level: 'INFO', service: serviceName, bot_id: 'm1' });
      expect(line.trace_id).toMatch(/^[0-9a-f]{32}$/);

      const exited = new Promise<number | null>((r) => child?.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output).toContain('shutdown: done');
    }, 150_000);
  });
}
