import { checkOptions, describeValue, type OptionRule, type OptionsSchema, rules } from '@deia/options';
import { loadPromClient, noteClient } from './client.js';
import { DeiaMetricsError } from './errors.js';
import type { MetricGroup, MetricsLogger, MetricsOptions, PromClientModule, RegistryLike } from './types.js';

/** Defaults of `createMetrics`. */
export const DEFAULT_METRICS_OPTIONS = {
  prefix: '',
  defaultLabels: {},
  groups: [
    'http',
    'process',
    'bots',
    'tasks',
    'database',
    'cache',
    'llm',
    'dependencies',
    'connections',
    'health',
    'tracing',
  ] as readonly MetricGroup[],
  defaultMetrics: true,
  maxLabelValues: 100,
  maxSeriesPerMetric: 1000,
} as const;

const PREFIX_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const fail = (message: string): never => {
  throw new DeiaMetricsError('DEIA_METRICS_OPTIONS', message);
};
const GROUPS: readonly string[] = DEFAULT_METRICS_OPTIONS.groups;

/** The options of `createMetrics`, declared once (see `checkOptions`). */
const METRICS_OPTIONS_SCHEMA = {
  registry: rules.methods(['getSingleMetric', 'metrics', 'registerMetric'], 'a prom-client Registry'),
  client: rules.methods(
    ['Registry', 'Counter', 'Gauge', 'Histogram'],
    "the prom-client module (import * as client from 'prom-client') or @prometheus-io/client",
  ),
  prefix: {
    must: 'a metric name prefix',
    ok: (p) =>
      (typeof p === 'string' && PREFIX_RE.test(p)) ||
      `prefix ${describeValue(p)} is not a valid metric name prefix; use letters, digits and '_' (e.g. "deia_").`,
  },
  defaultLabels: rules.recordOf(
    (v, k) => LABEL_RE.test(k) && typeof v === 'string',
    `an object of label name -> string value (names match ${LABEL_RE})`,
  ),
  groups: {
    must: `a list of groups (${GROUPS.join(', ')})`,
    ok: (g) => {
      if (!Array.isArray(g)) return false;
      const bad = g.find((x) => !GROUPS.includes(x));
      return bad === undefined || `unknown group "${String(bad)}"; use some of: ${GROUPS.join(', ')}.`;
    },
  },
  buckets: rules.recordOf(Array.isArray, 'an object of histogram name -> bucket list'),
  nativeHistograms: {
    must: 'true, false or an object of native-histogram settings',
    ok: (v) => typeof v === 'boolean' || (v !== null && typeof v === 'object' && !Array.isArray(v)),
  },
  nativeHistogramsFor: rules.recordOf(
    (v) => typeof v === 'boolean' || (v !== null && typeof v === 'object' && !Array.isArray(v)),
    'an object of histogram name -> true, false or native-histogram settings',
  ),
  extraMetrics: rules.arrayOf(
    (d) => d !== null && typeof d === 'object',
    'an array of metric definitions (the catalog format)',
  ),
  defaultMetrics: rules.boolean(),
  buildInfo: {
    must: 'an object { version?: string, commit?: string }',
    ok: (b) =>
      b !== null &&
      typeof b === 'object' &&
      Object.entries(b).every(([k, v]) => (k === 'version' || k === 'commit') && typeof v === 'string'),
  },
  maxLabelValues: rules.number('a positive integer', { min: 1, integer: true }),
  exemplars: rules.function('a function returning exemplar labels'),
  warn: rules.function('a function (message: string) => void'),
  logger: rules.methods(['warn'], 'pino-compatible: an object with warn(obj, msg)'),
  maxSeriesPerMetric: rules.number('a positive integer', { min: 1, integer: true }),
  seriesTtlSeconds: rules.number('a positive number of seconds', { min: 0, exclusive: true }),
} as const satisfies OptionsSchema & Record<keyof MetricsOptions, OptionRule>;

/** `createMetrics` options checked, with defaults applied, the client loaded and the registry chosen. */
export interface ResolvedMetricsOptions {
  readonly warn: (message: string) => void;
  /** Structured warnings: `logger.warn(fields, msg)` when a logger is given, else `warn(msg)`. */
  readonly log: (fields: object, message: string) => void;
  readonly logger: MetricsLogger | undefined;
  readonly maxSeriesPerMetric: number;
  readonly seriesTtlSeconds: number | undefined;
  readonly prefix: string;
  readonly client: PromClientModule;
  readonly registry: RegistryLike;
  readonly groups: ReadonlySet<MetricGroup>;
  readonly defaultLabels: Record<string, string>;
  readonly maxLabelValues: number;
  readonly defaultMetrics: boolean;
  /** The options with defaults applied, for the comparison on a second call (see `metrics-reuse.ts`). */
  readonly settings: Record<string, unknown>;
}

/**
 * Checks `createMetrics` options (throwing `DEIA_METRICS_OPTIONS`) and applies the defaults. Loads
 * the client module when none is given and creates the registry when none is given (an OpenMetrics
 * one with `exemplars`); both may warn through `warn`.
 */
export function resolveMetricsOptions(options: MetricsOptions): ResolvedMetricsOptions {
  checkOptions('createMetrics', options, METRICS_OPTIONS_SCHEMA, fail);
  const logger = options.logger;
  const warn =
    options.warn ??
    (logger
      ? (message: string) => logger.warn({}, message)
      : (message: string) => process.emitWarning(message, 'DeiaMetricsWarning'));
  const log =
    options.warn === undefined && logger
      ? (fields: object, message: string) => logger.warn(fields, message)
      : (_fields: object, message: string) => warn(message);
  const prefix = options.prefix ?? DEFAULT_METRICS_OPTIONS.prefix;
  const client = options.client ?? loadPromClient(warn);
  if (options.client) noteClient(options.client, 'client option', warn);
  const openMetrics = client.Registry.OPENMETRICS_CONTENT_TYPE;
  const RegistryCtor = client.Registry as unknown as new (contentType?: string) => RegistryLike;
  const registry = options.registry ?? new RegistryCtor(options.exemplars ? openMetrics : undefined);
  if (options.exemplars && (registry.contentType as string) !== openMetrics) {
    fail(
      `exemplars need an OpenMetrics registry: create it with new Registry(Registry.OPENMETRICS_CONTENT_TYPE), or omit registry.`,
    );
  }
  const groups = new Set(options.groups ?? DEFAULT_METRICS_OPTIONS.groups);
  const defaultLabels = options.defaultLabels ?? {};
  const maxLabelValues = options.maxLabelValues ?? DEFAULT_METRICS_OPTIONS.maxLabelValues;
  const defaultMetrics = options.defaultMetrics ?? DEFAULT_METRICS_OPTIONS.defaultMetrics;
  const maxSeriesPerMetric = options.maxSeriesPerMetric ?? DEFAULT_METRICS_OPTIONS.maxSeriesPerMetric;
  const seriesTtlSeconds = options.seriesTtlSeconds;
  const settings: Record<string, unknown> = {
    client,
    defaultLabels,
    groups: [...groups].sort(),
    buckets: options.buckets ?? {},
    nativeHistograms: options.nativeHistograms ?? false,
    nativeHistogramsFor: options.nativeHistogramsFor ?? {},
    extraMetrics: options.extraMetrics ?? [],
    defaultMetrics,
    buildInfo: options.buildInfo ?? {},
    maxLabelValues,
    exemplars: options.exemplars,
    maxSeriesPerMetric,
    seriesTtlSeconds,
  };
  return {
    warn,
    log,
    logger,
    maxSeriesPerMetric,
    seriesTtlSeconds,
    prefix,
    client,
    registry,
    groups,
    defaultLabels,
    maxLabelValues,
    defaultMetrics,
    settings,
  };
}
