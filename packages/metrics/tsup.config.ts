import { packageConfig } from '../../tsup.config.base';

// The ops generator and the CLI bundle @grafana/grafana-foundation-sdk (a devDependency) so users
// do not install it; `yaml` stays a runtime dependency.
export default packageConfig(['src/index.ts', 'src/ops/index.ts', 'src/cli.ts'], {
  noExternal: ['@grafana/grafana-foundation-sdk'],
});
