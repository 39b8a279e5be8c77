import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/cluster-native.ts', import.meta.url));
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGTERM');
});

describe('native histograms in a Node cluster (real worker processes)', () => {
  it('the primary merges the workers: lowest schema, wider zero bucket, counts and sums added', async () => {
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
    const body = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).json()) as {
      family: {
        name: string;
        series: Array<{ labels: Record<string, string>; native: Record<string, unknown> }>;
      };
      same: boolean;
    };
    expect(body.same).toBe(true);
    expect(body.family.name).toBe('http_request_duration_seconds');
    expect(body.family.series).toHaveLength(1);
    const [s] = body.family.series;
    // the workers share their default labels: they are applied by the renderer, not here
    expect(s?.labels).toEqual({ method: 'GET', route: '/a', status: '200' });
    // worker 0 (schema 3): 0.005 in key -61, 1 in key 0, 2 in key 8; worker 1 (schema 0, zero
    // threshold 0.01): 0.005 in the zero bucket, 1 in key 0, 3 in key 2. Threshold 0.01 absorbs
    // worker 0's key -61 (0.00464, 0.00506]; at schema 0 its keys 0 and 8 become 0 and 1.
    expect(s?.native).toMatchObject({
      schema: 0,
      zeroThreshold: 0.01,
      zeroCount: 2,
      count: 6,
      sum: 0.005 + 1 + 2 + (0.005 + 1 + 3),
      positiveSpans: [{ offset: 0, length: 3 }],
      positiveDeltas: [2, -1, 0],
      negativeSpans: [],
      negativeDeltas: [],
    });
  }, 30_000);
});
