/**
 * The populated buckets of one side (positive or negative) of a native histogram: counts in a dense
 * window of consecutive indexes (an observation is one typed-array increment, no hashing), and the
 * rare index more than `MAX_SPAN` away from the others in a Map, so one far outlier (1e-300 next to
 * milliseconds) cannot make the window large.
 */

/** Widest window, in buckets (32 KiB of counts). */
const MAX_SPAN = 4096;
const FIRST = 32;

export class Buckets {
  private lo = 0;
  private counts = new Float64Array(0);
  /** Populated buckets in the window. */
  private dense = 0;
  private far: Map<number, number> | undefined;

  /** Populated buckets. */
  get size(): number {
    return this.dense + (this.far?.size ?? 0);
  }

  /** Adds `n` (> 0) to bucket `key`; true when the bucket was not populated before. */
  add(key: number, n: number): boolean {
    const i = key - this.lo;
    const counts = this.counts;
    if (i >= 0 && i < counts.length) {
      const c = counts[i] as number;
      counts[i] = c + n;
      if (c !== 0) return false;
      this.dense++;
      return true;
    }
    return this.addOutside(key, n);
  }

  private addOutside(key: number, n: number): boolean {
    const len = this.counts.length;
    if (len === 0) {
      this.lo = key - FIRST / 2;
      this.counts = new Float64Array(FIRST);
      return this.add(key, n);
    }
    const lo = Math.min(this.lo, key);
    const hi = Math.max(this.lo + len, key + 1);
    if (hi - lo > MAX_SPAN) {
      this.far ??= new Map();
      const c = this.far.get(key);
      this.far.set(key, c === undefined ? n : c + n);
      return c === undefined;
    }
    // grow towards the new index with room for as many more (bounded by MAX_SPAN)
    const room = Math.min(hi - lo, MAX_SPAN - (hi - lo));
    const newLo = key < this.lo ? lo - room : lo;
    const newHi = key < this.lo ? hi : hi + room;
    const grown = new Float64Array(newHi - newLo);
    grown.set(this.counts, this.lo - newLo);
    this.lo = newLo;
    this.counts = grown;
    // (a far index never falls inside: the window keeps every index it had, and the far one was
    // more than MAX_SPAN from them)
    return this.add(key, n);
  }

  get(key: number): number {
    const i = key - this.lo;
    if (i >= 0 && i < this.counts.length) return this.counts[i] as number;
    return this.far?.get(key) ?? 0;
  }

  /** Empties bucket `key`; returns its count. */
  delete(key: number): number {
    const i = key - this.lo;
    if (i >= 0 && i < this.counts.length) {
      const c = this.counts[i] as number;
      if (c !== 0) {
        this.counts[i] = 0;
        this.dense--;
      }
      return c;
    }
    const c = this.far?.get(key) ?? 0;
    this.far?.delete(key);
    return c;
  }

  /** The populated buckets, ascending by index. */
  entries(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const counts = this.counts;
    for (let i = 0; i < counts.length; i++) {
      const c = counts[i] as number;
      if (c !== 0) out.push([this.lo + i, c]);
    }
    if (this.far !== undefined && this.far.size > 0) {
      out.push(...this.far);
      out.sort((a, b) => a[0] - b[0]);
    }
    return out;
  }

  [Symbol.iterator](): IterableIterator<[number, number]> {
    return this.entries()[Symbol.iterator]();
  }

  keys(): number[] {
    return this.entries().map(([k]) => k);
  }

  values(): number[] {
    return this.entries().map(([, c]) => c);
  }
}
