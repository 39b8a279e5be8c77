import { packageConfig } from '../../tsup.config.base';

// `./register` is one public path with two sources: the ESM entry registers the import-in-the-middle
// loader hook and awaits it (top-level await, ESM only); the CJS entry just starts tracing.
export default [
  packageConfig(['src/index.ts'], { clean: ['index.*'] }),
  packageConfig(
    { register: 'src/register.ts' },
    { format: ['esm'], clean: ['register.js*', 'register.d.ts'] },
  ),
  packageConfig(
    { register: 'src/register-cjs.ts' },
    { format: ['cjs'], clean: ['register.cjs*', 'register.d.cts'] },
  ),
];
