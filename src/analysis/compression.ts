/**
 * How well the last turns of a conversation would compress, estimated in plain JavaScript, each turn's
 * bytes parsed once.
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
 * The turns are coded as one stream (see CompressionStream), so a turn that repeats one from further back
 * than the window's first turn, but within WINDOW bytes, still reads as repetitive; the first version parsed
 * the window's turns afresh every turn, four parses of each byte, a fifth of the keyword analysis' time.
 * On conversation windows it lies within a few hundredths of zlib level 1 given the same preceding bytes as
 * a dictionary (see the tests); it is deterministic on every machine, and low means repetitive.
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

/** A turn's share of the window: its raw bytes, the symbols its parse emitted, their extra bits. */
interface TurnCode {
  bytes: number;
  /** Literal/length symbols as themselves, distance bins as LITLEN_SYMBOLS + bin. */
  symbols: Uint16Array;
  extraBits: number;
}

const LITLEN_SYMBOLS = 286;
/** A conversation's bytes are numbered from here, so a stamp of 0 in the hash tables means "none". */
const FIRST_POSITION = 1;
/** Past this many bytes in one conversation the tables start over (positions must stay inside int32). */
const POSITION_LIMIT = 0x3fffffff;

/**
 * The compression ratio of a conversation's last `turns` turns, coded as one stream, turn by turn: each
 * turn is parsed once, with up to WINDOW bytes before it (earlier turns included) as its dictionary, as a
 * streaming deflate over the whole conversation would code it. The ratio over the last turns is the bits
 * their parses cost together over their bytes; each turn after the first counts one separator byte ("\n")
 * before it. One instance per conversation: it holds the recent bytes and the match tables.
 */
export class CompressionStream {
  private readonly encoder = new TextEncoder();
  /** The recent bytes: buffer index i holds the byte at position bufferStart + i. */
  private buffer = new Uint8Array(2 * WINDOW);
  private bufferStart = FIRST_POSITION;
  /** Position just past the last byte written. */
  private end = FIRST_POSITION;
  /** Positions below this were inserted into the hash chains (or skipped inside a match). */
  private hashed = FIRST_POSITION;
  /** Hash of 3 bytes → last position with that hash (0: none). */
  private readonly head = new Int32Array(HASH_SIZE);
  /** Position mod WINDOW → previous position with the same hash. */
  private readonly prev = new Int32Array(WINDOW);
  /** Symbol counts over the turns in the window. */
  private readonly litLen = new Uint32Array(LITLEN_SYMBOLS);
  private readonly dist = new Uint32Array(30);
  private readonly window: TurnCode[] = [];
  private emitted = new Uint16Array(1024);
  private turnCount = 0;
  /** Where each of the last turns began, oldest first: a turn refers back to the previous `turns - 1` only. */
  private readonly starts: number[] = [];

  constructor(private readonly turns = 4) {}

  /** Add a turn's text; returns the estimated compressed size / raw size of the last `turns` turns (1 when empty). */
  push(text: string): number {
    const separator = this.turnCount++ > 0;
    const start = this.append(text, separator);
    this.starts.push(start);
    if (this.starts.length > this.turns) this.starts.shift();
    const code = this.parse(start, Math.max(this.starts[0]!, this.bufferStart));
    this.window.push(code);
    if (this.window.length > this.turns) {
      const { symbols } = this.window.shift()!;
      for (let i = 0; i < symbols.length; i++) {
        const s = symbols[i]!;
        if (s < LITLEN_SYMBOLS) this.litLen[s]!--;
        else this.dist[s - LITLEN_SYMBOLS]!--;
      }
    }
    let n = 0;
    let extraBits = 0;
    for (const t of this.window) {
      n += t.bytes;
      extraBits += t.extraBits;
    }
    if (n === 0) return 1;
    // The window as one block: its symbols, plus the end-of-block code.
    this.litLen[256]!++;
    const bits = blockBits(this.litLen, this.dist, extraBits);
    this.litLen[256]!--;
    return Math.min(Math.ceil(bits / 8), n + STORED_OVERHEAD * Math.ceil(n / 65535)) / n;
  }

  /** Write the turn's bytes after the recent ones, keeping WINDOW bytes of history; returns its first position. */
  private append(text: string, separator: boolean): number {
    const need = text.length * 3 + 1;
    let used = this.end - this.bufferStart;
    if (used + need > this.buffer.length) {
      // Keep the last WINDOW bytes (and the two before them, whose hashes are still pending): older ones are out of reach.
      const keepFrom = Math.max(this.bufferStart, this.end - WINDOW - 2);
      const from = keepFrom - this.bufferStart;
      const keep = used - from;
      if (this.buffer.length >= keep + need) this.buffer.copyWithin(0, from, used);
      else {
        const next = new Uint8Array(Math.max(2 * this.buffer.length, keep + need));
        next.set(this.buffer.subarray(from, used));
        this.buffer = next;
      }
      this.bufferStart = keepFrom;
      used = this.end - this.bufferStart;
    }
    if (this.end + need > POSITION_LIMIT) this.restart();
    const start = this.end;
    if (separator) this.buffer[used++] = 10;
    used += this.encoder.encodeInto(text, this.buffer.subarray(used)).written;
    this.end = this.bufferStart + used;
    return start;
  }

  /** Forget every position: the next turn is coded with no history (after POSITION_LIMIT bytes only). */
  private restart(): void {
    this.head.fill(0);
    this.prev.fill(0);
    this.bufferStart = this.end = this.hashed = FIRST_POSITION;
  }

  /** Greedy LZ77 parse of the bytes from `start` to the end, counted into the window's symbol totals. */
  private parse(start: number, reachFrom: number): TurnCode {
    const { buffer: bytes, head, prev, litLen, dist } = this;
    const offset = this.bufferStart;
    const end = this.end;
    let emitted = this.emitted;
    if (emitted.length < end - start + 1) emitted = this.emitted = new Uint16Array(2 * (end - start + 1));
    let count = 0;
    let extraBits = 0;
    const insert = (p: number): number => {
      const i = p - offset;
      const h = Math.imul((bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!, 0x9e3779b1) >>> (32 - HASH_BITS);
      const candidate = head[h]!;
      prev[p & (WINDOW - 1)] = candidate;
      head[h] = p;
      return candidate;
    };
    // The last bytes of the previous turn now have the bytes after them: index them first.
    for (let p = this.hashed; p < start && p + MIN_MATCH <= end; p++) insert(p);

    let p = start;
    while (p < end) {
      let bestLen = 0;
      let bestDist = 0;
      if (p + MIN_MATCH <= end) {
        let candidate = insert(p);
        const maxLen = Math.min(MAX_MATCH, end - p);
        const i = p - offset;
        for (let tries = 0; tries < CHAIN && candidate > 0; tries++) {
          const d = p - candidate;
          if (d > WINDOW || d <= 0 || candidate < reachFrom) break;
          const j = candidate - offset;
          if (bytes[j + bestLen] === bytes[i + bestLen]) {
            let len = 0;
            while (len < maxLen && bytes[j + len] === bytes[i + len]) len++;
            if (len > bestLen) {
              bestLen = len;
              bestDist = d;
              if (len === maxLen) break;
            }
          }
          candidate = prev[candidate & (WINDOW - 1)]!;
        }
      }
      if (bestLen >= MIN_MATCH) {
        const lb = LENGTH_BIN[bestLen]!;
        const db = DIST_BIN[bestDist]!;
        litLen[257 + lb]!++;
        dist[db]!++;
        emitted[count++] = 257 + lb;
        emitted[count++] = LITLEN_SYMBOLS + db;
        extraBits += LENGTH_EXTRA[lb]! + DIST_EXTRA[db]!;
        // Index the bytes the match covers, so later repeats can point into it.
        for (let k = 1; k < bestLen && p + k + MIN_MATCH <= end; k++) insert(p + k);
        p += bestLen;
      } else {
        const b = bytes[p - offset]!;
        litLen[b]!++;
        emitted[count++] = b;
        p++;
      }
    }
    // Positions whose 3-byte hash needs the next turn's bytes wait for it.
    this.hashed = Math.max(start, end - (MIN_MATCH - 1));
    return { bytes: end - start, symbols: emitted.slice(0, count), extraBits };
  }
}

/** Bits of one block holding these symbols: a dynamic code at its entropy plus header, or the fixed code if cheaper. */
function blockBits(litLen: Uint32Array, dist: Uint32Array, extraBits: number): number {
  let { used, entropy, fixed } = alphabetBits(litLen, LITLEN_FIXED_BITS);
  const d = alphabetBits(dist, DIST_FIXED_BITS);
  used += d.used;
  entropy += d.entropy;
  fixed += d.fixed;
  const dynamic = HEADER_BITS + HEADER_BITS_PER_SYMBOL * used + entropy + extraBits;
  // The fixed code: 3 header bits, literal/length codes of 7–9 bits, 5-bit distances.
  return Math.min(dynamic, 3 + fixed + extraBits);
}

/** Deflate's fixed code lengths per literal/length symbol, and per distance bin. */
const LITLEN_FIXED_BITS = Uint8Array.from({ length: LITLEN_SYMBOLS }, (_, s) => (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8));
const DIST_FIXED_BITS = new Uint8Array(30).fill(5);
const alphabet = { used: 0, entropy: 0, fixed: 0 };
/** log2 of small counts, looked up (a window's counts are almost always below this). */
const LOG2 = Float64Array.from({ length: 1 << 14 }, (_, c) => (c === 0 ? 0 : Math.log2(c)));
const log2 = (c: number) => (c < LOG2.length ? LOG2[c]! : Math.log2(c));

/**
 * One alphabet's figures (into a shared record, read at once), in one pass: symbols used, its size under
 * the fixed code, and Σ count × log2(total / count) over the symbols used, at least one bit each as in any
 * prefix code (= total × log2 total − Σ count × log2 count, corrected for the one symbol that may hold more
 * than half the total).
 */
function alphabetBits(counts: Uint32Array, fixedBits: Uint8Array): typeof alphabet {
  let total = 0;
  let used = 0;
  let fixed = 0;
  let sumCLogC = 0;
  let most = 0;
  for (let s = 0; s < counts.length; s++) {
    const c = counts[s]!;
    if (c === 0) continue;
    total += c;
    used++;
    fixed += c * fixedBits[s]!;
    sumCLogC += c * log2(c);
    if (c > most) most = c;
  }
  let entropy = 0;
  if (total > 0) {
    const log2Total = log2(total);
    entropy = total * log2Total - sumCLogC;
    // A symbol with more than half the total would cost under one bit: charge it one.
    if (most * 2 > total) entropy += most * (1 - (log2Total - log2(most)));
  }
  alphabet.used = used;
  alphabet.entropy = entropy;
  alphabet.fixed = fixed;
  return alphabet;
}
