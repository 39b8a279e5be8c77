import { checkKeys, fail } from './options.js';
import type { OpsOptions, ResolvedOpsOptions } from './types.js';

/** `llmPricePer1kTokens`: one price for every token, or one for prompt and one for completion tokens. */
export function resolveLlmPrice(o: OpsOptions): ResolvedOpsOptions['llmPricePer1kTokens'] {
  const price = o.llmPricePer1kTokens;
  const isPrice = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (typeof price === 'number') {
    if (!isPrice(price))
      fail('llmPricePer1kTokens must be a non-negative number (US dollars per 1000 tokens).');
    return { prompt: price, completion: price };
  }
  if (price === undefined) return undefined;
  const pr = checkKeys('llmPricePer1kTokens', price, ['prompt', 'completion']);
  if (!isPrice(pr.prompt) || !isPrice(pr.completion))
    fail(
      'llmPricePer1kTokens needs both prompt and completion as non-negative numbers (US dollars per 1000 tokens).',
    );
  return { prompt: pr.prompt as number, completion: pr.completion as number };
}
