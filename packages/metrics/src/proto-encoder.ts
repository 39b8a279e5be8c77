/**
 * A minimal protobuf writer for the exposition messages of `io.prometheus.client` (the upstream
 * `metrics.proto`, proto2): varints, zigzag varints, doubles, strings and nested messages. Nested
 * messages are written in place: one byte is reserved for the length, and the body is moved when
 * its length needs more (messages under 128 bytes, most label pairs and buckets, are never moved).
 * Repeated scalars are written unpacked, as proto2 declares them.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;

/** Bytes of a varint of `v` (0 <= v < 2^53). */
function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export class ProtoWriter {
  buf: Buffer;
  pos = 0;
  private readonly open: number[] = [];

  constructor(size = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Forgets what was written (the buffer is kept for the next message). */
  reset(): void {
    this.pos = 0;
    this.open.length = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** An unsigned varint (0 <= v < 2^53; larger or negative values are clamped to 0). */
  varint(v: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    if (!(v >= 0)) v = 0;
    while (v >= 0x80000000) {
      buf[pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v >= 128) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** An unsigned integer field (uint32, uint64, enum). */
  uint(field: number, v: number): void {
    this.tag(field, WIRE_VARINT);
    this.varint(v);
  }

  /** A signed integer field as int64 (two's complement: negative values take 10 bytes). */
  int(field: number, v: number): void {
    if (v >= 0) {
      this.uint(field, v);
      return;
    }
    this.tag(field, WIRE_VARINT);
    this.ensure(10);
    const big = BigInt.asUintN(64, BigInt(Math.trunc(v)));
    let x = big;
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
  }

  /** A zigzag-encoded signed integer field (sint32, sint64). */
  sint(field: number, v: number): void {
    this.uint(field, v >= 0 ? v * 2 : -v * 2 - 1);
  }

  double(field: number, v: number): void {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  string(field: number, s: string): void {
    this.tag(field, WIRE_LEN);
    if (s.length < 43) {
      // at most 126 UTF-8 bytes: the length is one byte, written after the text
      this.ensure(1 + s.length * 3);
      const n = this.buf.write(s, this.pos + 1);
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(s);
    this.varint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos);
  }

  /** Starts a nested message in `field` (or, with `field` 0, a length-delimited top-level one). */
  begin(field: number): void {
    if (field > 0) this.tag(field, WIRE_LEN);
    this.ensure(1);
    this.open.push(this.pos);
    this.pos += 1;
  }

  /** Ends the message `begin()` started: writes its length before it. */
  end(): void {
    const start = this.open.pop() as number;
    const len = this.pos - start - 1;
    const size = varintSize(len);
    if (size > 1) {
      this.ensure(size - 1);
      this.buf.copyWithin(start + size, start + 1, this.pos);
      this.pos += size - 1;
    }
    const after = this.pos;
    this.pos = start;
    this.varint(len);
    this.pos = after;
  }

  /** A `google.protobuf.Timestamp` field from milliseconds since the epoch. */
  timestamp(field: number, ms: number): void {
    const seconds = Math.floor(ms / 1000);
    const nanos = Math.round((ms - seconds * 1000) * 1e6);
    this.begin(field);
    this.int(1, seconds);
    if (nanos > 0) this.uint(2, Math.min(nanos, 999_999_999));
    this.end();
  }

  /** What was written since the last `reset()` (a view: copy it before writing more). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
