// Content negotiation (q-values, versions, escaping) and what each answer writes: the escaping of
// UTF-8 names, the float form of `le` and `quantile`, and a Content-Type that says it all.
import * as client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createHttpObserver } from '../src/adapter.js';
import { contentTypeOf, escapeName, floatLabel, negotiate } from '../src/exposition.js';
import { httpStoreOf } from '../src/http-series.js';
import { createMetrics } from '../src/index.js';
import { decodeFamilies } from './support/metrics-schema.js';

const PROM2_NATIVE =
  'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,' +
  'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,' +
  'text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
const PROM2 =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,' +
  'text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const PROM3 =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,' +
  'application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,' +
  'text/plain;version=0.0.4;q=0.2,*/*;q=0.1';
const PROTO = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';

describe('negotiation', () => {
  it('picks the most preferred range it can serve, as expfmt.NegotiateIncludingOpenMetrics does', () => {
    expect(negotiate(PROM2_NATIVE)).toMatchObject({ format: 'protobuf', escaping: 'underscores' });
    expect(negotiate(PROM2)).toMatchObject({ format: 'openmetrics', omVersion: '1.0.0' });
    expect(negotiate(PROM3)).toMatchObject({
      format: 'openmetrics',
      omVersion: '1.0.0',
      escaping: 'allow-utf-8',
    });
    // q-values order the ranges, whatever order they come in; q=0 refuses one
    expect(negotiate('text/plain;q=0.5,application/openmetrics-text;q=0.9')).toMatchObject({
      format: 'openmetrics',
      omVersion: '0.0.1',
    });
    expect(negotiate(`${PROTO};q=0,text/plain`).format).toBe('text');
    expect(negotiate(['text/plain;q=0.1', `${PROTO};q=0.2`]).format).toBe('protobuf');
    // protobuf other than delimited, unknown versions: not served, the next range is
    expect(negotiate(`${PROTO.replace('delimited', 'text')},text/plain;q=0.1`).format).toBe('text');
    expect(negotiate('application/vnd.google.protobuf;proto=other;encoding=delimited').format).toBe('text');
    expect(
      negotiate('application/openmetrics-text;version=2.0.0,text/plain;version=1.0.0;q=0.5'),
    ).toMatchObject({
      format: 'text',
      textVersion: '1.0.0',
    });
    // nothing acceptable, or no header, or */*: text 0.0.4
    expect(negotiate('application/json')).toMatchObject({ format: 'text', textVersion: '0.0.4' });
    expect(negotiate(undefined)).toMatchObject({ format: 'text', textVersion: '0.0.4' });
    expect(negotiate('*/*').format).toBe('text');
    // a source that cannot render protobuf is offered the rest
    expect(negotiate(PROM2_NATIVE, false).format).toBe('openmetrics');
  });

  it('honours the escaping parameter, ignores unknown ones, and names it in the Content-Type', () => {
    for (const e of ['allow-utf-8', 'underscores', 'dots', 'values'] as const) {
      expect(negotiate(`text/plain;version=1.0.0;escaping=${e}`).escaping).toBe(e);
      expect(negotiate(`${PROTO};escaping=${e}`).escaping).toBe(e);
    }
    expect(negotiate('text/plain;escaping=bogus').escaping).toBe('underscores');
    expect(contentTypeOf(negotiate('text/plain;version=1.0.0;escaping=allow-utf-8'))).toBe(
      'text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8',
    );
    expect(contentTypeOf(negotiate(undefined))).toBe(
      'text/plain; version=0.0.4; charset=utf-8; escaping=underscores',
    );
    expect(contentTypeOf(negotiate(PROM3))).toBe(
      'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8',
    );
    expect(contentTypeOf(negotiate(`${PROTO};escaping=values`))).toBe(
      'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=values',
    );
  });

  it('escapes names as common/model does, and never a legacy name', () => {
    expect(escapeName('my.metric', 'underscores')).toBe('my_metric');
    expect(escapeName('1st.metric', 'underscores')).toBe('_st_metric');
    expect(escapeName('my_metric.x', 'dots')).toBe('my__metric_dot_x');
    expect(escapeName('a-b', 'dots')).toBe('a__b');
    expect(escapeName('my.metric', 'values')).toBe('U__my_2e_metric');
    expect(escapeName('a_ü', 'values')).toBe('U__a___fc_');
    expect(escapeName('my.metric', 'allow-utf-8')).toBe('my.metric');
    for (const e of ['underscores', 'dots', 'values'] as const)
      expect(escapeName('http_requests_total', e)).toBe('http_requests_total');
  });

  it('writes le and quantile in the float form Prometheus 3 normalises them to', () => {
    expect([1, 10, 0.25, 1e21, 1e-7, 0].map(floatLabel)).toEqual([
      '1.0',
      '10.0',
      '0.25',
      '1e+21',
      '1e-7',
      '0.0',
    ]);
    expect(['+Inf', '5', '0.5', 'x'].map(floatLabel)).toEqual(['+Inf', '5.0', '0.5', 'x']);
  });
});

describe('what each answer writes', () => {
  async function setup() {
    const m = createMetrics({ groups: ['http'], warn: () => {} });
    const registry = m.registry as client.Registry;
    // a collector of the user's with UTF-8 names (prom-client's own metrics validate theirs)
    registry.registerMetric({
      name: 'deia.jobs.done',
      help: 'done jobs',
      type: 'counter',
      aggregator: 'sum',
      get: () => ({
        name: 'deia.jobs.done',
        help: 'done jobs',
        type: 'counter',
        aggregator: 'sum',
        values: [{ labels: { 'queue.name': 'a', plain: 'p' }, value: 3 }],
      }),
      reset() {},
    } as never);
    const h = new client.Histogram({
      name: 'job_seconds',
      help: 'h',
      buckets: [1, 2.5, 10],
      registers: [registry],
    });
    h.observe(2);
    const s = new client.Summary({
      name: 'job_size',
      help: 's',
      percentiles: [0.5, 1],
      registers: [registry],
    });
    s.observe(4);
    const d = httpStoreOf(m)?.duration;
    d?.record(d.seriesFor({ method: 'GET', route: '/x', status: '200' }), 0.3, false);
    const observer = createHttpObserver({ metrics: m }, () => '/x');
    const get = async (accept: string) => {
      const r = await observer.scrape({ method: 'GET', path: '/metrics', headers: { accept } });
      return { type: r.headers['content-type'], body: Buffer.from(r.body as Uint8Array) };
    };
    return { observer, get };
  }

  it('quotes UTF-8 names with allow-utf-8, escapes them otherwise, in every text format', async () => {
    const { observer, get } = await setup();
    const utf8 = await get('text/plain;version=1.0.0;escaping=allow-utf-8');
    expect(utf8.type).toBe('text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8');
    expect(utf8.body.toString()).toContain(
      '# TYPE "deia.jobs.done" counter\n{"deia.jobs.done","queue.name"="a",plain="p"} 3\n',
    );
    const om = (await get(PROM3)).body.toString();
    expect(om).toContain(
      '# TYPE "deia.jobs.done" counter\n{"deia.jobs.done_total","queue.name"="a",plain="p"} 3\n',
    );
    expect(om.endsWith('# EOF\n')).toBe(true);
    const expected = {
      'text/plain': 'deia_jobs_done{queue_name="a",plain="p"} 3',
      'text/plain;version=1.0.0;escaping=underscores': 'deia_jobs_done{queue_name="a",plain="p"} 3',
      'text/plain;escaping=dots': 'deia_dot_jobs_dot_done{queue_dot_name="a",plain="p"} 3',
      'text/plain;escaping=values': 'U__deia_2e_jobs_2e_done{U__queue_2e_name="a",plain="p"} 3',
    };
    for (const [accept, line] of Object.entries(expected)) {
      const r = await get(accept);
      expect(r.body.toString()).toContain(`${line}\n`);
      expect(r.type).toMatch(/; escaping=(underscores|dots|values)$/);
    }
    // protobuf: the name as it is with allow-utf-8, escaped otherwise
    for (const [escaping, name, label] of [
      ['allow-utf-8', 'deia.jobs.done', 'queue.name'],
      ['underscores', 'deia_jobs_done', 'queue_name'],
      ['values', 'U__deia_2e_jobs_2e_done', 'U__queue_2e_name'],
    ]) {
      const f = decodeFamilies((await get(`${PROTO};escaping=${escaping}`)).body).find(
        (x) => x.name === name,
      );
      expect(
        f?.metric[0]?.label?.map((l) => l.name),
        escaping,
      ).toEqual([label, 'plain']);
    }
    await observer.close();
  });

  it('writes le and quantile as floats in text and OpenMetrics', async () => {
    const { observer, get } = await setup();
    for (const accept of ['text/plain', PROM2]) {
      const body = (await get(accept)).body.toString();
      expect(body).toContain('job_seconds_bucket{le="1.0"} 0\n');
      expect(body).toContain('job_seconds_bucket{le="2.5"} 1\n');
      expect(body).toContain('job_seconds_bucket{le="10.0"} 1\n');
      expect(body).toContain('job_size{quantile="1.0"} 4\n');
      expect(body).toContain('job_size{quantile="0.5"} 4\n');
      expect(body).toMatch(/http_request_duration_seconds_bucket\{le="1\.0"/);
      expect(body).not.toMatch(/le="\d+"/);
    }
    await observer.close();
  });
});
