import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { AlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig';
import { Route } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/Route';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import {
  buildAlertmanagerConfig,
  generateKubernetes,
  generateOps,
  type KubernetesResource,
  type OpsOptions,
  runCli,
  writeOps,
} from '../src/index.js';
import { toAlertmanagerConfigSpec, toMatcher } from '../src/kubernetes.js';
import { resolveOpsOptions } from '../src/resolve-options.js';
import { expectOpsError } from './ops-error.js';
import { runPromtool } from './promtool.js';

const JOB = 'deia-bot-controller';
/** alertmanager.yml as the tests below edit it. */
type AmConfig = {
  global: Record<string, unknown>;
  route: { routes: Array<Record<string, unknown>> };
  inhibit_rules: Array<Record<string, unknown>>;
  receivers: Array<Record<string, unknown>>;
  [key: string]: unknown;
};
const dir = mkdtempSync(join(tmpdir(), 'deia-ops-k8s-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Validatable = { validate(): void };
const MODELS: Record<string, new (data: never) => Validatable> = {
  PrometheusRule,
  ServiceMonitor,
  PodMonitor,
  AlertmanagerConfig,
  ConfigMap,
};

/** Validates one resource against its schema; AlertmanagerConfig child routes (schemaless JSON in the CRD) as Routes. */
function validate(resource: KubernetesResource): void {
  const Model = MODELS[resource.kind];
  if (!Model) throw new Error(`no schema for kind ${resource.kind}`);
  new Model(structuredClone(resource) as never).validate();
  if (resource.kind === 'AlertmanagerConfig') {
    const walk = (route: Record<string, unknown>) => {
      for (const child of (route.routes as Record<string, unknown>[] | undefined) ?? []) {
        new Route(structuredClone(child) as never).validate();
        walk(child);
      }
    };
    walk(resource.spec?.route as Record<string, unknown>);
  }
}

/** The resources as written to disk (the YAML), not the in-memory objects. */
function parsedFiles(files: Record<string, string>): Map<string, KubernetesResource> {
  const out = new Map<string, KubernetesResource>();
  for (const [name, text] of Object.entries(files)) {
    if (name === 'kustomization.yaml') continue;
    const docs = parseAllDocuments(text);
    expect(docs, name).toHaveLength(1);
    out.set(name, docs[0]?.toJS() as KubernetesResource);
  }
  return out;
}

const VARIANTS: Array<[string, OpsOptions]> = [
  ['defaults', {}],
  [
    'podMonitor, custom labels, token, every optional rule',
    {
      job: 'bots',
      prefix: 'deia_',
      optional: { auth: true, websocket: true, botResources: true, uploads: true },
      nodeExporter: { enabled: true },
      postgresExporter: { enabled: true, kubernetes: { matchLabels: { app: 'pg-exporter' }, port: 'http' } },
      redisExporter: { enabled: true, job: 'cache' },
      grafana: { url: 'https://grafana.example.com', clusterVariable: true },
      kubernetes: {
        namespace: 'bots-prod',
        release: 'monitoring',
        labels: { team: 'platform' },
        monitor: 'podMonitor',
        matchLabels: { app: 'bots', 'app.kubernetes.io/component': 'controller' },
        port: 'http-metrics',
        metricsPath: '/internal/metrics',
        scrapeInterval: '30s',
        secrets: { metricsToken: { name: 'bots-metrics', key: 'token' } },
        dashboardLabel: { name: 'grafana_dashboard', value: 'deia' },
      },
    },
  ],
  [
    'webhook receivers, no release label',
    { alertmanager: { webhookUrl: 'http://127.0.0.1:19100/hook' }, kubernetes: { release: false } },
  ],
];

describe('every emitted resource validates against its CRD schema', () => {
  for (const [name, options] of VARIANTS) {
    it(name, () => {
      const out = generateKubernetes(options);
      const kinds = out.resources.map((r) => r.kind);
      expect(kinds).toContain('PrometheusRule');
      expect(kinds).toContain('AlertmanagerConfig');
      // The service's monitor, and one ServiceMonitor per enabled exporter.
      const exporters = [options.postgresExporter, options.redisExporter].filter((e) => e?.enabled).length;
      expect(kinds.filter((k) => k === 'ServiceMonitor' || k === 'PodMonitor')).toHaveLength(1 + exporters);
      expect(kinds.filter((k) => k === 'ConfigMap').length).toBeGreaterThanOrEqual(6);
      for (const r of out.resources) validate(r);
      // What lands on disk validates too, and is the same object.
      const disk = parsedFiles(out.files);
      expect([...disk.values()]).toEqual(out.resources);
      for (const r of disk.values()) validate(r);
      // kustomization.yaml lists exactly the other files.
      expect(parse(out.files['kustomization.yaml'] as string).resources.sort()).toEqual(
        [...disk.keys()].sort(),
      );
    });
  }

  it('carries namespace, release and the sidecar label where kube-prometheus-stack looks', () => {
    const out = generateKubernetes(VARIANTS[1]?.[1]);
    for (const r of out.resources) {
      expect(r.metadata.namespace).toBe('bots-prod');
      expect(r.metadata.labels).toMatchObject({ release: 'monitoring', team: 'platform' });
    }
    const monitor = out.resources.find((r) => r.kind === 'PodMonitor');
    expect(monitor?.spec).toEqual({
      selector: { matchLabels: { app: 'bots', 'app.kubernetes.io/component': 'controller' } },
      namespaceSelector: { matchNames: ['bots-prod'] },
      podMetricsEndpoints: [
        {
          port: 'http-metrics',
          path: '/internal/metrics',
          interval: '30s',
          relabelings: [{ action: 'replace', targetLabel: 'job', replacement: 'bots' }],
          authorization: { type: 'Bearer', credentials: { name: 'bots-metrics', key: 'token' } },
        },
      ],
    });
    const dashboards = out.resources.filter((r) => r.kind === 'ConfigMap');
    for (const d of dashboards) {
      expect(d.metadata.labels.grafana_dashboard).toBe('deia');
      const [file, json] = Object.entries(d.data ?? {})[0] ?? [];
      expect(file).toMatch(/\.json$/);
      expect(JSON.parse(json as string).uid).toMatch(/^deia-/);
    }
    const defaults = generateKubernetes();
    expect(defaults.resources.every((r) => r.metadata.labels.release === 'kube-prometheus-stack')).toBe(true);
    expect(defaults.resources.find((r) => r.kind === 'ServiceMonitor')?.spec?.endpoints).toBeDefined();
    const noRelease = generateKubernetes(VARIANTS[2]?.[1]);
    expect(noRelease.resources.every((r) => !('release' in r.metadata.labels))).toBe(true);
  });
});

describe('validation can fail', () => {
  const out = generateKubernetes();
  const find = (kind: string) =>
    structuredClone(out.resources.find((r) => r.kind === kind)) as KubernetesResource;
  it.each([
    [
      'a rule whose for: is not a duration',
      () => {
        const r = find('PrometheusRule');
        const groups = r.spec?.groups as Array<{ rules: Array<Record<string, unknown>> }>;
        (groups[3]?.rules[1] as Record<string, unknown>).for = '5 minutes';
        return r;
      },
      /for must match pattern/,
    ],
    [
      'a scrape interval that is not a duration',
      () => {
        const r = find('ServiceMonitor');
        (r.spec!.endpoints as Array<Record<string, unknown>>)[0]!.interval = '15 seconds';
        return r;
      },
      /interval must match pattern/,
    ],
    [
      'a Slack URL inlined instead of a Secret reference',
      () => {
        const r = find('AlertmanagerConfig');
        const receivers = r.spec?.receivers as Array<{ slackConfigs: Array<Record<string, unknown>> }>;
        receivers[0]!.slackConfigs[0]!.apiURL = 'https://hooks.slack.com/services/T000/B000/XXXX';
        return r;
      },
      /apiURL must be object/,
    ],
    [
      'a child route with a matcher type Alertmanager does not have',
      () => {
        const r = find('AlertmanagerConfig');
        const routes = (r.spec!.route as { routes: Array<{ matchers: Array<Record<string, unknown>> }> })
          .routes;
        routes[0]!.matchers[0]!.matchType = '==';
        return r;
      },
      /matchType must be equal to one of the allowed values/,
    ],
    [
      'a ConfigMap whose data is not a string',
      () => {
        const r = find('ConfigMap');
        (r as unknown as { data: Record<string, unknown> }).data = { 'x.json': { nested: true } };
        return r;
      },
      /must be string/,
    ],
    [
      'a wrong apiVersion',
      () => ({ ...find('PrometheusRule'), apiVersion: 'monitoring.coreos.com/v2' }),
      /apiVersion must be equal to one of the allowed values/,
    ],
  ])('%s', (_, make, message) => {
    expect(() => validate(make())).toThrow(message);
  });
});

function promtool(args: string[]) {
  const { status, out } = runPromtool(dir, args, { timeoutMs: 60_000 });
  return { code: status, out };
}

/** The rule groups extracted from the PrometheusRule manifest as written. */
const groupsOf = (files: Record<string, string>) =>
  (parse(files['prometheus-rule.yaml'] as string) as KubernetesResource).spec?.groups as Array<{
    name: string;
    rules: Array<Record<string, unknown>>;
  }>;

describe('the PrometheusRule groups', () => {
  it('are the rules.yml groups with namespace kept like an aggregateBy label, scoped to the namespace, every alert labelled with it', () => {
    const k8s = groupsOf(generateKubernetes({ kubernetes: { namespace: 'prod' } }).files);
    const files = parse(
      generateOps({ selector: `job="${JOB}",namespace="prod"`, aggregateBy: ['namespace'] }).files[
        'prometheus/rules.yml'
      ] as string,
    ).groups as typeof k8s;
    expect(k8s.map((g) => g.name)).toEqual(files.map((g) => g.name));
    for (const [i, g] of k8s.entries()) {
      expect(g.rules).toEqual(
        files[i]?.rules.map((r) =>
          'alert' in r ? { ...r, labels: { ...(r.labels as object), namespace: 'prod' } } : r,
        ),
      );
    }
    // Not scoped: rules.yml by namespace (no namespace to label the alerts with).
    const unscoped = groupsOf(generateKubernetes({ kubernetes: { scopeRulesToNamespace: false } }).files);
    expect(unscoped).toEqual(
      parse(generateOps({ aggregateBy: ['namespace'] }).files['prometheus/rules.yml'] as string).groups,
    );
    // aggregateBy given with namespace already: not twice.
    const both = groupsOf(generateKubernetes({ aggregateBy: ['cluster', 'namespace'] }).files);
    expect(JSON.stringify(both)).toContain('by (cluster, namespace, job)');
  });

  it.each(VARIANTS)('pass promtool check rules (%s)', (name, options) => {
    const file = `check-${name.replace(/\W+/g, '-')}.yml`;
    writeFileSync(join(dir, file), stringify({ groups: groupsOf(generateKubernetes(options).files) }));
    const r = promtool(['check', 'rules', file]);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  // Two replicas of one job as the Operator labels them (namespace, pod, instance = pod IP),
  // one answering 5xx, a third pod hung, and the same job in another namespace failing hard.
  it('page once per job for ratios and once per pod for per-instance alerts (promtool test rules)', () => {
    const target = (pod: string, ns = 'prod') => ({
      job: JOB,
      namespace: ns,
      pod,
      instance: `10.0.0.${pod.charCodeAt(pod.length - 1) - 96}:8000`,
      service: JOB,
      endpoint: 'metrics',
    });
    const s = (name: string, labels: Record<string, string>, values: string) => ({
      series: `${name}{${Object.entries(labels)
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')}}`,
      values,
    });
    const req = (pod: string, status: string, values: string, ns?: string) =>
      s('http_requests_total', { ...target(pod, ns), method: 'GET', route: '/api/bots', status }, values);
    writeFileSync(
      join(dir, 'replicas.rules.yml'),
      stringify({ groups: groupsOf(generateKubernetes({ kubernetes: { namespace: 'prod' } }).files) }),
    );
    const firing = (alertname: string, severity: string, labels: Record<string, string>) => ({
      labels: `ALERTS{${Object.entries({
        alertname,
        alertstate: 'firing',
        severity,
        namespace: 'prod',
        ...labels,
      })
        .map(([k, v]) => `${k}="${v}"`)
        .join(',')}}`,
      value: 1,
    });
    const { namespace: _, ...podC } = target('pod-c');
    const { namespace: __, ...podA } = target('pod-a');
    writeFileSync(
      join(dir, 'replicas.test.yml'),
      stringify({
        rule_files: ['replicas.rules.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              // pod-a: 1 req/s, all 200. pod-b: 1 req/s 200 + 0.2 req/s 500 -> job ratio 0.2 / 2.2.
              req('pod-a', '200', '0+60x30'),
              req('pod-b', '200', '0+60x30'),
              req('pod-b', '500', '0+12x30'),
              // staging: same job name, 10 req/s of 500s; must not count (other namespace).
              req('pod-a', '500', '0+600x30', 'staging'),
              s('up', target('pod-a'), '1x30'),
              s('up', target('pod-b'), '1x30'),
              s('up', target('pod-c'), '0x30'),
              s('up', target('pod-z', 'staging'), '0x30'),
              s('process_resident_memory_bytes', target('pod-a'), '2e9x30'),
              s('process_resident_memory_bytes', target('pod-b'), '1e8x30'),
            ],
            promql_expr_test: [
              {
                expr: 'job:http_request_errors:ratio_rate5m',
                eval_time: '20m',
                exp_samples: [
                  {
                    labels: `job:http_request_errors:ratio_rate5m{job="${JOB}",namespace="prod"}`,
                    value: 0.2 / 2.2,
                  },
                ],
              },
              {
                expr: 'ALERTS{alertstate="firing",alertname=~"HighErrorRate|ServiceDown|HighMemoryUsage|TargetMissing"}',
                eval_time: '20m',
                exp_samples: [
                  firing('HighErrorRate', 'warning', { job: JOB }),
                  firing('HighErrorRate', 'critical', { job: JOB }),
                  firing('ServiceDown', 'critical', podC),
                  firing('HighMemoryUsage', 'warning', podA),
                  firing('HighMemoryUsage', 'critical', podA),
                ],
              },
            ],
          },
        ],
      }),
    );
    const r = promtool(['test', 'rules', 'replicas.test.yml']);
    expect(r.out).toContain('SUCCESS');
  });
});

describe('one job in two namespaces of one Prometheus', () => {
  // Each namespace has its own PrometheusRule (same record names); one Prometheus evaluates both.
  // prod answers no 5xx (no alert), staging 50% (pages). Without namespace in the recording
  // rules both would write the same series (duplicate samples) and prod's alerts would read
  // staging's ratio, labelled namespace="prod".
  const target = (ns: string) =>
    `job="${JOB}",namespace="${ns}",pod="p-${ns}",instance="10.0.${ns.length}.1:8000",method="GET",route="/api/bots"`;
  const alerts = (ns: string, name: string, severities: string[]) =>
    severities.map((severity) => ({
      labels: `ALERTS{alertname="${name}",alertstate="firing",job="${JOB}",namespace="${ns}",severity="${severity}"}`,
      value: 1,
    }));

  it('record one series per namespace and each namespace alerts on its own (promtool test rules)', () => {
    for (const ns of ['prod', 'staging'])
      writeFileSync(
        join(dir, `ns-${ns}.rules.yml`),
        stringify({ groups: groupsOf(generateKubernetes({ kubernetes: { namespace: ns } }).files) }),
      );
    writeFileSync(
      join(dir, 'ns.test.yml'),
      stringify({
        rule_files: ['ns-prod.rules.yml', 'ns-staging.rules.yml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              { series: `http_requests_total{${target('prod')},status="200"}`, values: '0+600x30' },
              { series: `http_requests_total{${target('prod')},status="500"}`, values: '0x30' },
              { series: `http_requests_total{${target('staging')},status="200"}`, values: '0+60x30' },
              { series: `http_requests_total{${target('staging')},status="500"}`, values: '0+60x30' },
            ],
            promql_expr_test: [
              {
                expr: 'job:http_request_errors:ratio_rate5m',
                eval_time: '20m',
                exp_samples: [
                  {
                    labels: `job:http_request_errors:ratio_rate5m{job="${JOB}",namespace="prod"}`,
                    value: 0,
                  },
                  {
                    labels: `job:http_request_errors:ratio_rate5m{job="${JOB}",namespace="staging"}`,
                    value: 0.5,
                  },
                ],
              },
              {
                expr: 'count(job:http_request_errors:ratio_rate1h)',
                eval_time: '20m',
                exp_samples: [{ labels: '{}', value: 2 }],
              },
              {
                expr: 'ALERTS{alertstate="firing",alertname=~"HighErrorRate|AvailabilityBudgetBurn"}',
                eval_time: '20m',
                exp_samples: [
                  ...alerts('staging', 'HighErrorRate', ['warning', 'critical']),
                  ...alerts('staging', 'AvailabilityBudgetBurn', ['warning', 'critical']),
                ],
              },
            ],
          },
        ],
      }),
    );
    const r = promtool(['test', 'rules', 'ns.test.yml']);
    expect(r.out).not.toMatch(/duplicate sample/i);
    expect(r.out).toContain('SUCCESS');
  });

  it('group notifications by namespace (one per namespace and alert)', () => {
    const spec = generateKubernetes({ aggregateBy: ['cluster'] }).resources.find(
      (r) => r.kind === 'AlertmanagerConfig',
    )?.spec as { route: { groupBy: string[] } };
    expect(spec.route.groupBy).toEqual(['alertname', 'job', 'severity', 'cluster', 'namespace']);
  });
});

describe('credentials', () => {
  const SECRET_FIELDS = [
    'apiURL',
    'routingKey',
    'serviceKey',
    'authPassword',
    'authSecret',
    'credentials',
    'urlSecret',
  ];
  it('are Secret key references, never values or file paths', () => {
    const options: OpsOptions = {
      kubernetes: {
        secrets: {
          slackApiUrl: { name: 'slack', key: 'url' },
          pagerdutyRoutingKey: { name: 'pd', key: 'routing-key' },
          smtpPassword: { name: 'smtp', key: 'password' },
          metricsToken: { name: 'scrape', key: 'token' },
        },
      },
    };
    const out = generateKubernetes(options);
    const refs: Array<[string, unknown]> = [];
    const walk = (v: unknown, path: string) => {
      if (Array.isArray(v)) {
        for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
      } else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          expect(k, `${path}.${k}`).not.toMatch(/File$|_file$/);
          if (SECRET_FIELDS.includes(k)) refs.push([`${path}.${k}`, x]);
          else walk(x, `${path}.${k}`);
        }
    };
    for (const r of out.resources) if (r.kind !== 'ConfigMap') walk(r, r.kind);
    const byField = (f: string) => refs.filter(([p]) => p.endsWith(`.${f}`)).map(([, x]) => x);
    expect(byField('apiURL')).toEqual(Array(3).fill({ name: 'slack', key: 'url' }));
    expect(byField('routingKey')).toEqual([{ name: 'pd', key: 'routing-key' }]);
    expect(byField('authPassword')).toEqual([{ name: 'smtp', key: 'password' }]);
    expect(byField('credentials')).toEqual([{ name: 'scrape', key: 'token' }]);
    const text = Object.values(out.files).join('\n');
    expect(text).not.toMatch(/\/etc\/alertmanager\/secrets|hooks\.slack\.com|_file:/);
  });

  it('a field the translation does not know is an error, not dropped', () => {
    // What generateKubernetes resolves: namespace kept like an aggregateBy label, rules scoped to it.
    const o = resolveOpsOptions({ aggregateBy: ['namespace'], selector: `job="${JOB}",namespace="default"` });
    const am = () => structuredClone(buildAlertmanagerConfig(o)) as unknown as AmConfig;
    const secrets = o.kubernetes.secrets;
    expect(toAlertmanagerConfigSpec(am(), secrets)).toEqual(
      generateKubernetes().resources.find((r) => r.kind === 'AlertmanagerConfig')?.spec,
    );
    const withReceiverField = am();
    withReceiverField.receivers[0]!.opsgenie_configs = [{ api_key_file: '/x' }];
    const untranslatable = (config: AmConfig, message: RegExp) =>
      expectOpsError(() => toAlertmanagerConfigSpec(config, secrets), 'DEIA_OPS_KUBERNETES', message);
    untranslatable(
      withReceiverField,
      /receivers\[0\]\.opsgenie_configs has no AlertmanagerConfig translation/,
    );
    const withRouteField = am();
    withRouteField.route.routes[1]!.mute_time_intervals = ['weekend'];
    untranslatable(withRouteField, /route\.routes\[1\]\.mute_time_intervals/);
    const withGlobal = am();
    withGlobal.global.opsgenie_api_key_file = '/x';
    untranslatable(withGlobal, /global\.opsgenie_api_key_file/);
    const withTop = am();
    withTop.templates = ['/etc/alertmanager/*.tmpl'];
    untranslatable(withTop, /alertmanager\.yml\.templates/);
    const badMatcher = am();
    badMatcher.inhibit_rules[0]!.source_matchers = ['severity=critical'];
    untranslatable(badMatcher, /cannot translate the Alertmanager matcher/);
  });

  it('matchers keep their operator and unescape their value', () => {
    expect(toMatcher('alertname!="ServiceDown"')).toEqual({
      name: 'alertname',
      matchType: '!=',
      value: 'ServiceDown',
    });
    expect(toMatcher('dependency=~"ollama|llm"')).toEqual({
      name: 'dependency',
      matchType: '=~',
      value: 'ollama|llm',
    });
    expect(toMatcher('x!~"a\\"b"')).toEqual({ name: 'x', matchType: '!~', value: 'a"b' });
  });
});

describe('options', () => {
  it.each([
    [
      { kubernetes: { namspace: 'x' } },
      /kubernetes: unknown option "namspace" \(did you mean "namespace"\?\)/,
    ],
    [{ kubernetes: { secrets: { slackApiURL: { name: 'a', key: 'b' } } } }, /did you mean "slackApiUrl"/],
    [{ kubernetes: { namespace: 'Prod' } }, /kubernetes\.namespace "Prod" must be a DNS-1123 label/],
    [
      { kubernetes: { monitor: 'serviceMonitors' } },
      /kubernetes\.monitor must be "serviceMonitor" or "podMonitor"/,
    ],
    [{ kubernetes: { matchLabels: {} } }, /must not be empty/],
    [{ kubernetes: { matchLabels: { app: 'a b' } } }, /not a valid Kubernetes label value/],
    [{ kubernetes: { labels: { '-bad': 'x' } } }, /not a valid Kubernetes label key/],
    [{ kubernetes: { port: '8080' } }, /must be the name of the port/],
    [{ kubernetes: { scrapeInterval: '15 s' } }, /not a Prometheus duration/],
    [{ kubernetes: { metricsPath: 'metrics' } }, /must start with "\/"/],
    [{ kubernetes: { secrets: { smtpPassword: { name: 'Smtp', key: 'p' } } } }, /not a valid Secret name/],
    [{ kubernetes: { secrets: { metricsToken: { name: 'a' } } } }, /metricsToken needs both name and key/],
    [{ kubernetes: { dashboardLabel: { value: 'a b' } } }, /not a valid Kubernetes label value/],
    [
      { kubernets: { namespace: 'x' } } as OpsOptions,
      /options: unknown option "kubernets" \(did you mean "kubernetes"\?\)/,
    ],
  ] as Array<[OpsOptions, RegExp]>)('rejects %j with a coded error', (options, message) => {
    expectOpsError(() => generateKubernetes(options), 'DEIA_OPS_OPTIONS', message);
  });

  it('a job that cannot name Kubernetes resources needs kubernetes.name (the file target does not care)', () => {
    expectOpsError(
      () => generateKubernetes({ job: 'Bot Controller' }),
      'DEIA_OPS_OPTIONS',
      /"Bot Controller" is not a valid Kubernetes resource name \(it defaults to the job\); set kubernetes\.name/,
    );
    expect(generateOps({ job: 'Bot Controller' }).files['prometheus/rules.yml']).toContain(
      'job="Bot Controller"',
    );
  });

  it('a non-DNS job is fine with kubernetes.name, and the rules still select the job', () => {
    const out = generateKubernetes({ job: 'Bot Controller', kubernetes: { name: 'bot-controller' } });
    expect(out.resources.every((r) => r.metadata.name.startsWith('bot-controller'))).toBe(true);
    expect(out.groups[0]?.rules[0]?.expr).toContain('{job="Bot Controller",namespace="default"}');
    for (const r of out.resources) validate(r);
  });

  it('the file target ignores the kubernetes options but still validates them', () => {
    expect(generateOps({ kubernetes: { namespace: 'prod' } }).files['prometheus/rules.yml']).toBe(
      generateOps().files['prometheus/rules.yml'],
    );
    expectOpsError(
      () => generateOps({ kubernetes: { nope: 1 } as never }),
      'DEIA_OPS_OPTIONS',
      /kubernetes: unknown option "nope"/,
    );
  });
});

describe('CLI --target kubernetes', () => {
  it('writes the manifests; --target files stays the default', () => {
    const cfg = join(dir, 'ops.config.json');
    writeFileSync(cfg, JSON.stringify({ kubernetes: { namespace: 'prod', monitor: 'podMonitor' } }));
    const out: string[] = [];
    const k8sDir = join(dir, 'k8s');
    expect(
      runCli(['generate', '--out', k8sDir, '--config', cfg, '--target', 'kubernetes'], (s) => out.push(s)),
    ).toBe(0);
    const written = readdirSync(k8sDir).sort();
    expect(written).toEqual(
      Object.keys(
        generateKubernetes({ kubernetes: { namespace: 'prod', monitor: 'podMonitor' } }).files,
      ).sort(),
    );
    expect(written).toContain('pod-monitor.yaml');
    expect(out.join('\n')).toContain(`wrote ${written.length} files`);
    for (const f of written.filter((f) => f !== 'kustomization.yaml')) {
      const r = parse(readFileSync(join(k8sDir, f), 'utf8')) as KubernetesResource;
      expect(r.metadata.namespace).toBe('prod');
      validate(r);
    }
    const filesDir = join(dir, 'files');
    expect(runCli(['generate', '-o', filesDir], () => {})).toBe(0);
    expect(existsSync(join(filesDir, 'prometheus/rules.yml'))).toBe(true);
    expect(existsSync(join(filesDir, 'prometheus-rule.yaml'))).toBe(false);
  });

  it('rejects an unknown target and bad kubernetes options', () => {
    const err: string[] = [];
    expect(
      runCli(
        ['generate', '-o', join(dir, 'x'), '--target', 'helm'],
        () => {},
        (s) => err.push(s),
      ),
    ).toBe(2);
    expect(err.join('\n')).toMatch(/--target must be "files" or "kubernetes", got "helm"/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    const cfg = join(dir, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ kubernetes: { relase: 'x' } }));
    expect(
      runCli(
        ['generate', '-o', join(dir, 'y'), '-c', cfg, '-t', 'kubernetes'],
        () => {},
        (s) => err.push(s),
      ),
    ).toBe(1);
    expect(err.join('\n')).toMatch(/did you mean "release"/);
    expectOpsError(() => writeOps(join(dir, 'z'), {}, 'helm' as never), 'DEIA_OPS_OPTIONS', /target must be/);
  });
});
