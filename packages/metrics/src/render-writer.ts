import { setImmediate as nextTurn } from 'node:timers/promises';
import { createGzip, type Gzip } from 'node:zlib';

/**
 * The body of one scrape, written in slices: the renderer checks `due()` between series and
 * awaits `pause()` when the slice's time is spent, so the event loop serves requests between
 * slices. Each slice's text becomes one Buffer chunk (and, once the body is large enough and the
 * scraper accepts gzip, is fed to a gzip stream on libuv's thread pool while rendering goes on).
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

export class SlicedWriter {
  private text = '';
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
  ) {
    this.sliceEnd = performance.now() + limits.sliceMs;
  }

  write(s: string): void {
    this.text += s;
  }

  /** True when this slice's time is spent: the caller should `await pause()`. */
  due(): boolean {
    return performance.now() >= this.sliceEnd;
  }

  /** Ends the slice: flushes its text, lets the event loop run, and checks the deadline. */
  async pause(): Promise<void> {
    this.flush();
    await nextTurn();
    if (this.zipError) throw this.zipError;
    const now = performance.now();
    if (now > this.limits.deadline) throw new ScrapeTimeoutError(this.limits.timeoutMs);
    this.sliceEnd = now + this.limits.sliceMs;
  }

  private flush(): void {
    if (this.text === '') return;
    const b = Buffer.from(this.text, 'utf8');
    this.text = '';
    this.bytes += b.length;
    if (this.gz) {
      this.gz.write(b);
      return;
    }
    this.chunks.push(b);
    if (this.gzip && this.bytes >= GZIP_MIN_BYTES) {
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

  /** Stops writing: drops what was rendered and ends the gzip stream, if any. */
  abort(): void {
    this.text = '';
    this.chunks.length = 0;
    this.gz?.destroy();
  }

  /** The whole body: gzipped (`gzipped: true`) when compression started, else the plain bytes. */
  async finish(): Promise<{ body: Buffer; gzipped: boolean }> {
    this.flush();
    const gz = this.gz;
    if (gz === undefined) {
      const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
      this.chunks.length = 0;
      return { body, gzipped: false };
    }
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
