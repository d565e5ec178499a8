/**
 * How well a piece of text would compress, estimated in plain JavaScript with no allocation per call.
 *
 * The figure is meant to read like a deflate (gzip) ratio, the diversity measure used in the literature,
 * without calling zlib: a native zlib call per turn cost a fifth of a CPU-bound batch, and Node's bundled
 * zlib picks its hash by CPU, so its output size is not the same on every machine. The estimate is:
 *
 * 1. the UTF-8 bytes are parsed greedily into literals and back-references (LZ77: matches of 3 to 258
 *    bytes, up to WINDOW bytes back, the four most recent candidates tried at each position), as deflate's
 *    fastest level does;
 * 2. literals and match lengths share one alphabet of 286 symbols, distances another of 30, both binned
 *    as in deflate (RFC 1951 §3.2.5), and each alphabet is costed at its empirical entropy, the size an
 *    optimal code built for this text would reach, plus the extra bits of each length and distance bin;
 * 3. a code-table header of HEADER_BITS plus HEADER_BITS_PER_SYMBOL for each symbol used, as a dynamic
 *    deflate block carries.
 *
 * The ratio is that many bytes over the input's bytes, or the cost of deflate's fixed code or of storing
 * the bytes raw when either is smaller (as for a few bytes, where a header would cost more than it saves).
 * On our detection evaluation windows it lies within a few hundredths of zlib level 1 (see the tests);
 * it is deterministic on every machine, and low means repetitive.
 */

const WINDOW = 4096;
const MIN_MATCH = 3;
const MAX_MATCH = 258;
const CHAIN = 4;
const HASH_BITS = 12;
const HASH_SIZE = 1 << HASH_BITS;
/** Block header: 3 bits, three counts (14 bits), the code-length code (about 19 × 3 bits). */
const HEADER_BITS = 3 + 14 + 57;
/** Each used symbol's code length, run-length coded: about 5 bits on average (fitted to zlib on our evaluation set). */
const HEADER_BITS_PER_SYMBOL = 5;
/** Stored block: 5 bytes of header per block of up to 65,535 bytes. */
const STORED_OVERHEAD = 5;

/** Length bins 257–285 (RFC 1951): base length and extra bits. */
const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
/** Distance bins 0–29: base distance and extra bits. */
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/** Length (3–258) → bin index 0–28, and distance (1–4096) → bin index, precomputed. */
const LENGTH_BIN = new Uint8Array(MAX_MATCH + 1);
const DIST_BIN = new Uint8Array(WINDOW + 1);
for (let b = 0; b < LENGTH_BASE.length; b++) for (let l = LENGTH_BASE[b]!; l <= MAX_MATCH && (b + 1 >= LENGTH_BASE.length || l < LENGTH_BASE[b + 1]!); l++) LENGTH_BIN[l] = b;
LENGTH_BIN[MAX_MATCH] = LENGTH_BASE.length - 1;
for (let b = 0; b < DIST_BASE.length; b++) for (let d = DIST_BASE[b]!; d <= WINDOW && (b + 1 >= DIST_BASE.length || d < DIST_BASE[b + 1]!); d++) DIST_BIN[d] = b;

/**
 * A reusable estimator: one per thread is enough (calls are synchronous). Its tables are kept between
 * calls; positions are stamped with a running offset so the hash table never needs clearing.
 */
export class CompressionEstimator {
  private bytes = new Uint8Array(8192);
  private readonly encoder = new TextEncoder();
  /** Hash of 3 bytes → last absolute position + 1 with that hash (0: none). */
  private readonly head = new Int32Array(HASH_SIZE);
  /** Absolute position (mod WINDOW) → previous absolute position + 1 with the same hash. */
  private readonly prev = new Int32Array(WINDOW);
  private readonly litLen = new Uint32Array(286);
  private readonly dist = new Uint32Array(30);
  /** The symbols seen in this call, so counting, costing and clearing touch only those. */
  private readonly usedLitLen: number[] = [];
  private readonly usedDist: number[] = [];
  /** Absolute position of byte 0 of the current input: earlier positions belong to earlier calls. */
  private offset = 1;

  /** Estimated compressed size / raw UTF-8 size of `parts` joined by `separator`; 1 for empty input. */
  ratio(parts: readonly string[], separator = '\n'): number {
    const n = this.encode(parts, separator);
    if (n === 0) return 1;
    return Math.min(Math.ceil(this.estimateBits(n) / 8), n + STORED_OVERHEAD * Math.ceil(n / 65535)) / n;
  }

  private encode(parts: readonly string[], separator: string): number {
    let need = separator.length * 3 * Math.max(parts.length - 1, 0);
    for (const p of parts) need += p.length * 3;
    if (need > this.bytes.length) this.bytes = new Uint8Array(Math.max(need, this.bytes.length * 2));
    let n = 0;
    for (let i = 0; i < parts.length; i++) {
      if (i > 0) n += this.encoder.encodeInto(separator, this.bytes.subarray(n)).written;
      n += this.encoder.encodeInto(parts[i]!, this.bytes.subarray(n)).written;
    }
    return n;
  }

  private estimateBits(n: number): number {
    const { bytes, head, prev, litLen, dist, usedLitLen, usedDist } = this;
    // Keep stamps well inside int32: when the running offset grows large, forget every old position.
    if (this.offset > 0x3fffffff - n) {
      head.fill(0);
      prev.fill(0);
      this.offset = 1;
    }
    const base = this.offset;
    this.offset += n + WINDOW;
    let extraBits = 0;
    const countLitLen = (s: number) => {
      if (litLen[s]!++ === 0) usedLitLen.push(s);
    };

    const insert = (i: number): number => {
      const h = Math.imul((bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!, 0x9e3779b1) >>> (32 - HASH_BITS);
      const candidate = head[h]!;
      prev[(base + i) & (WINDOW - 1)] = candidate;
      head[h] = base + i + 1;
      return candidate;
    };

    let i = 0;
    while (i < n) {
      let bestLen = 0;
      let bestDist = 0;
      if (i + MIN_MATCH <= n) {
        let candidate = insert(i);
        const maxLen = Math.min(MAX_MATCH, n - i);
        for (let tries = 0; tries < CHAIN && candidate > base; tries++) {
          const j = candidate - 1 - base;
          const d = i - j;
          if (d > WINDOW || d <= 0) break;
          if (bytes[j + bestLen] === bytes[i + bestLen]) {
            let len = 0;
            while (len < maxLen && bytes[j + len] === bytes[i + len]) len++;
            if (len > bestLen) {
              bestLen = len;
              bestDist = d;
              if (len === maxLen) break;
            }
          }
          candidate = prev[(candidate - 1) & (WINDOW - 1)]!;
        }
      }
      if (bestLen >= MIN_MATCH) {
        const lb = LENGTH_BIN[bestLen]!;
        const db = DIST_BIN[bestDist]!;
        countLitLen(257 + lb);
        if (dist[db]!++ === 0) usedDist.push(db);
        extraBits += LENGTH_EXTRA[lb]! + DIST_EXTRA[db]!;
        // Index the bytes the match covers, so later repeats can point into it.
        for (let k = 1; k < bestLen && i + k + MIN_MATCH <= n; k++) insert(i + k);
        i += bestLen;
      } else {
        countLitLen(bytes[i]!);
        i++;
      }
    }
    countLitLen(256);

    const coded = entropyBits(litLen, usedLitLen) + entropyBits(dist, usedDist) + extraBits;
    const dynamic = HEADER_BITS + HEADER_BITS_PER_SYMBOL * (usedLitLen.length + usedDist.length) + coded;
    const bits = Math.min(dynamic, fixedCodeBits(litLen, usedLitLen, dist, usedDist) + extraBits);
    for (const s of usedLitLen) litLen[s] = 0;
    for (const s of usedDist) dist[s] = 0;
    usedLitLen.length = 0;
    usedDist.length = 0;
    return bits;
  }
}

/** Bits under deflate's fixed code: 3 header bits, literal/length codes of 7–9 bits, 5-bit distances. */
function fixedCodeBits(litLen: Uint32Array, usedLitLen: readonly number[], dist: Uint32Array, usedDist: readonly number[]): number {
  let bits = 3;
  for (const s of usedLitLen) bits += litLen[s]! * (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8);
  for (const s of usedDist) bits += dist[s]! * 5;
  return bits;
}

/** Σ count × log2(total / count) over the symbols used. */
function entropyBits(counts: Uint32Array, used: readonly number[]): number {
  let total = 0;
  for (const s of used) total += counts[s]!;
  if (total === 0) return 0;
  let bits = 0;
  for (const s of used) {
    const c = counts[s]!;
    // A symbol costs at least one bit, as in any prefix code.
    bits += c * Math.max(1, Math.log2(total / c));
  }
  return bits;
}
