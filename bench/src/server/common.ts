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

/**
 * Loads a module by a specifier held in a variable and returns the first of `names` it exports, so
 * the runner keeps working (and typechecking) while a package is still being written; the variant
 * then fails at start-up with a clear message and is reported as unavailable.
 */
export async function importExport<T>(specifier: string, names: readonly string[]): Promise<T> {
  const mod = (await import(specifier)) as Record<string, unknown>;
  for (const name of names) {
    if (mod[name] !== undefined) return mod[name] as T;
  }
  throw new Error(
    `${specifier} exports none of ${names.join(', ')} (it exports ${Object.keys(mod).join(', ')})`,
  );
}
