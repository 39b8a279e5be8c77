import type { Metrics } from '@deia/metrics';
import pg from 'pg';
import { createDurabilityMetrics, type DurabilityMetrics } from './durability-metrics.js';
import { BotCoreError, DatabaseUnavailableError } from './errors.js';
import { replayJournal, type TaskJournal } from './journal.js';
import { ident, migrate } from './migrations.js';
import { WriteOutbox } from './outbox.js';
import { isConnectionError } from './pg-errors.js';
import type { Exchange, LoggerLike } from './types.js';

/** A stored chat message. */
export interface ChatMessageRow {
  id: string;
  bot_id: string;
  task_id: string | null;
  role: 'user' | 'assistant';
  content: string;
  model: string | null;
  created_at: Date;
}

/** Where an accepted message was made durable. */
export type AcceptOutcome =
  /** inserted into `task_queue` */
  | 'stored'
  /** appended and fsynced to the local journal (the database is unreachable) */
  | 'journaled'
  /** a task with this id was already accepted (a retry): nothing was written */
  | 'duplicate';

/**
 * The PostgreSQL side of the controller. It owns the availability state behind degraded mode:
 * a heartbeat notices an outage within `heartbeatMs`, probes with exponential backoff reconnect,
 * and `onAvailabilityChange` listeners (the task queue) are told to drain their backlog.
 *
 * Accepted messages (`acceptTask`) are acknowledged only once durable: inserted into PostgreSQL,
 * or, while it is unreachable, appended and fsynced to the `journal`; otherwise `acceptTask`
 * throws a 503. The journal is replayed in the background when the database returns (new work
 * goes straight to PostgreSQL meanwhile), idempotently by task id. Best-effort writes (bot status,
 * audit log, a task's exchange or removal) made during an outage wait in a bounded in-memory
 * outbox and are replayed in order; a full outbox refuses new ones (logged, `db_writes_dropped_total`).
 * None of those is an acknowledgement: a task whose exchange is lost stays in `task_queue` and
 * runs again at the next start, stored once.
 *
 * Every call is bounded: pool acquisition by `connectTimeoutMs`, each query by `queryTimeoutMs`
 * (client) and `statementTimeoutMs` (server). A query that timed out may still commit later (a
 * partition): the writes that acknowledge work are idempotent by task id, so that is harmless.
 */
export class Store {
  readonly pool: pg.Pool;
  private readonly s: string;
  private available = false;
  private migrated = false;
  private readonly outbox: WriteOutbox;
  private replaying: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probeDelay: number;
  private closed = false;
  private readonly listeners = new Set<(available: boolean) => void>();
  private readonly replayListeners = new Set<(inserted: number) => void>();
  private lastError: string | undefined;

  constructor(
    private readonly options: {
      connectionString: string;
      schema: string;
      poolMax: number;
      metrics: Metrics;
      logger: LoggerLike;
      heartbeatMs: number;
      probe: { initialMs: number; maxMs: number };
      /** pg `connectionTimeoutMillis`. @default 2000 */
      connectTimeoutMs?: number;
      /** pg `query_timeout` (client side). @default 5000 */
      queryTimeoutMs?: number;
      /** PostgreSQL `statement_timeout`. @default 4000 */
      statementTimeoutMs?: number;
      /** Where accepted messages go while the database is unreachable; without one they are refused (503). */
      journal?: TaskJournal;
      /** Tasks per statement when the journal is replayed. @default 500 */
      replayBatch?: number;
      /** Refusals and drops; by default registered in `metrics.registry`. */
      durability?: DurabilityMetrics;
      /** Most best-effort writes kept while the database is down; more are refused (and logged). @default 10000 */
      maxOutbox?: number;
    },
  ) {
    this.s = ident(options.schema);
    this.probeDelay = options.probe.initialMs;
    this.durability =
      options.durability ??
      createDurabilityMetrics(options.metrics, () => options.journal?.pendingEntries ?? 0);
    this.outbox = new WriteOutbox({
      max: options.maxOutbox ?? 10_000,
      logger: options.logger,
      onDropped: (operation) => this.durability.dropped(operation),
    });
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolMax,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 2_000,
      query_timeout: options.queryTimeoutMs ?? 5_000,
      statement_timeout: options.statementTimeoutMs ?? 4_000,
      idleTimeoutMillis: 30_000,
      application_name: 'deia-example-controller',
    });
    // pg-pool re-emits an idle client's error here; the per-client listener below already handled
    // it, but without a listener on the pool too the re-emit would crash the process.
    this.pool.on('error', () => undefined);
    // pg-pool removes its idle 'error' listener while a client is checked out (by migrate(), by
    // postgresCheck(pool), by anyone given this pool): a connection lost then would emit 'error'
    // with no listener and crash the process. This one stays for the client's whole life; the
    // query that was running rejects as well and is handled (degraded mode) where it was awaited.
    this.pool.on('connect', (client) => {
      client.on('error', (err) => {
        if (isConnectionError(err)) this.markDown(err);
        else options.logger.warn({ err: { message: err.message } }, 'database client error');
      });
    });
    options.metrics.observePgPool(this.pool);
  }

  private readonly durability: DurabilityMetrics;

  /** True while the database answers. False means degraded mode. */
  get isAvailable(): boolean {
    return this.available;
  }

  /** Best-effort writes waiting for the database (in memory). */
  get pendingWrites(): number {
    return this.outbox.length;
  }

  /** Accepted messages in the journal, not yet replayed into the database. */
  get journaledTasks(): number {
    return this.options.journal?.pendingEntries ?? 0;
  }

  /** Why the database was last marked down (no connection details). */
  get lastErrorMessage(): string | undefined {
    return this.lastError;
  }

  onAvailabilityChange(listener: (available: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called after a journal replay inserted tasks a process accepted while the database was down. */
  onReplayed(listener: (inserted: number) => void): () => void {
    this.replayListeners.add(listener);
    return () => this.replayListeners.delete(listener);
  }

  /** Resolves when the journal replay in progress (if any) ended. */
  whenReplayed(): Promise<void> {
    return this.replaying ?? Promise.resolve();
  }

  /**
   * Reads what the journal holds, first connection attempt and migrations; never throws for an
   * outage: when the database is down it starts degraded.
   */
  async start(): Promise<void> {
    await this.options.journal
      ?.open()
      .catch((err: Error) =>
        this.options.logger.error({ err: { message: err.message } }, 'task journal could not be read'),
      );
    await this.check();
  }

  /** Runs a read; throws `DatabaseUnavailableError` in degraded mode. */
  async query<R extends pg.QueryResultRow>(
    operation: string,
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> {
    if (!this.available) throw new DatabaseUnavailableError();
    try {
      const res = await this.options.metrics.db.trackQuery(operation, () => this.pool.query<R>(sql, params));
      return res.rows;
    } catch (err) {
      if (isConnectionError(err)) {
        this.markDown(err);
        throw new DatabaseUnavailableError();
      }
      throw err;
    }
  }

  /**
   * Runs a best-effort write now, or keeps it (in memory, in order) for when the database is back.
   * Never throws for an outage; 'dropped' when the outbox is full (logged and counted).
   */
  async write(operation: string, sql: string, params: unknown[]): Promise<'written' | 'queued' | 'dropped'> {
    if (!this.available || this.outbox.length > 0) return this.enqueueWrite({ operation, sql, params });
    try {
      await this.options.metrics.db.trackQuery(operation, () => this.pool.query(sql, params));
      return 'written';
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      this.markDown(err);
      return this.enqueueWrite({ operation, sql, params });
    }
  }

  /**
   * Makes an accepted message durable before it is acknowledged: inserts it into `task_queue`
   * (idempotent by id: 'duplicate' when the id was accepted before, also when its exchange is
   * stored), or, while the database is unreachable or the insert fails for an outage or a timeout,
   * appends it to the journal. Throws a 503 `BotCoreError` when neither is possible (no journal,
   * journal full, disk error): the message is not accepted. An insert that timed out may still
   * commit later; the journal replay then skips it, so it is stored once.
   */
  async acceptTask(t: {
    id: string;
    botId: string;
    message: string;
    enqueuedAt: Date;
  }): Promise<AcceptOutcome> {
    if (this.available && !this.closed) {
      try {
        const res = await this.options.metrics.db.trackQuery('insert_task', () =>
          this.pool.query(
            `INSERT INTO ${this.s}.task_queue (id, bot_id, message, enqueued_at)
             SELECT $1::uuid, $2, $3, $4
              WHERE NOT EXISTS (SELECT 1 FROM ${this.s}.chat_messages WHERE task_id = $1::uuid)
             ON CONFLICT (id) DO NOTHING`,
            [t.id, t.botId, t.message, t.enqueuedAt],
          ),
        );
        return res.rowCount === 1 ? 'stored' : 'duplicate';
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        this.markDown(err);
      }
    }
    const journal = this.options.journal;
    if (!journal) {
      this.refuse('no_journal');
      throw new BotCoreError(
        'DATABASE_UNAVAILABLE',
        'the database is unavailable and this instance keeps no journal (JOURNAL_DIR=off); retry later',
        503,
      );
    }
    try {
      await journal.append({
        id: t.id,
        botId: t.botId,
        message: t.message,
        enqueuedAt: t.enqueuedAt.toISOString(),
      });
      return 'journaled';
    } catch (err) {
      const code = err instanceof BotCoreError ? err.code : 'JOURNAL_UNAVAILABLE';
      this.refuse(code === 'JOURNAL_FULL' ? 'journal_full' : 'journal_unavailable');
      throw err instanceof BotCoreError
        ? err
        : new BotCoreError('JOURNAL_UNAVAILABLE', 'the local journal cannot be written; retry later', 503);
    }
  }

  private refuse(reason: 'journal_full' | 'journal_unavailable' | 'no_journal') {
    this.durability.rejected(reason);
    this.options.logger.error(
      { reason, journaled: this.journaledTasks },
      'refused a message (503): the database is unavailable and it cannot be journaled',
    );
  }

  // --- domain writes and reads -----------------------------------------------------------------

  saveBot(bot: { id: string; status: string; model: string; restarts: number; lastError: string | null }) {
    return this.write(
      'upsert_bot',
      `INSERT INTO ${this.s}.bots (id, status, model, restarts, last_error, updated_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, model = EXCLUDED.model,
         restarts = EXCLUDED.restarts, last_error = EXCLUDED.last_error, updated_at = now()`,
      [bot.id, bot.status, bot.model, bot.restarts, bot.lastError],
    );
  }

  saveExchange(x: Exchange) {
    // One statement: the exchange is stored and the task leaves the persistent queue together;
    // run again (a replay, or a task re-run after a crash) it stores nothing twice.
    return this.write('insert_chat_messages', this.exchangeSql(), this.exchangeParams(x));
  }

  /**
   * Stores an exchange now and resolves once it is committed (a streamed reply is acknowledged
   * as saved only then); idempotent by task id. Throws `DatabaseUnavailableError` in degraded
   * mode or when the connection fails, and a query error otherwise.
   */
  async saveExchangeNow(x: Exchange): Promise<void> {
    await this.query('insert_chat_messages', this.exchangeSql(), this.exchangeParams(x));
  }

  private exchangeSql() {
    return `WITH done AS (DELETE FROM ${this.s}.task_queue WHERE id = $2)
       INSERT INTO ${this.s}.chat_messages (bot_id, task_id, role, content, model, created_at)
       VALUES ($1, $2, 'user', $3, NULL, $5), ($1, $2, 'assistant', $4, $6, $7)
       ON CONFLICT DO NOTHING`;
  }

  private exchangeParams(x: Exchange) {
    return [x.botId, x.taskId, x.message, x.reply, x.at, x.model, x.repliedAt];
  }

  /** Removes a task that ended without an exchange (it failed, with its reason given to the caller). */
  forgetTask(id: string) {
    return this.write('delete_task', `DELETE FROM ${this.s}.task_queue WHERE id = $1`, [id]);
  }

  /** Tasks accepted earlier (by this process or one that was stopped or killed), oldest first. */
  pendingTasks() {
    return this.query<{ id: string; bot_id: string; message: string; enqueued_at: Date }>(
      'select_tasks',
      `SELECT id::text, bot_id, message, enqueued_at FROM ${this.s}.task_queue ORDER BY enqueued_at, id`,
    );
  }

  /** Deletes a bot's row (its messages and audit trail stay); best-effort like `saveBot`. */
  deleteBot(id: string) {
    return this.write('delete_bot', `DELETE FROM ${this.s}.bots WHERE id = $1`, [id]);
  }

  audit(action: string, botId: string | null, details: Record<string, unknown> = {}) {
    return this.write(
      'insert_audit_log',
      `INSERT INTO ${this.s}.audit_logs (action, bot_id, details, created_at) VALUES ($1, $2, $3, $4)`,
      [action, botId, JSON.stringify(details), new Date()],
    );
  }

  /** A bot's most recent messages, newest first (served by idx_bot_created). */
  recentMessages(botId: string, limit = 50) {
    return this.query<ChatMessageRow>(
      'select_chat_messages',
      `SELECT id::text, bot_id, task_id::text, role, content, model, created_at
         FROM ${this.s}.chat_messages WHERE bot_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
      [botId, limit],
    );
  }

  knownBots() {
    return this.query<{ id: string; model: string; status: string }>(
      'select_bots',
      `SELECT id, model, status FROM ${this.s}.bots ORDER BY id`,
    );
  }

  // --- availability ----------------------------------------------------------------------------

  private enqueueWrite(w: { operation: string; sql: string; params: unknown[] }): 'queued' | 'dropped' {
    if (!this.outbox.push(w)) return 'dropped';
    if (this.available && !this.outbox.isFlushing) void this.flush();
    return 'queued';
  }

  private markDown(err: unknown) {
    this.lastError = (err as Error)?.message?.replace(/postgres(ql)?:\/\/\S+/gi, '<database>') ?? 'unknown';
    // While down, a probe is always scheduled (check() reschedules itself); keep its backoff.
    if (!this.available) return;
    this.available = false;
    this.options.logger.warn({ reason: this.lastError }, 'database unavailable: entering degraded mode');
    this.emit(false);
    this.schedule(this.options.probe.initialMs, true);
  }

  private emit(available: boolean) {
    for (const l of this.listeners) {
      try {
        l(available);
      } catch (err) {
        this.options.logger.error(
          { err: { message: (err as Error).message } },
          'availability listener threw',
        );
      }
    }
  }

  private schedule(delay: number, resetBackoff = false) {
    if (this.closed) return;
    if (resetBackoff) this.probeDelay = this.options.probe.initialMs;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), delay);
    this.timer.unref();
  }

  /** Heartbeat while up, reconnection probe (exponential backoff) while down. */
  private async check(): Promise<void> {
    if (this.closed) return;
    try {
      await this.options.metrics.db.trackQuery('probe', () => this.pool.query('SELECT 1'));
      if (!this.migrated) {
        const applied = await this.options.metrics.db.trackQuery('migrate', () =>
          migrate(this.pool, this.options.schema),
        );
        this.migrated = true;
        if (applied.length) this.options.logger.info({ versions: applied }, 'database migrations applied');
      }
      if (!this.available) {
        this.available = true;
        this.probeDelay = this.options.probe.initialMs;
        this.options.logger.info(
          { pendingWrites: this.outbox.length, journaled: this.journaledTasks },
          'database available: leaving degraded mode',
        );
        await this.flush();
        // New messages go straight to the database from here on; the journal drains behind them.
        this.startReplay();
        this.emit(true);
      } else if (this.journaledTasks > 0) {
        this.startReplay(); // a replay that failed earlier (or a journal left by another run)
      }
      this.schedule(this.options.heartbeatMs);
    } catch (err) {
      if (this.available) {
        this.markDown(err);
        return;
      }
      this.lastError = (err as Error)?.message?.replace(/postgres(ql)?:\/\/\S+/gi, '<database>') ?? 'unknown';
      if (!isConnectionError(err)) {
        this.options.logger.error({ err: { message: this.lastError } }, 'database check failed');
      }
      const delay = this.probeDelay;
      this.probeDelay = Math.min(this.probeDelay * 2, this.options.probe.maxMs);
      this.schedule(delay);
    }
  }

  private flush(): Promise<void> {
    return this.outbox.flush(
      () => this.available && !this.closed,
      async (w) => {
        try {
          await this.options.metrics.db.trackQuery(w.operation, () => this.pool.query(w.sql, w.params));
          return 'ok';
        } catch (err) {
          if (!isConnectionError(err)) throw err;
          this.markDown(err);
          return 'retry';
        }
      },
    );
  }

  private startReplay() {
    const journal = this.options.journal;
    if (!journal || this.replaying || this.closed) return;
    this.replaying = this.replay(journal)
      .catch((err: Error) => {
        if (isConnectionError(err)) this.markDown(err);
        else
          this.options.logger.error(
            { err: { message: err.message } },
            'task journal replay failed; retrying at the next heartbeat',
          );
      })
      .finally(() => {
        this.replaying = undefined;
      });
  }

  /**
   * Inserts every sealed segment into `task_queue`, `replayBatch` tasks per statement, yielding
   * between batches; a segment is deleted once all its tasks are in. Idempotent: a task already
   * there, or whose exchange is already stored, is skipped, so a replay cut short (a crash, an
   * outage) simply runs again.
   */
  private async replay(journal: TaskJournal): Promise<void> {
    const started = Date.now();
    const { read, inserted } = await replayJournal(journal, {
      batchSize: this.options.replayBatch ?? 500,
      stopped: () => this.closed || !this.available,
      insert: async (batch) => {
        const res = await this.options.metrics.db.trackQuery('replay_tasks', () =>
          this.pool.query(
            `INSERT INTO ${this.s}.task_queue (id, bot_id, message, enqueued_at)
             SELECT t.id, t.bot_id, t.message, t.enqueued_at
               FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS t(id, bot_id, message, enqueued_at)
              WHERE NOT EXISTS (SELECT 1 FROM ${this.s}.chat_messages c WHERE c.task_id = t.id)
             ON CONFLICT (id) DO NOTHING`,
            [
              batch.map((r) => r.id),
              batch.map((r) => r.botId),
              batch.map((r) => r.message),
              batch.map((r) => r.enqueuedAt),
            ],
          ),
        );
        return res.rowCount ?? 0;
      },
    });
    if (read) {
      this.options.logger.info(
        { read, inserted, ms: Date.now() - started },
        'task journal replayed into the database',
      );
    }
    if (!inserted) return;
    for (const l of this.replayListeners) {
      try {
        l(inserted);
      } catch (err) {
        this.options.logger.error({ err: { message: (err as Error).message } }, 'replay listener threw');
      }
    }
  }

  /**
   * Waits (bounded) for queued writes, stops the replay (the journal keeps what was not replayed,
   * for the next start), closes the journal, then the pool.
   */
  async close(timeoutMs = 2_000): Promise<void> {
    if (this.available && this.outbox.length) {
      await Promise.race([this.flush(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    }
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.race([this.whenReplayed(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    await this.options.journal?.close();
    if (this.outbox.length) {
      this.options.logger.warn(
        { pendingWrites: this.outbox.length },
        'closing with best-effort writes the database never received',
      );
    }
    if (this.journaledTasks) {
      this.options.logger.info(
        { journaled: this.journaledTasks },
        'closing with accepted messages in the journal: the next start replays them',
      );
    }
    await this.pool.end().catch(() => {});
  }
}
