// The cluster primary answers protobuf like a single process: the same series as its text answer,
// and the workers' native histograms merged (through the contract), decoded by protobufjs.
import { describe, expect, it } from 'vitest';
import { startClusterFixture } from './support/cluster-fixture.js';
import { type Hist, labelsOf, protoSeries, textSeries } from './support/exposition-series.js';
import { decodeFamilies } from './support/metrics-schema.js';

const PROTO = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

describe('a cluster primary answering protobuf (real worker processes)', () => {
  it('writes the same series as its text answer, with the merged native histograms', async () => {
    const port = await startClusterFixture('cluster-proto.ts');
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
