import { checkKeys, fail, ratio } from './options.js';
import type { OpsOptions, ResolvedOpsOptions } from './types.js';

/**
 * Resolves `ttfcSlo`. The threshold selects a bucket by its `le` label, so the rules check it against
 * the registered buckets of `gen_ai_client_operation_time_to_first_chunk_seconds` (rules-genai.ts).
 */
export function resolveTtfcSlo(
  value: OpsOptions['ttfcSlo'],
  defaults: ResolvedOpsOptions['ttfcSlo'],
): ResolvedOpsOptions['ttfcSlo'] {
  const t = checkKeys('ttfcSlo', value, ['target', 'thresholdSeconds']);
  const slo = {
    target: ratio('ttfcSlo.target', t.target, defaults.target),
    thresholdSeconds: (t.thresholdSeconds as number | undefined) ?? defaults.thresholdSeconds,
  };
  if (typeof slo.thresholdSeconds !== 'number' || !(slo.thresholdSeconds > 0))
    fail(
      'ttfcSlo.thresholdSeconds must be a positive number, a bucket bound of gen_ai_client_operation_time_to_first_chunk_seconds (e.g. 1).',
    );
  return slo;
}
