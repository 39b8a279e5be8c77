/**
 * The arithmetic of exponential (native) histogram buckets, as Prometheus defines it: bucket `i`
 * of schema `s` covers `(base^(i-1), base^i]` with `base = 2^(2^-s)`, `s` in -4..8.
 *
 * Bucket indexes are computed from the binary decomposition of the value (`frexp`: `v = frac *
 * 2^exp`, `frac` in [0.5, 1)) and, for schemas above 0, a binary search of `frac` in the schema's
 * boundaries within one power of two, as client_golang does; never from `Math.log`, whose rounding
 * puts values on a boundary in the wrong bucket. The boundaries are exactly the numbers of
 * Prometheus' own table (see `FACTORS`).
 */

export const MIN_SCHEMA = -4;
export const MAX_SCHEMA = 8;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Index of the 32-bit word holding the sign, exponent and top of the mantissa.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const TWO_64 = 2 ** 64;

/**
 * `v = frac * 2^exp` with `frac` in [0.5, 1), for a finite `v > 0`; `out[0] = frac`, returns `exp`.
 * Exact (bit manipulation): the decomposition Go's `math.Frexp` returns.
 */
export function frexp(v: number, out: Float64Array): number {
  f64[0] = v;
  let bits = (u32[HI] as number) >>> 20;
  let shift = 0;
  if ((bits & 0x7ff) === 0) {
    // subnormal: scale into the normal range first (exact)
    f64[0] = v * TWO_64;
    bits = (u32[HI] as number) >>> 20;
    shift = 64;
  }
  const exp = (bits & 0x7ff) - 1022;
  u32[HI] = ((u32[HI] as number) & 0x800fffff) | (1022 << 20);
  out[0] = f64[0] as number;
  return exp - shift;
}

/** `frac * 2^exp`, exact while the result is representable (`math.Ldexp`). */
export function ldexp(frac: number, exp: number): number {
  // split the power so neither factor overflows or underflows before the product does
  if (exp > 1000) return frac * 2 ** 1000 * 2 ** (exp - 1000);
  if (exp < -1000) return frac * 2 ** -1000 * 2 ** (exp + 1000);
  return frac * 2 ** exp;
}

// ---- boundaries within one power of two, per positive schema --------------------------------

/**
 * The second boundary (`2^(2^-s) / 2`) of schemas 0..8 in Prometheus' (and client_golang's)
 * boundary table, from which the whole table is built. They are Go's `Exp2` results, not always
 * correctly rounded (schema 1's is one unit in the last place below sqrt(0.5)): using exactly these
 * numbers makes every boundary identical to Prometheus', so a value on a boundary lands in the same
 * bucket as in client_golang.
 */
const SECOND_BOUNDS = [
  1, 0.7071067811865475, 0.5946035575013605, 0.5452538663326288, 0.5221368912137069, 0.5109485743270583,
  0.5054446430258502, 0.5027149505564014, 0.5013556375251013,
];
/** Growth factor per schema >= 0 (doubling is exact). */
const FACTORS = SECOND_BOUNDS.map((b) => 2 * b);

const boundsCache: Float64Array[] = [new Float64Array([0.5])];

/**
 * The upper boundaries within [0.5, 1) of a schema >= 0 (`2^(j/2^s - 1)` for j = 0..2^s-1), built
 * as Prometheus' table is: the even ones are the previous schema's, each odd one is the one below
 * it times the schema's factor.
 */
export function boundsOf(schema: number): Float64Array {
  let b = boundsCache[schema];
  if (b === undefined) {
    const prev = boundsOf(schema - 1);
    const n = 1 << schema;
    const factor = FACTORS[schema] as number;
    b = new Float64Array(n);
    b[0] = 0.5;
    for (let j = 1; j < n; j++) b[j] = j % 2 === 0 ? (prev[j / 2] as number) : (b[j - 1] as number) * factor;
    boundsCache[schema] = b;
  }
  return b;
}

const scratch = new Float64Array(1);

/**
 * The bucket index of `|v|` in `schema`, for `v` finite and not zero. (±Inf is counted in the index
 * after that of the largest finite value, see `keyOf`.)
 */
export function bucketKey(abs: number, schema: number): number {
  const exp = frexp(abs, scratch);
  const frac = scratch[0] as number;
  if (schema > 0) {
    const bounds = boundsOf(schema);
    // the first bound >= frac (upper bounds are inclusive)
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((bounds[mid] as number) < frac) lo = mid + 1;
      else hi = mid;
    }
    return lo + (exp - 1) * bounds.length;
  }
  // schema <= 0: a power of two is the upper bound of its bucket
  let key = frac === 0.5 ? exp - 1 : exp;
  const by = -schema;
  key = (key + (1 << by) - 1) >> by;
  return key;
}

/** The bucket index of a non-NaN, non-zero value (±Inf one past the largest finite value's). */
export function keyOf(v: number, schema: number): number {
  const abs = v < 0 ? -v : v;
  if (abs === Number.POSITIVE_INFINITY) return bucketKey(Number.MAX_VALUE, schema) + 1;
  return bucketKey(abs, schema);
}

/**
 * The upper bound of bucket `key` in `schema` (absolute value). The bucket of the largest finite
 * value ends at `Number.MAX_VALUE` (its formula bound would be +Inf, which belongs to the ±Inf
 * bucket after it).
 */
export function upperBound(key: number, schema: number): number {
  if (schema < 0) {
    const exp = key * 2 ** -schema;
    if (exp === 1024) return Number.MAX_VALUE;
    return exp > 1024 ? Number.POSITIVE_INFINITY : ldexp(1, exp);
  }
  const n = 1 << schema;
  const fracIdx = ((key % n) + n) % n;
  const frac = schema === 0 ? 0.5 : (boundsOf(schema)[fracIdx] as number);
  const exp = Math.floor(key / n) + 1;
  if (frac === 0.5 && exp === 1025) return Number.MAX_VALUE;
  return exp > 1025 ? Number.POSITIVE_INFINITY : ldexp(frac, exp);
}

/** The lower bound of bucket `key` (absolute value): the upper bound of the bucket before it. */
export const lowerBound = (key: number, schema: number): number => upperBound(key - 1, schema);

/** The index in `schema - by` of the bucket containing bucket `key` of `schema` (`by` >= 0). */
export const reduceKey = (key: number, by: number): number =>
  by === 0 ? key : Math.floor((key - 1) / 2 ** by) + 1;

/** The growth factor `2^(2^-s)` of a schema, as Prometheus computes it. */
export const factorOf = (schema: number): number =>
  schema <= 0 ? 2 ** (2 ** -schema) : (FACTORS[schema] as number);

/**
 * The schema of a requested bucket factor (> 1): the one with the largest growth factor that does
 * not exceed it (1.1 -> schema 3, factor 1.0905), -4 for factors of 65536 and more, 8 below
 * 2^(2^-8).
 */
export function schemaForFactor(factor: number): number {
  for (let s = MIN_SCHEMA; s < MAX_SCHEMA; s++) if (factorOf(s) <= factor) return s;
  return MAX_SCHEMA;
}
