/** What a started variant hands back to the child's IPC loop. */
export interface Running {
  readonly port: number;
  /** The variant's metrics exposition (empty for bare), to check that it really recorded requests. */
  inspect(): Promise<string>;
}

/** Returns the Prometheus exposition of a variant; bare variants return ''. */
export type Inspect = () => Promise<string>;

export const NO_METRICS: Inspect = async () => '';

/** The HTTP latency buckets every hand-written floor uses (the same as the DEIA catalog's). */
export { HTTP_LATENCY_BUCKETS, UNMATCHED_ROUTE } from '@deia/metrics';
