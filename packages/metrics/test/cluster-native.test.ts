import { describe, expect, it } from 'vitest';
import { startClusterFixture } from './support/cluster-fixture.js';

describe('native histograms in a Node cluster (real worker processes)', () => {
  it('the primary merges the workers: lowest schema, wider zero bucket, counts and sums added', async () => {
    const port = await startClusterFixture('cluster-native.ts');
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
