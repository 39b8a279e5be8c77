// Builds the ops folder the test runs Prometheus and Alertmanager from: the generator's output
// (`generateOps` from @deia/ops) as is, with the test's targets, 1 s intervals, the webhook
// receiver, and time compressed through the generator's own options (`forScale`, `windowScale`,
// `windowFloor`, `alertmanager.groupWait` / `groupInterval`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateOps, type OpsOptions } from '@deia/ops';

export interface TestOpsOptions {
  dir: string;
  job: string;
  controllerTarget: string;
  alertmanagerTarget: string;
  webhookUrl: string;
  /**
   * Time compression: `for:` durations and every range selector and offset of the rules are
   * divided by it (`forScale` and `windowScale` = 1 / timeScale, windows never below 10 s so
   * `rate()` sees several 1 s scrapes), so an alert written for minutes fires and clears in seconds.
   */
  timeScale: number;
  /** Extra generator options (thresholds...), merged over the test's. */
  generatorOptions?: OpsOptions;
}

export interface TestOpsFiles {
  prometheusConfig: string;
  alertmanagerConfig: string;
  ruleFiles: string[];
  /** Every file written, relative path -> content. */
  files: Record<string, string>;
  /** The rule groups written to the rule files. */
  groups: ReturnType<typeof generateOps>['groups'];
}

const isAlertmanagerConfig = (text: string) => /^receivers:/m.test(text) && /^route:/m.test(text);
const isPrometheusConfig = (text: string) => /^scrape_configs:/m.test(text);
const isRuleFile = (text: string) => /^groups:/m.test(text) && /\b(alert|record):/.test(text);

export function writeTestOps(options: TestOpsOptions): TestOpsFiles {
  const generated = generateOps({
    job: options.job,
    forScale: 1 / options.timeScale,
    windowScale: 1 / options.timeScale,
    windowFloor: '10s',
    prometheus: {
      scrapeTargets: [options.controllerTarget],
      scrapeInterval: '1s',
      evaluationInterval: '1s',
      alertmanagers: [options.alertmanagerTarget],
    },
    // Notify within a second of a change; the default repeat intervals (>= 1h) never repeat
    // during the test. Symptoms wait for their causes by the scaled for: difference plus 5s (the
    // cause's and the symptom's conditions start a few evaluations apart).
    alertmanager: { webhookUrl: options.webhookUrl, groupWait: '1s', groupInterval: '1s', symptomWait: '5s' },
    ...options.generatorOptions,
  });
  let prometheusConfig: string | undefined;
  let alertmanagerConfig: string | undefined;
  const ruleFiles: string[] = [];
  for (const [relative, content] of Object.entries(generated.files)) {
    const target = join(options.dir, relative);
    if (/\.ya?ml$/.test(relative)) {
      if (isAlertmanagerConfig(content)) alertmanagerConfig = target;
      else if (isPrometheusConfig(content)) prometheusConfig = target;
      else if (isRuleFile(content)) ruleFiles.push(target);
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  if (prometheusConfig === undefined || alertmanagerConfig === undefined || ruleFiles.length === 0) {
    throw new Error(
      `generateOps output lacks a prometheus.yml, an Alertmanager config or rule files; got: ${Object.keys(generated.files).join(', ')}`,
    );
  }
  return {
    prometheusConfig,
    alertmanagerConfig,
    ruleFiles,
    files: generated.files,
    groups: generated.groups,
  };
}
