import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BotCoreError } from './errors.js';
import type { LoggerLike } from './types.js';

/** A message accepted while PostgreSQL was unreachable: one line of the journal. */
export interface JournalRecord {
  /** Task id (uuid): the key that makes the replay idempotent. */
  id: string;
  botId: string;
  message: string;
  /** ISO timestamp. */
  enqueuedAt: string;
}

/** What reading one segment found. */
export interface SegmentContents {
  records: JournalRecord[];
  /** Lines that were not a complete record (a torn tail after a crash, or corruption): skipped. */
  skipped: number;
}

const SEGMENT_RE = /^(\d{12})\.jsonl$/;
const segmentName = (seq: number) => `${String(seq).padStart(12, '0')}.jsonl`;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isRecord(v: unknown): v is JournalRecord {
  const r = v as Partial<JournalRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.id === 'string' &&
    UUID_RE.test(r.id) &&
    typeof r.botId === 'string' &&
    typeof r.message === 'string' &&
    typeof r.enqueuedAt === 'string'
  );
}

/**
 * An append-only, fsynced journal of accepted messages, in segments of JSON lines
 * (`<dir>/000000000001.jsonl`, ...). `append()` resolves only after the line is written and
 * `fdatasync`ed (concurrent appends share one write and one sync: group commit), so a message
 * answered after it is as durable as the disk. `seal()` closes the segment being written (the next
 * append starts a new one) and lists the sealed segments, oldest first, for a replay; `remove()`
 * deletes a segment once its records are in PostgreSQL.
 *
 * Reading never throws for content: a line that is not a complete record (the torn tail of a
 * crash mid-write, which was never acknowledged, or a corrupt line) is skipped and counted.
 * Appends are refused with a 503 `JOURNAL_FULL` once the pending segments hold `maxBytes`; a disk
 * error rejects with 503 `JOURNAL_UNAVAILABLE` (the message was not acknowledged).
 *
 * Only `node:fs` is used: a journal that is only appended, synced and replayed needs no more, and an
 * embedded database (SQLite) would add a native build or `node:sqlite`, which Node 22.0 lacks.
 */
export class TaskJournal {
  private handle: FileHandle | undefined;
  private nextSeq = 1;
  private bytes = 0;
  private entries = 0;
  private batch: Array<{ line: string; resolve: () => void; reject: (err: Error) => void }> = [];
  private tail: Promise<unknown> = Promise.resolve();
  private opened = false;
  private closed = false;

  constructor(
    private readonly options: {
      /** Directory of this journal's segments (created on the first append). */
      dir: string;
      /** Most bytes held by unreplayed segments. */
      maxBytes: number;
      logger: LoggerLike;
    },
  ) {}

  /** Directory of the segments. */
  get dir(): string {
    return this.options.dir;
  }

  /** Records appended and not yet removed by a replay (counted from disk at `open()`). */
  get pendingEntries(): number {
    return this.entries;
  }

  /** Bytes held by the segments not yet replayed. */
  get pendingBytes(): number {
    return this.bytes;
  }

  /** Reads what a previous process left (sizes and counts); creates nothing. Never throws for content. */
  open(): Promise<void> {
    return this.serial(async () => {
      if (this.opened) return;
      this.opened = true;
      for (const seg of await this.segments()) {
        const seq = Number(SEGMENT_RE.exec(seg)?.[1]);
        this.nextSeq = Math.max(this.nextSeq, seq + 1);
        const { records } = await this.read(seg);
        this.entries += records.length;
        this.bytes += (await stat(join(this.options.dir, seg))).size;
      }
    });
  }

  /**
   * Appends one record and resolves once it is on disk (written and fdatasynced). Throws a 503
   * `BotCoreError`: `JOURNAL_FULL` when the journal holds `maxBytes`, `JOURNAL_UNAVAILABLE` when
   * the disk failed or the journal is closed.
   */
  append(record: JournalRecord): Promise<void> {
    if (this.closed) {
      return Promise.reject(new BotCoreError('JOURNAL_UNAVAILABLE', 'the task journal is closed', 503));
    }
    const line = `${JSON.stringify(record)}\n`;
    const size = Buffer.byteLength(line);
    const queued = this.batch.reduce((n, b) => n + Buffer.byteLength(b.line), 0);
    if (this.bytes + queued + size > this.options.maxBytes) {
      return Promise.reject(
        new BotCoreError(
          'JOURNAL_FULL',
          'the database is unavailable and the local journal is full; retry later',
          503,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.batch.push({ line, resolve, reject });
      if (this.batch.length === 1) void this.serial(() => this.flush());
    });
  }

  /** Closes the segment being written; returns every sealed segment (file names), oldest first. */
  seal(): Promise<string[]> {
    return this.serial(async () => {
      await this.closeHandle();
      return this.segments();
    });
  }

  /** Reads one sealed segment; a line that is not a complete record is skipped (and logged). */
  async read(segment: string): Promise<SegmentContents> {
    const text = await readFile(join(this.options.dir, segment), 'utf8');
    const lines = text.split('\n');
    const last = lines.pop(); // '' after a complete last line; otherwise a torn tail
    const records: JournalRecord[] = [];
    let skipped = last ? 1 : 0;
    for (const l of lines) {
      if (l === '') continue;
      try {
        const v: unknown = JSON.parse(l);
        if (isRecord(v)) records.push(v);
        else skipped++;
      } catch {
        skipped++;
      }
    }
    if (skipped) {
      this.options.logger.warn(
        { segment, skipped },
        'task journal: skipped lines that are not complete records (a write torn by a crash is never acknowledged)',
      );
    }
    return { records, skipped };
  }

  /** Deletes a replayed segment (its records are in PostgreSQL). */
  remove(segment: string, records: number): Promise<void> {
    return this.serial(async () => {
      const path = join(this.options.dir, segment);
      const size = await stat(path).then(
        (s) => s.size,
        () => 0,
      );
      await unlink(path).catch(() => undefined);
      this.bytes = Math.max(0, this.bytes - size);
      this.entries = Math.max(0, this.entries - records);
    });
  }

  /** Waits for appends in progress, then closes the file. Later appends are refused. */
  close(): Promise<void> {
    this.closed = true;
    return this.serial(() => this.closeHandle());
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async segments(): Promise<string[]> {
    const names = await readdir(this.options.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    return names.filter((n) => SEGMENT_RE.test(n)).sort();
  }

  private async closeHandle() {
    const h = this.handle;
    this.handle = undefined;
    await h?.close().catch(() => undefined);
  }

  /** Writes every queued line in one write, syncs once, then settles them all. */
  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    const data = batch.map((b) => b.line).join('');
    try {
      if (!this.handle) {
        await mkdir(this.options.dir, { recursive: true });
        const name = segmentName(this.nextSeq++);
        this.handle = await open(join(this.options.dir, name), 'a');
        await this.syncDir(); // the new file's directory entry survives a crash too
      }
      await this.handle.appendFile(data); // loops until all is written (write() may be partial)
      await this.handle.datasync();
      this.bytes += Buffer.byteLength(data);
      this.entries += batch.length;
      for (const b of batch) b.resolve();
    } catch (err) {
      // A failed write may have left part of a line: the next append starts a fresh segment, and
      // the reader skips the torn line. None of these records was acknowledged.
      await this.closeHandle();
      this.options.logger.error(
        { err: { message: (err as Error).message }, records: batch.length },
        'task journal write failed; refusing the messages',
      );
      const refused = new BotCoreError(
        'JOURNAL_UNAVAILABLE',
        'the database is unavailable and the local journal cannot be written; retry later',
        503,
      );
      for (const b of batch) b.reject(refused);
    }
  }

  private async syncDir() {
    const dir = await open(this.options.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

/**
 * Replays every sealed segment through `insert` (which must be idempotent by task id), `batchSize`
 * records per call, yielding to the event loop between calls; a segment is removed once all its
 * records are in. Stops early (keeping the segment) when `stopped()` turns true; an `insert` that
 * throws stops it as well (the caller decides: degraded mode, or retry later). A replay cut short
 * (a crash, an outage) simply runs again. Returns the records read and the rows inserted.
 */
export async function replayJournal(
  journal: TaskJournal,
  options: {
    batchSize: number;
    stopped: () => boolean;
    insert: (batch: JournalRecord[]) => Promise<number>;
  },
): Promise<{ read: number; inserted: number }> {
  let read = 0;
  let inserted = 0;
  for (const segment of await journal.seal()) {
    const { records } = await journal.read(segment);
    for (let i = 0; i < records.length; i += options.batchSize) {
      if (options.stopped()) return { read, inserted };
      const batch = records.slice(i, i + options.batchSize);
      inserted += await options.insert(batch);
      read += batch.length;
      await new Promise((r) => setImmediate(r));
    }
    await journal.remove(segment, records.length);
  }
  return { read, inserted };
}
