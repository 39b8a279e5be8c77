import { packageConfig } from '../../tsup.config.base';

// tsup's `clean` removes every file of dist/ (not only the patterns given), and the configs below build
// in parallel, so one config's clean could delete another's output: the build script empties dist/ first.
// Three public paths share their code: `.` (everything), `./logger` (pino + @opentelemetry/api only, no SDK)
// and `./spans`; code splitting keeps one copy of each module in ESM (CJS gets one file per entry).
// `./register` is one public path with two sources: the ESM entry registers the import-in-the-middle
// loader hook and awaits it (top-level await, ESM only); the CJS entry just starts tracing.
export default [
  packageConfig(
    { index: 'src/index.ts', logger: 'src/logger-entry.ts', spans: 'src/spans-entry.ts' },
    { clean: false, splitting: true },
  ),
  packageConfig({ register: 'src/register.ts' }, { format: ['esm'], clean: false }),
  packageConfig({ register: 'src/register-cjs.ts' }, { format: ['cjs'], clean: false }),
];
