import { describe, expect, it } from 'vitest';
import { startClusterFixture } from './support/cluster-fixture.js';

describe('Node cluster aggregation (real worker processes)', () => {
  it('the primary serves the sum of both workers, and gauges by their aggregator', async () => {
    const port = await startClusterFixture('cluster-app.ts');
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
