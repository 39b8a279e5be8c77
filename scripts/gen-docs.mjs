// Regenerates docs/metrics.md from the built @deia/metrics catalog (run `pnpm build` first).
import { writeFileSync } from 'node:fs';
import { CATALOG, renderMetricsMarkdown } from '../packages/metrics/dist/index.js';

writeFileSync(new URL('../docs/metrics.md', import.meta.url), renderMetricsMarkdown(CATALOG));
console.log('wrote docs/metrics.md');
