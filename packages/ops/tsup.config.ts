import { packageConfig } from '../../tsup.config.base';

// Two entries (the library and the CLI) share one chunk per format: nothing is built twice.
// Dependencies (@deia/metrics, yaml, the Grafana foundation SDK) stay external: installed once,
// visible to `npm audit` and licence tooling, deduplicated with the user's own copies.
export default packageConfig(['src/index.ts', 'src/cli.ts'], { splitting: true });
