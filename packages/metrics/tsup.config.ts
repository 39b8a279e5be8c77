import { packageConfig } from '../../tsup.config.base';

// Two public paths: `.` (what applications call) and `./adapter` (the HTTP core for adapter
// authors). Code splitting keeps one copy of each module, so both paths share their state (the
// HTTP series store is keyed by the handle `createMetrics` returns) in ESM and CJS alike.
export default packageConfig({ index: 'src/index.ts', adapter: 'src/adapter.ts' }, { splitting: true });
