import type { Metrics } from '@deia/metrics';
import { Counter, Gauge } from 'prom-client';

/** The example's own series for its durability promise (registered in the app's registry). */
export interface DurabilityMetrics {
  /** `task_rejected_total{queue,reason}`: a message refused with 503 because it could not be made durable. */
  rejected(reason: 'journal_full' | 'journal_unavailable' | 'no_journal'): void;
  /** `db_writes_dropped_total{operation}`: a best-effort write (status, audit) refused because the outbox was full. */
  dropped(operation: string): void;
}

const REJECTED = 'task_rejected_total';
const DROPPED = 'db_writes_dropped_total';
const JOURNAL = 'task_journal_entries';

function reuse<T>(metrics: Metrics, name: string, create: () => T): T {
  const existing = metrics.registry.getSingleMetric(name) as T | undefined;
  if (existing) return existing;
  const m = create();
  metrics.registry.registerMetric(m as object);
  return m;
}

/**
 * Registers `task_rejected_total`, `db_writes_dropped_total` and `task_journal_entries` (sampled
 * at scrape from `journalEntries`) in `metrics.registry`; reuses them when already there.
 */
export function createDurabilityMetrics(metrics: Metrics, journalEntries: () => number): DurabilityMetrics {
  const rejected = reuse(
    metrics,
    REJECTED,
    () =>
      new Counter({
        name: REJECTED,
        help: 'Messages refused with 503 because they could not be made durable (database down and no room in the journal)',
        labelNames: ['queue', 'reason'] as const,
        registers: [],
      }),
  );
  const dropped = reuse(
    metrics,
    DROPPED,
    () =>
      new Counter({
        name: DROPPED,
        help: 'Best-effort database writes (bot status, audit log) refused because the in-memory outbox was full',
        labelNames: ['operation'] as const,
        registers: [],
      }),
  );
  reuse(
    metrics,
    JOURNAL,
    () =>
      new Gauge({
        name: JOURNAL,
        help: 'Accepted messages in the local journal, not yet replayed into PostgreSQL',
        registers: [],
        collect() {
          this.set(journalEntries());
        },
      }),
  );
  return {
    rejected: (reason) => rejected.inc({ queue: 'messages', reason }),
    dropped: (operation) => dropped.inc({ operation }),
  };
}
