// SIGTERM under 50 keep-alive clients that keep sending (as clients do before a load balancer has
// taken the instance out): every request is answered, or refused before it was sent once the
// listener closed; none is reset. The controller's own process, real PostgreSQL.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { keepAliveLoad } from '../../../packages/health/test/keepalive-load.js';
import { DATABASE_URL, dropSchema, post, uniqueSchema, waitFor } from './helpers.js';

export function drainSuite(name: string, exampleDir: string) {
  describe(`${name}: SIGTERM under 50 keep-alive clients resets no request (real process)`, () => {
    const schema = uniqueSchema(`${name.replace(/\W/g, '_').slice(0, 12)}d`);
    let kill: (() => void) | undefined;
    afterAll(async () => {
      kill?.();
      await dropSchema(schema);
    });

    it('answered or refused, never reset; exit 0', async () => {
      let output = '';
      const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: exampleDir,
        env: {
          ...process.env,
          PORT: '0',
          HOST: '127.0.0.1',
          OTEL_TRACES_EXPORTER: 'none',
          DATABASE_URL,
          DB_SCHEMA: schema,
          SHUTDOWN_DELAY_MS: '2000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      kill = () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      };
      proc.stdout?.on('data', (d) => (output += d));
      proc.stderr?.on('data', (d) => (output += d));
      const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
      const url = await waitFor(
        'the banner',
        async () => {
          if (proc.exitCode !== null) throw new Error(`exited early:\n${output}`);
          return /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
        },
        60_000,
      );
      expect((await post(`${url}/api/bot/d1/start`)).status).toBe(200);
      const load = keepAliveLoad(`${url}/api/bot/d1/message?wait=0`, {
        body: JSON.stringify({ message: 'hello' }),
        headers: { 'content-type': 'application/json' },
        maxMs: 60_000,
      });
      try {
        await load.warm(300);
        load.mark();
        proc.kill('SIGTERM');
        expect(await exited).toBe(0);
        // clients keep trying a while after the process is gone: a late reset is counted too
        const result = await load.finish(performance.now() + 300);
        console.log(
          `${name} SIGTERM under 50 keep-alive clients: ${result.answered} answered, ${result.toldToClose} told Connection: close, ${result.refused} refused, ${result.resets} reset`,
        );
        expect(result.resetLog).toEqual([]);
        expect(result.other).toEqual([]);
        expect(result.toldToClose).toBe(50);
        expect(output).not.toMatch(/uncaught|unhandled/i);
      } finally {
        await load.finish(0);
      }
    }, 120_000);
  });
}
