import { loadPromClient } from './client.js';
import { DeiaMetricsError } from './errors.js';
import type { ClusterRegistryClass, PromClientModule, RegistryLike as Registry } from './types.js';

const warnOnce = (message: string) => process.emitWarning(message, 'DeiaMetricsWarning');

/** `ClusterRegistry` (@prometheus-io/client) or `AggregatorRegistry` (prom-client), whichever exists. */
export function clusterRegistryClass(
  client: PromClientModule = loadPromClient(warnOnce),
): ClusterRegistryClass {
  const cls = client.ClusterRegistry ?? client.AggregatorRegistry;
  if (!cls) {
    throw new DeiaMetricsError(
      'DEIA_NO_CLUSTER_REGISTRY',
      'this Prometheus client has neither ClusterRegistry nor AggregatorRegistry; upgrade it.',
    );
  }
  return cls;
}

/**
 * In a cluster worker: answer the primary's requests with these registries' metrics.
 * Call once per worker, after `createMetrics`.
 */
export function shareWithCluster(registries: Registry | Registry[], client?: PromClientModule): void {
  const Cls = clusterRegistryClass(client);
  Cls.setRegistries(registries);
  // Constructing one installs the worker's message listener (idempotent in the client).
  new Cls();
}

/**
 * In the cluster primary: a registry whose `clusterMetrics()` asks every worker for its metrics and
 * returns them aggregated (counters and histograms summed, gauges by each metric's `aggregator`).
 */
export function createClusterAggregator(client?: PromClientModule): {
  metrics(): Promise<string>;
  readonly contentType: string;
} {
  const registry = new (clusterRegistryClass(client))();
  return { metrics: () => registry.clusterMetrics(), contentType: registry.contentType };
}
