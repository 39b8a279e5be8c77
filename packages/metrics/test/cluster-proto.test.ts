// The cluster primary answers protobuf like a single process: the same series as its text answer,
// and the workers' native histograms merged (through the contract), decoded by protobufjs.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Hist, labelsOf, protoSeries, textSeries } from './support/exposition-series.js';
import { decodeFamilies } from './support/metrics-schema.js';

const fixture = fileURLToPath(new URL('./fixtures/cluster-proto.ts', import.meta.url));
const PROTO = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGTERM');
});

describe('a cluster primary answering protobuf (real worker processes)', () => {
  it('writes the same series as its text answer, with the merged native histograms', async () => {
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
    const get = async (accept: string) => {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { accept } });
      return { type: r.headers.get('content-type'), body: Buffer.from(await r.arrayBuffer()) };
    };
    const proto = await get(PROTO);
    expect(proto.type).toMatch(
      /^application\/vnd\.google\.protobuf; proto=io\.prometheus\.client\.MetricFamily; encoding=delimited; escaping=underscores$/,
    );
    const families = decodeFamilies(proto.body);
    const text = (await get('text/plain')).body.toString();
    expect(protoSeries(families)).toEqual(textSeries(text));
    expect(text).toContain('jobs_total{queue="a",service="svc"} 3\n');

    const duration = families.find((f) => f.name === 'http_request_duration_seconds');
    expect(duration?.metric).toHaveLength(1);
    const m = duration?.metric[0] as { histogram: Hist & Record<string, unknown> };
    expect(labelsOf(m as never)).toEqual({ method: 'GET', route: '/a', status: '200', service: 'svc' });
    const h = m.histogram;
    expect(h.schema).toBe(3);
    expect(h.sampleCount).toBe(6);
    expect(h.sampleSum).toBeCloseTo(3 * 3.21, 9);
    const deltas = h.positiveDelta as number[];
    let acc = 0;
    let total = 0;
    for (const d of deltas) {
      acc += d;
      total += acc;
    }
    expect(total + ((h.zeroCount as number | undefined) ?? 0)).toBe(6);
  }, 30_000);
});
