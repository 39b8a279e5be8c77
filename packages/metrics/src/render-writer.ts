import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGzip, type Gzip } from 'node:zlib';

/**
 * The body of one scrape, written in slices: the renderer checks `due()` between series and
 * awaits `pause()` when the slice's time is spent, so the event loop serves requests between
 * slices. Text is encoded into Buffers as it comes; when the scraper accepts gzip, full chunks are
 * fed to a gzip stream on libuv's thread pool while rendering goes on.
 */

/** Bodies smaller than this are sent uncompressed: below it gzip saves too few bytes for its CPU. */
export const GZIP_MIN_BYTES = 4096;

/** Thrown by `pause()` once the scrape's deadline has passed: the caller answers 503. */
export class ScrapeTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`rendering /metrics took longer than ${timeoutMs} ms`);
    this.name = 'ScrapeTimeoutError';
  }
}

export interface WriterLimits {
  /** Longest synchronous stretch of rendering, in ms, before it yields to the event loop. */
  readonly sliceMs: number;
  /** `performance.now()` after which `pause()` throws `ScrapeTimeoutError`. */
  readonly deadline: number;
  /** For the message of `ScrapeTimeoutError`. */
  readonly timeoutMs: number;
}

/** Size of the chunks a gzipped body is written in (each goes to the gzip stream when full). */
const CHUNK_BYTES = 256 * 1024;

export class SlicedWriter {
  // Text is encoded into Buffers as it is written: no string grows beyond one series' lines, so
  // nothing is left for the garbage collector to copy or flatten across slices.
  private buf: Buffer;
  private used = 0;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  private gz: Gzip | undefined;
  private readonly zipped: Buffer[] = [];
  private zipError: Error | undefined;
  private sliceEnd: number;

  constructor(
    private readonly limits: WriterLimits,
    /** Compress once the body reaches `GZIP_MIN_BYTES` (the scraper accepts gzip). */
    private readonly gzip: boolean,
    /** The expected size of an uncompressed body (the last one's), to allocate it at once. */
    sizeHint = 0,
  ) {
    this.buf = Buffer.allocUnsafe(gzip ? CHUNK_BYTES : Math.max(CHUNK_BYTES, Math.ceil(sizeHint * 1.1)));
    this.sliceEnd = performance.now() + limits.sliceMs;
  }

  write(s: string): void {
    const max = s.length * 3; // UTF-8 bytes per UTF-16 unit, at most
    if (this.used + max > this.buf.length) this.grow(max);
    this.used += this.buf.write(s, this.used);
  }

  /** Bytes as they are (the protobuf format). */
  writeBytes(b: Uint8Array): void {
    if (this.used + b.length > this.buf.length) this.grow(b.length);
    this.buf.set(b, this.used);
    this.used += b.length;
  }

  private grow(max: number): void {
    if (!this.gzip) {
      // one body: a larger buffer (the size hint makes this rare)
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + max));
      this.buf.copy(next, 0, 0, this.used);
      this.buf = next;
      return;
    }
    this.push(this.buf.subarray(0, this.used));
    this.buf = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, max));
    this.used = 0;
  }

  private push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.gz) {
      this.gz.write(chunk);
      return;
    }
    this.chunks.push(chunk);
    if (this.bytes >= GZIP_MIN_BYTES) {
      const gz = createGzip({ level: 6 });
      gz.on('data', (c: Buffer) => this.zipped.push(c));
      gz.on('error', (err) => {
        this.zipError = err;
      });
      for (const c of this.chunks) gz.write(c);
      this.chunks.length = 0;
      this.gz = gz;
    }
  }

  /** True when this slice's time is spent: the caller should `await pause()`. */
  due(): boolean {
    return performance.now() >= this.sliceEnd;
  }

  /** Ends the slice: lets the event loop run, and checks the deadline. */
  async pause(): Promise<void> {
    await nextTurn();
    if (this.zipError) throw this.zipError;
    const now = performance.now();
    if (now > this.limits.deadline) throw new ScrapeTimeoutError(this.limits.timeoutMs);
    this.sliceEnd = now + this.limits.sliceMs;
  }

  /** Stops writing: drops what was rendered and ends the gzip stream, if any. */
  abort(): void {
    this.chunks.length = 0;
    this.used = 0;
    this.gz?.destroy();
  }

  /** The whole body: gzipped (`gzipped: true`) when compression started, else the plain bytes. */
  async finish(): Promise<{ body: Buffer; gzipped: boolean }> {
    if (!this.gzip) return { body: this.buf.subarray(0, this.used), gzipped: false };
    if (this.used > 0) this.push(this.buf.subarray(0, this.used));
    const gz = this.gz;
    if (gz === undefined) return { body: Buffer.concat(this.chunks), gzipped: false };
    await new Promise<void>((resolve, reject) => {
      if (this.zipError) {
        reject(this.zipError);
        return;
      }
      gz.once('error', reject);
      gz.once('end', resolve);
      gz.end();
    });
    return { body: Buffer.concat(this.zipped), gzipped: true };
  }
}
