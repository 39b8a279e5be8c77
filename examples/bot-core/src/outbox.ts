import type { LoggerLike } from './types.js';

/** A best-effort write that is retried, in order, once the database is back. */
export interface PendingWrite {
  operation: string;
  sql: string;
  params: unknown[];
}

/**
 * The in-memory, ordered, bounded queue of best-effort writes (bot status, audit log, a task's
 * exchange or removal) made while the database is down. It never holds an acknowledgement: what it
 * loses in a crash is either re-derived (a task whose exchange is lost stays in `task_queue` and runs
 * again) or history (status, audit). When full, `push` refuses the new write (`onDropped`, logged)
 * instead of dropping an older one.
 */
export class WriteOutbox {
  private readonly writes: PendingWrite[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly options: {
      /** Most writes held. */
      max: number;
      logger: LoggerLike;
      onDropped: (operation: string) => void;
    },
  ) {}

  get length(): number {
    return this.writes.length;
  }

  /** Keeps a write; false when the outbox is full (the write is refused, logged and counted). */
  push(w: PendingWrite): boolean {
    if (this.writes.length >= this.options.max) {
      this.options.onDropped(w.operation);
      this.options.logger.error(
        { operation: w.operation, max: this.options.max },
        'database outbox full; refused a best-effort write',
      );
      return false;
    }
    this.writes.push(w);
    return true;
  }

  get isFlushing(): boolean {
    return this.flushing !== undefined;
  }

  /**
   * Runs the writes in order through `run` while `canRun()`. A write `run` rejects with
   * `'retry'` stays first (the database went away: stop); any other rejection drops it (logged).
   * Concurrent calls share one flush.
   */
  flush(canRun: () => boolean, run: (w: PendingWrite) => Promise<'ok' | 'retry'>): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      let written = 0;
      while (this.writes.length > 0 && canRun()) {
        const w = this.writes[0]!;
        try {
          if ((await run(w)) === 'retry') break;
          this.writes.shift();
          written++;
        } catch (err) {
          this.writes.shift();
          this.options.logger.error(
            { operation: w.operation, err: { message: (err as Error).message } },
            'dropped a queued write the database rejected',
          );
        }
      }
      if (written) {
        this.options.logger.info({ written, left: this.writes.length }, 'replayed queued database writes');
      }
    })().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }
}
