import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { get, type IncomingHttpHeaders, request } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';

// The cluster primary answers like a single process: OpenMetrics or text 0.0.4 by Accept, gzip by
// Accept-Encoding, exemplars kept through the aggregation; a worker that does not answer fails the
// scrape with a 500 within the aggregator's timeout. Real worker processes, real parsers (promtool
// and the Python client's OpenMetrics parser, as in exposition.test.ts).
const fixture = fileURLToPath(new URL('./fixtures/cluster-negotiate.ts', import.meta.url));
const PYTHON_OM = `
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
n = 0; ex = set()
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        n += 1
        if s.exemplar: ex.add(s.exemplar.labels['trace_id'].split('-')[0])
print(n, ','.join(sorted(ex)))
`;

let child: ChildProcess | undefined;
let stderr = '';
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
});

async function startCluster(env: Record<string, string> = {}): Promise<number> {
  stderr = '';
  const c = spawn(process.execPath, ['--import', 'tsx', fixture], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  child = c;
  c.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`cluster fixture did not start in 15 s: ${stderr}`)),
      15_000,
    );
    createInterface({ input: c.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    c.once('exit', (code) => reject(new Error(`fixture exited with ${code}: ${stderr}`)));
  });
  return (JSON.parse(line) as { port: number }).port;
}

/** A raw request (no automatic decompression, unlike fetch). */
function raw(
  port: number,
  headers: Record<string, string>,
  method = 'GET',
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = (method === 'GET' ? get : request)(
      { host: '127.0.0.1', port, path: '/metrics', method, headers, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (method !== 'GET') req.end();
  });
}

const OM_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('cluster primary: format and gzip negotiated like a single process (real workers)', () => {
  it('text 0.0.4 by default, OpenMetrics with the workers exemplars when asked, gzip when accepted', async () => {
    const port = await startCluster();

    const text = await raw(port, {});
    expect(text.status).toBe(200);
    expect(text.headers['content-type']).toBe(
      'text/plain; version=0.0.4; charset=utf-8; escaping=underscores',
    );
    expect(text.headers['content-encoding']).toBeUndefined();
    const textBody = text.body.toString();
    expect(textBody).toContain(
      'http_requests_total{method="GET",route="/r7",status="200",service="svc \\"q\\""} 3',
    );
    expect(textBody).not.toContain('# EOF');
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: textBody, encoding: 'utf8' });
    expect(promtool.error, 'promtool is not installed (apt-get install prometheus)').toBeUndefined();
    expect(`${promtool.stdout}${promtool.stderr}`).toBe('');

    const om = await raw(port, { accept: OM_ACCEPT });
    expect(om.headers['content-type']).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores',
    );
    const omBody = om.body.toString();
    expect(omBody.endsWith('# EOF\n')).toBe(true);
    expect(omBody).toContain('# TYPE http_requests counter');
    expect(omBody).toContain(
      'http_request_duration_seconds_count{method="GET",route="/r59",status="200",service="svc \\"q\\""} 3',
    );
    const py = spawnSync('/usr/bin/python3', ['-c', PYTHON_OM], { input: omBody, encoding: 'utf8' });
    expect(py.stderr, 'apt-get install python3-prometheus-client').toBe('');
    const [samples, exemplarWorkers] = py.stdout.trim().split(' ');
    // The same samples as the text exposition; the exemplars come from the workers' observations.
    expect(Number(samples)).toBe(textBody.split('\n').filter((l) => l && !l.startsWith('#')).length);
    expect(exemplarWorkers ?? '(no exemplars)').toMatch(/^worker[01](,worker[01])?$/);

    // Prometheus' own request headers: gzip, and the body is the same document.
    const gz = await raw(port, { accept: OM_ACCEPT, 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers.vary).toBe('Accept, Accept-Encoding');
    expect(gz.body.length).toBeLessThan(om.body.length / 3);
    expect(gunzipSync(gz.body).toString()).toBe(omBody);

    expect((await raw(port, {}, 'POST')).status).toBe(405);
  }, 30_000);

  it.each([
    ['never shares its metrics', 'silent', /worker\(s\) 3 did not send their metrics within 1000 ms/],
    ['fails to collect', 'throw', /worker 3 failed to collect its metrics: the pool is gone/],
    ['exits while collecting', 'exit', /worker 3 exited before it sent its metrics/],
  ])(
    'a worker that %s fails the scrape with a 500 and a warning naming it',
    async (_what, fault, warning) => {
      const port = await startCluster({ FAULTY_WORKER: fault, TIMEOUT_MS: '1000' });
      const res = await raw(port, { accept: OM_ACCEPT });
      expect(res.status).toBe(500);
      expect(res.body.toString()).toBe('metrics collection failed\n');
      const deadline = Date.now() + 5_000;
      while (!warning.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(stderr).toMatch(warning);
    },
    30_000,
  );
});
