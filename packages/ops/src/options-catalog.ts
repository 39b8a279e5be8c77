import {
  CATALOG,
  DEFAULT_METRICS_OPTIONS,
  DeiaMetricsError,
  type MetricDefinition,
  type MetricGroup,
  validateDefinition,
} from '@deia/metrics';
import { closest } from './option-names.js';
import type { OpsOptions, ResolvedOpsOptions } from './types.js';

const fail = (message: string): never => {
  throw new DeiaMetricsError('DEIA_OPS_OPTIONS', message);
};

const checkKeys = (where: string, value: unknown, allowed: readonly string[]): Record<string, unknown> => {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return fail(`${where} must be an object.`);
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const near = closest(key, allowed);
    fail(
      `${where}.${key} is not a known option${near ? ` (did you mean "${near}"?)` : ''}; known: ${allowed.join(', ')}.`,
    );
  }
  return value as Record<string, unknown>;
};

/**
 * The options that mirror `createMetrics` (`groups`, `extraMetrics`) and the LLM token price,
 * validated the way `createMetrics` validates them.
 */
export function resolveCatalogOptions(
  o: OpsOptions,
  prefix: string,
): Pick<ResolvedOpsOptions, 'groups' | 'extraMetrics' | 'llmPricePer1kTokens'> {
  const knownGroups = DEFAULT_METRICS_OPTIONS.groups;
  let groups: MetricGroup[] = [...knownGroups];
  if (o.groups !== undefined) {
    if (!Array.isArray(o.groups))
      fail(`groups must be an array of metric groups (${knownGroups.join(', ')}).`);
    for (const g of o.groups as unknown[])
      if (!knownGroups.includes(g as MetricGroup))
        fail(`groups: unknown group "${String(g)}"; use some of: ${knownGroups.join(', ')}.`);
    groups = [...new Set(o.groups)];
  }
  const extraMetrics: MetricDefinition[] = [];
  if (o.extraMetrics !== undefined) {
    if (!Array.isArray(o.extraMetrics)) fail('extraMetrics must be an array of metric definitions.');
    for (const [i, def] of (o.extraMetrics as MetricDefinition[]).entries()) {
      try {
        validateDefinition(def, prefix);
      } catch (e) {
        fail(`extraMetrics[${i}]: ${(e as Error).message}`);
      }
      if (CATALOG.some((d) => d.name === def.name) || extraMetrics.some((d) => d.name === def.name))
        fail(`extraMetrics[${i}]: "${def.name}" is already defined (catalog or an earlier extra metric).`);
      extraMetrics.push(def);
    }
  }
  const price = o.llmPricePer1kTokens;
  const isPrice = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  let llmPricePer1kTokens: ResolvedOpsOptions['llmPricePer1kTokens'];
  if (typeof price === 'number') {
    if (!isPrice(price))
      fail('llmPricePer1kTokens must be a non-negative number (US dollars per 1000 tokens).');
    llmPricePer1kTokens = { prompt: price, completion: price };
  } else if (price !== undefined) {
    const pr = checkKeys('llmPricePer1kTokens', price, ['prompt', 'completion']);
    if (!isPrice(pr.prompt) || !isPrice(pr.completion))
      fail(
        'llmPricePer1kTokens needs both prompt and completion as non-negative numbers (US dollars per 1000 tokens).',
      );
    llmPricePer1kTokens = { prompt: pr.prompt as number, completion: pr.completion as number };
  }
  return { groups, extraMetrics, llmPricePer1kTokens };
}
