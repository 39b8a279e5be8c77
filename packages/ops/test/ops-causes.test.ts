// The causal model (src/causes.ts): the table is well formed, Alertmanager gets one inhibit rule per
// cause and a longer group_wait for symptoms, and the aftermath clause keeps a symptom quiet while
// its window still holds a resolved cause's effects (promtool).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CAUSES, SETTLE } from '../src/causes.js';
import { alertRules, generateOps, type OpsOptions } from '../src/index.js';
import { ALERT_DASHBOARDS } from '../src/rule-helpers.js';
import { runPromtool } from './promtool.js';

const dir = mkdtempSync(join(tmpdir(), 'deia-ops-causes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ALL: OpsOptions = {
  nodeExporter: { enabled: true },
  optional: { auth: true, websocket: true, botResources: true, uploads: true },
};

interface Inhibit {
  source_matchers: string[];
  target_matchers: string[];
  equal: string[];
}
interface Route {
  receiver: string;
  matchers?: string[];
  group_wait: string;
  routes?: Route[];
}
const am = (o: OpsOptions = ALL) =>
  parse(generateOps(o).files['alertmanager/alertmanager.yml'] as string) as {
    route: Route & { group_by: string[]; routes: Route[] };
    inhibit_rules: Inhibit[];
  };

describe('the causal model', () => {
  it('names only alerts the generator writes', () => {
    const known = new Set(alertRules(generateOps(ALL).groups).map((r) => r.alert));
    for (const c of CAUSES) {
      expect(known, c.cause).toContain(c.cause);
      if (c.symptoms !== '*') for (const s of c.symptoms) expect(known, `${c.cause} -> ${s}`).toContain(s);
    }
    for (const s of Object.keys(SETTLE)) expect(Object.keys(ALERT_DASHBOARDS)).toContain(s);
  });

  it('lists causes before their symptoms: no cause is a symptom of a later one (no mutual silencing)', () => {
    CAUSES.forEach((c, i) => {
      for (const later of CAUSES.slice(i + 1))
        if (later.symptoms !== '*')
          expect(later.symptoms, `${later.cause} explains ${c.cause}`).not.toContain(c.cause);
    });
  });

  it('inhibits each cause its symptoms within the job (and cluster), warnings only their own severity or lower', () => {
    const rules = am().inhibit_rules;
    const db = rules.find((r) => r.source_matchers.includes('alertname="DatabaseDown"'));
    expect(db?.equal).toEqual(['job']);
    const targets = db?.target_matchers[0] ?? '';
    for (const s of ['HighErrorRate', 'AvailabilityBudgetBurn', 'QueueBacklog', 'BotDispatchSlow'])
      expect(targets).toMatch(new RegExp(`[~|"]${s}[|"]`));
    const cache = rules.find((r) => r.source_matchers.includes('alertname="CacheDown"'));
    expect(cache?.target_matchers).toContain('severity=~"warning|info"');
    const down = rules.find((r) => r.source_matchers.includes('alertname="ServiceDown"'));
    expect(down?.equal).toEqual(['job', 'instance']);
    expect(down?.target_matchers[0]).not.toMatch(/TargetMissing|ServiceDown/);
    const model = rules.filter((r) => r.source_matchers.includes('alertname="ModelErrorRate"'));
    expect(model.map((r) => r.source_matchers[1])).toEqual(['severity="critical"', 'severity="warning"']);
    for (const r of am({ ...ALL, aggregateBy: ['cluster'] }).inhibit_rules)
      expect(r.equal).toContain('cluster');
  });

  it('keeps a symptom quiet for the causes that explain it through a chain, of its severity or higher', () => {
    const rules = alertRules(parse(generateOps({}).files['prometheus/rules.yml'] as string).groups);
    const clause = (alert: string, severity: string) => {
      const expr = rules.find((r) => r.alert === alert && r.labels.severity === severity)?.expr ?? '';
      return (
        /unless on \([^)]*\)\s+max by \([^)]*\) \(max_over_time\(ALERTS\{alertname=~"([^"]+)"/.exec(
          expr,
        )?.[1] ?? ''
      );
    };
    // ModelColdStartStorm (a warning) slows the first chunk, which slows requests.
    expect(clause('HighLatency', 'warning').split('|')).toEqual(
      expect.arrayContaining([
        'ModelTimeToFirstChunkHigh',
        'ModelColdStartStorm',
        'DatabaseDown',
        'OllamaDown',
      ]),
    );
    expect(clause('HighLatency', 'critical').split('|')).not.toContain('ModelColdStartStorm');
    expect(clause('HighErrorRate', 'critical').split('|')).toEqual(
      expect.arrayContaining(['DatabaseDown', 'OllamaDown', 'ModelErrorRate', 'DependencyErrorRate']),
    );
    // A budget burn summarises the symptom's own errors: it inhibits, it does not quieten.
    expect(clause('HighErrorRate', 'critical')).not.toMatch(/BudgetBurn/);
    // Absences start the windows anew: never in the clause.
    expect(clause('HighErrorRate', 'critical')).not.toMatch(/TargetMissing|ServiceDown/);
    // Every windowed symptom with a cause has the clause.
    for (const [alert, bySeverity] of Object.entries(SETTLE))
      for (const severity of Object.keys(bySeverity))
        if (rules.some((r) => r.alert === alert && r.labels.severity === severity))
          expect(clause(alert, severity), `${alert}/${severity}`).not.toBe('');
  });

  it('holds symptoms back by the for: their causes need more, plus symptomWait', () => {
    const critical = am().route.routes.find((r) => r.receiver === 'critical');
    const waits = Object.fromEntries(
      (critical?.routes ?? []).flatMap((r) =>
        (/alertname=~"(.*)"/.exec(r.matchers?.[0] ?? '')?.[1] ?? '').split('|').map((a) => [a, r.group_wait]),
      ),
    );
    // Same for: as its causes (2m): only the margin.
    expect(waits.HighErrorRate).toBe('30s');
    // Its cause DependencyLatencyHigh needs 5m, QueueBacklog 2m: 3m more plus the margin.
    expect(waits.QueueBacklog).toBe('3m30s');
    expect(waits.DatabaseDown).toBeUndefined();
    expect(waits.ServiceDown).toBeUndefined();
    // DatabaseDown needs 30s, BotCrashLoop fires at once. A missing target or a dead instance
    // explains everything but makes nothing fire: they hold nothing back.
    expect(waits.BotCrashLoop).toBe('1m');
    expect(waits.HostDiskSpaceLow).toBeUndefined();
    // A budget burn silences HighErrorRate but is no earlier cause: the warning does not wait 10m
    // for the 15m ticket.
    const warning = am().route.routes.find((r) => r.receiver === 'warning');
    expect(JSON.stringify(warning?.routes ?? [])).not.toContain('HighErrorRate');
  });

  it('takes symptomWait from the options (a duration)', () => {
    const critical = am({ ...ALL, alertmanager: { symptomWait: '1m' } }).route.routes.find(
      (r) => r.receiver === 'critical',
    );
    expect(critical?.routes?.find((r) => r.matchers?.[0]?.includes('HighErrorRate'))?.group_wait).toBe('1m');
    expect(() => generateOps({ alertmanager: { symptomWait: 'soon' } })).toThrow(/alertmanager\.symptomWait/);
  });

  it('routes a held-back symptom to its severity receiver (amtool config routes test)', () => {
    const file = join(dir, 'am.yml');
    writeFileSync(file, generateOps(ALL).files['alertmanager/alertmanager.yml'] as string);
    for (const [severity, receiver] of [
      ['critical', 'critical'],
      ['warning', 'warning'],
    ]) {
      const r = spawnSync(
        'amtool',
        [
          'config',
          'routes',
          'test',
          `--config.file=${file}`,
          'alertname=QueueBacklog',
          `severity=${severity}`,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
      expect(r.stdout.trim()).toBe(receiver);
    }
  });
});

describe('the aftermath clause (promtool)', () => {
  // 1m steps; 1 req/s, 10% answered 5xx. The database is down from 0 to 9m: DatabaseDown fires at
  // 1m and resolves at 10m. The symptom's rule reads the cause's ALERTS: quiet while the cause
  // fires and for its 5m window after, whichever group is evaluated first.
  const JOB = 'deia-bot-controller';
  const l = (status: string) =>
    `http_requests_total{job="${JOB}",instance="app:8000",method="GET",route="/api/bots",status="${status}"}`;
  const db = `health_check_up{job="${JOB}",instance="app:8000",check="database"}`;
  const alerts = (name: string, severity = 'critical') =>
    `ALERTS{alertname="${name}",alertstate="firing",job="${JOB}",severity="${severity}"}`;
  const at = (minutes: number[], firing: boolean) =>
    minutes.map((m) => ({
      expr: `ALERTS{alertname="HighErrorRate",alertstate="firing",severity="critical"}`,
      eval_time: `${m}m`,
      exp_samples: firing ? [{ labels: alerts('HighErrorRate'), value: 1 }] : [],
    }));

  it('a symptom stays quiet while its cause fires and for its window after, and pages only if it outlasts that window', () => {
    const { files } = generateOps({});
    const tests = {
      rule_files: ['rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          name: 'errors outlast the outage by 10m: quiet for the 5m window after it, then a page of its own',
          interval: '1m',
          input_series: [
            { series: l('500'), values: '0+6x30' },
            { series: l('200'), values: '0+54x30' },
            { series: db, values: '0x9 1x20' },
          ],
          promql_expr_test: [
            {
              expr: `ALERTS{alertname="DatabaseDown",alertstate="firing"}`,
              eval_time: '5m',
              exp_samples: [
                {
                  labels: `ALERTS{alertname="DatabaseDown",alertstate="firing",check="database",instance="app:8000",job="${JOB}",severity="critical"}`,
                  value: 1,
                },
              ],
            },
            // 10m: the cause has just resolved (its group runs after the symptom's): the symptom was
            // never firing, so Alertmanager has nothing to send when the inhibition lifts.
            ...at([2, 5, 9, 10, 11, 12, 13, 14], false),
            ...at([20, 25], true),
          ],
        },
        {
          name: 'errors end with the outage: no page after recovery',
          interval: '1m',
          input_series: [
            { series: l('500'), values: '0+6x9 54x20' },
            { series: l('200'), values: '0+54x30' },
            { series: db, values: '0x9 1x20' },
          ],
          promql_expr_test: at([2, 5, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 25], false),
        },
        {
          name: 'without a cause the symptom pages as before',
          interval: '1m',
          input_series: [
            { series: l('500'), values: '0+6x30' },
            { series: l('200'), values: '0+54x30' },
            { series: db, values: '1x30' },
          ],
          promql_expr_test: at([5, 11, 20], true),
        },
      ],
    };
    const r = runPromtool(dir, ['test', 'rules', 'tests.yml'], {
      files: { 'rules.yml': files['prometheus/rules.yml'] as string, 'tests.yml': stringify(tests) },
    });
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});

describe('the handover from critical to warning (promtool)', () => {
  // 1m steps, 1 req/s, 10% answered 5xx until 9m, none after. The 5m error ratio falls below the
  // critical 5% at about 12m and below the warning 1% at about 14m: in between the warning's
  // condition still holds on the incident's own errors, which the critical already paged.
  const JOB = 'deia-bot-controller';
  const l = (status: string) =>
    `http_requests_total{job="${JOB}",instance="app:8000",method="GET",route="/api/bots",status="${status}"}`;
  const state = (severity: string, minutes: number[], firing: boolean) =>
    minutes.map((m) => ({
      expr: `ALERTS{alertname="HighErrorRate",alertstate="firing",severity="${severity}"}`,
      eval_time: `${m}m`,
      exp_samples: firing
        ? [
            {
              labels: `ALERTS{alertname="HighErrorRate",alertstate="firing",job="${JOB}",severity="${severity}"}`,
              value: 1,
            },
          ]
        : [],
    }));

  it('the critical is evaluated first; the warning fires under it (inhibited) and stays quiet after it resolves', () => {
    const { files } = generateOps({});
    const rules = parse(files['prometheus/rules.yml'] as string).groups.flatMap(
      (g: { rules: Array<{ alert?: string; labels?: { severity: string } }> }) => g.rules,
    ) as Array<{ alert?: string; labels?: { severity: string } }>;
    const at = (severity: string) =>
      rules.findIndex((r) => r.alert === 'HighErrorRate' && r.labels?.severity === severity);
    expect(at('critical')).toBeLessThan(at('warning'));
    const tests = {
      rule_files: ['rules.yml'],
      evaluation_interval: '1m',
      tests: [
        {
          name: 'errors stop at 9m: the critical resolves, the warning does not take over',
          interval: '1m',
          input_series: [
            { series: l('500'), values: '0+6x9 54x20' },
            { series: l('200'), values: '0+54x30' },
          ],
          promql_expr_test: [
            ...state('critical', [5, 9], true),
            ...state('warning', [7, 9], true),
            ...state('critical', [13, 14], false),
            // From 13m: promtool orders rule groups at random, so the alerts may read the 5m
            // ratio one evaluation late and the critical resolve at 12m or 13m.
            ...state('warning', [13, 14, 16, 20], false),
          ],
        },
        {
          name: 'errors drop to 2% and stay: the warning notifies once its window no longer holds the critical errors',
          interval: '1m',
          input_series: [
            { series: l('500'), values: '0+6x9 54+1.2x20' },
            { series: l('200'), values: '0+54x9 486+58.8x20' },
          ],
          promql_expr_test: [
            ...state('critical', [9], true),
            ...state('warning', [14], false),
            ...state('warning', [25], true),
          ],
        },
      ],
    };
    const r = runPromtool(dir, ['test', 'rules', 'tests.yml'], {
      files: { 'rules.yml': files['prometheus/rules.yml'] as string, 'tests.yml': stringify(tests) },
    });
    expect(r.out).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});

describe('incident annotations', () => {
  it('every dashboard marks the pages (critical ALERTS of the job, cluster when it has $cluster)', () => {
    const files = generateOps({ grafana: { clusterVariable: true } }).files;
    const dashboards = Object.entries(files).filter(([f]) => f.startsWith('grafana/dashboards/'));
    expect(dashboards.length).toBeGreaterThan(3);
    for (const [file, text] of dashboards) {
      const list = (JSON.parse(text) as { annotations: { list: Array<{ name: string; expr?: string }> } })
        .annotations.list;
      expect(list.find((a) => a.name === 'Incidents')?.expr, file).toBe(
        'ALERTS{alertstate="firing",severity="critical",job=~"$job",cluster=~"$cluster"}',
      );
    }
  });
});

describe('rejected uploads', () => {
  it('have a panel with optional.uploads only (no series exists until the application records one)', () => {
    const reads = (o: OpsOptions) =>
      (generateOps(o).files['grafana/dashboards/dependencies.json'] as string).includes(
        'file_upload_rejected_total',
      );
    expect(reads({})).toBe(false);
    expect(reads({ optional: { uploads: true } })).toBe(true);
  });
});
