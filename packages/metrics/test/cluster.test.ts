import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/cluster-app.ts', import.meta.url));
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGTERM');
});

describe('Node cluster aggregation (real worker processes)', () => {
  it('the primary serves the sum of both workers, and gauges by their aggregator', async () => {
    child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('cluster fixture did not start in 15 s')), 15_000);
      createInterface({ input: child!.stdout! }).once('line', (l) => {
        clearTimeout(timer);
        resolve(l);
      });
      child!.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
    });
    const { port } = JSON.parse(line) as { port: number };
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toContain(
      'http_requests_total{method="GET",route="/api/bots",status="200",service="svc"} 3',
    );
    expect(text).toContain(
      'http_request_duration_seconds_count{method="GET",route="/api/bots",status="200",service="svc"} 3',
    );
    // 'first', not summed over the two workers:
    expect(text).toMatch(
      /app_build_info\{version="1.0.0",commit="unknown",node_version="v[\d.]+",service="svc"\} 1\n/,
    );
  }, 30_000);
});
