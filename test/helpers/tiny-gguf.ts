import { writeFileSync } from 'node:fs';

/**
 * Writes a tiny llama-architecture model as a GGUF v3 file, for running the real llama.cpp engine in
 * tests without downloading anything.
 *
 * The weights are random (from a seeded generator) except for one designed path: the model is built so
 * that the token it reads decides the token it writes, like a bigram table, for the tokens named in
 * `next`. Those tokens get orthogonal embeddings, and the output matrix maps each of them onto its
 * successor with a large logit; the transformer blocks are random and small, so they perturb the
 * residual stream without changing the argmax. With greedy sampling a turn therefore reads, say,
 * " ka lo mi", then a newline and the other speaker's tag, which is where the simulator stops it:
 * the text is nonsense, but every step of it is computed by llama.cpp.
 *
 * The tokenizer is a SentencePiece ("llama") vocabulary: <unk>, <s>, </s>, the 256 byte-fallback
 * tokens <0x00>..<0xFF>, "▁" (a space), the words the caller names, and every prefix of those words so
 * that SentencePiece's pairwise merges can reach them. Two tokens print a newline: the byte token
 * <0x0A> and the normal token "\n" (`NL_BYTE` and `NL_WORD` in `next`), so two speakers can each end
 * their turns with a newline that leads to a different tag.
 */

/** Key in `next` for the byte-fallback newline token <0x0A>. */
export const NL_BYTE = '<0x0A>';
/** Key in `next` for the normal "\n" token (what the tokenizer picks for a newline in a prompt). */
export const NL_WORD = '\n';

export interface TinyModelOptions {
  /** Words in the vocabulary besides bytes; a leading space is written as a space. */
  words: readonly string[];
  /** Designed successors, by token text (spaces as spaces; NL_BYTE / NL_WORD for the two newlines). */
  next: Readonly<Record<string, string>>;
  seed?: number;
  embedding?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  feedForward?: number;
  contextLength?: number;
  /** Logit of a designed successor (the rest are ~N(0, 0.2)). */
  strength?: number;
}

export interface TinyModel {
  path: string;
  tokens: readonly string[];
  parameters: number;
  bytes: number;
}

/** Two speakers, Alice and Bob, in the simulator's `chat` template: each turn stops at the other's tag. */
export const TALKERS: TinyModelOptions = {
  words: ['Alice:', 'Bob:', ' ka', ' lo', ' mi', ' zu', ' ve'],
  next: {
    'Alice:': ' ka',
    ' ka': ' lo',
    ' lo': ' mi',
    ' mi': NL_BYTE,
    [NL_BYTE]: 'Bob:',
    'Bob:': ' zu',
    ' zu': ' ve',
    ' ve': NL_WORD,
    [NL_WORD]: 'Alice:',
  },
};

/** Never writes a newline: every turn runs until it is stopped (abort, maxTokens); Alice loops " ka lo mi", Bob " zu ve". */
export const BABBLER: TinyModelOptions = {
  words: ['Alice:', 'Bob:', ' ka', ' lo', ' mi', ' zu', ' ve'],
  next: { 'Alice:': ' ka', ' ka': ' lo', ' lo': ' mi', ' mi': ' ka', 'Bob:': ' zu', ' zu': ' ve', ' ve': ' zu' },
};

const SPACE = '\u2581';
const GGUF_TYPE = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;
const GGML_F32 = 0;
const ALIGNMENT = 32;
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

type Value =
  | { t: 'u32'; v: number }
  | { t: 'f32'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'str'; v: string }
  | { t: 'str[]'; v: readonly string[] }
  | { t: 'f32[]'; v: readonly number[] }
  | { t: 'i32[]'; v: readonly number[] };

/** Little-endian byte writer that grows as needed. */
class Out {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private room(n: number) {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number) {
    this.room(4);
    this.length = this.buf.writeUInt32LE(v, this.length);
  }
  i32(v: number) {
    this.room(4);
    this.length = this.buf.writeInt32LE(v, this.length);
  }
  u64(v: number) {
    this.room(8);
    this.length = this.buf.writeBigUInt64LE(BigInt(v), this.length);
  }
  f32(v: number) {
    this.room(4);
    this.length = this.buf.writeFloatLE(v, this.length);
  }
  u8(v: number) {
    this.room(1);
    this.length = this.buf.writeUInt8(v, this.length);
  }
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.bytes(b);
  }
  bytes(b: Uint8Array) {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  pad(alignment: number) {
    while (this.length % alignment !== 0) this.u8(0);
  }
  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(out: Out, value: Value): void {
  switch (value.t) {
    case 'u32':
      out.u32(GGUF_TYPE.UINT32);
      out.u32(value.v);
      return;
    case 'f32':
      out.u32(GGUF_TYPE.FLOAT32);
      out.f32(value.v);
      return;
    case 'bool':
      out.u32(GGUF_TYPE.BOOL);
      out.u8(value.v ? 1 : 0);
      return;
    case 'str':
      out.u32(GGUF_TYPE.STRING);
      out.str(value.v);
      return;
    case 'str[]':
      out.u32(GGUF_TYPE.ARRAY);
      out.u32(GGUF_TYPE.STRING);
      out.u64(value.v.length);
      for (const s of value.v) out.str(s);
      return;
    case 'f32[]':
      out.u32(GGUF_TYPE.ARRAY);
      out.u32(GGUF_TYPE.FLOAT32);
      out.u64(value.v.length);
      for (const x of value.v) out.f32(x);
      return;
    case 'i32[]':
      out.u32(GGUF_TYPE.ARRAY);
      out.u32(GGUF_TYPE.INT32);
      out.u64(value.v.length);
      for (const x of value.v) out.i32(x);
      return;
    default: {
      const never: never = value;
      throw new Error(`unknown GGUF value ${JSON.stringify(never)}`);
    }
  }
}

/** mulberry32 with Box-Muller normals: the same seed gives the same file. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

interface Tensor {
  name: string;
  /** ggml order: the first dimension is the contiguous one (a matrix row). */
  dims: number[];
  data: Float32Array;
}

function vocabulary(words: readonly string[]): { tokens: string[]; types: number[]; scores: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.byte);
  }
  const pieces = new Set<string>([SPACE, NL_WORD]);
  for (const w of words) {
    const piece = w.replaceAll(' ', SPACE);
    const chars = [...piece];
    for (let n = 2; n <= chars.length; n++) pieces.add(chars.slice(0, n).join(''));
    if (chars.length === 1) pieces.add(piece);
  }
  for (const p of pieces) {
    tokens.push(p);
    types.push(TOKEN_TYPE.normal);
  }
  // SentencePiece merges the pair whose result scores highest; longer pieces first keeps words whole.
  const scores = tokens.map((t, i) => (types[i] === TOKEN_TYPE.normal ? [...t].length : 0));
  return { tokens, types, scores };
}

/** Write the model to `path`; returns its vocabulary and size. */
export function writeTinyGguf(path: string, options: TinyModelOptions = TALKERS): TinyModel {
  const d = options.embedding ?? 64;
  const layers = options.layers ?? 2;
  const heads = options.heads ?? 4;
  const kvHeads = options.kvHeads ?? 2;
  const ff = options.feedForward ?? 128;
  const strength = options.strength ?? 16;
  const headDim = d / heads;
  const rand = gaussian(options.seed ?? 1);
  const { tokens, types, scores } = vocabulary(options.words);
  const idOf = (text: string): number => {
    const piece = text === NL_BYTE || text === NL_WORD ? text : text.replaceAll(' ', SPACE);
    const id = tokens.indexOf(piece);
    if (id < 0) throw new Error(`tiny-gguf: '${text}' is not a token (add it to words)`);
    return id;
  };
  const vocab = tokens.length;
  const random = (n: number, std: number) => Float32Array.from({ length: n }, () => rand() * std);
  const ones = (n: number) => new Float32Array(n).fill(1);

  // Orthonormal directions for the designed tokens (Gram-Schmidt on random vectors).
  const designed = [...new Set(Object.entries(options.next).flatMap(([from, to]) => [idOf(from), idOf(to)]))];
  if (designed.length > d) throw new Error(`tiny-gguf: ${designed.length} designed tokens need an embedding of at least that size`);
  const basis = new Map<number, Float32Array>();
  for (const id of designed) {
    const v = random(d, 1);
    for (const u of basis.values()) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += v[i]! * u[i]!;
      for (let i = 0; i < d; i++) v[i]! -= dot * u[i]!;
    }
    let norm = 0;
    for (let i = 0; i < d; i++) norm += v[i]! * v[i]!;
    for (let i = 0; i < d; i++) v[i]! /= Math.sqrt(norm);
    basis.set(id, v);
  }

  // Embeddings of RMS 1: a designed token's is its direction scaled by sqrt(d), the rest random N(0, 1).
  const embd = random(vocab * d, 1);
  for (const [id, u] of basis) for (let i = 0; i < d; i++) embd[id * d + i] = u[i]! * Math.sqrt(d);
  // After the final RMS norm a designed token reads as sqrt(d)·u; the row of its successor holds
  // strength·u/sqrt(d), so that successor's logit is `strength` and every other designed row gives 0.
  const output = random(vocab * d, 0.02);
  for (const [from, to] of Object.entries(options.next)) {
    const u = basis.get(idOf(from))!;
    const row = idOf(to) * d;
    for (let i = 0; i < d; i++) output[row + i]! += (strength * u[i]!) / Math.sqrt(d);
  }

  const tensors: Tensor[] = [{ name: 'token_embd.weight', dims: [d, vocab], data: embd }];
  for (let l = 0; l < layers; l++) {
    const blk = `blk.${l}`;
    tensors.push(
      { name: `${blk}.attn_norm.weight`, dims: [d], data: ones(d) },
      { name: `${blk}.attn_q.weight`, dims: [d, d], data: random(d * d, 0.02) },
      { name: `${blk}.attn_k.weight`, dims: [d, kvHeads * headDim], data: random(d * kvHeads * headDim, 0.02) },
      { name: `${blk}.attn_v.weight`, dims: [d, kvHeads * headDim], data: random(d * kvHeads * headDim, 0.02) },
      { name: `${blk}.attn_output.weight`, dims: [d, d], data: random(d * d, 0.02) },
      { name: `${blk}.ffn_norm.weight`, dims: [d], data: ones(d) },
      { name: `${blk}.ffn_gate.weight`, dims: [d, ff], data: random(d * ff, 0.02) },
      { name: `${blk}.ffn_up.weight`, dims: [d, ff], data: random(d * ff, 0.02) },
      { name: `${blk}.ffn_down.weight`, dims: [ff, d], data: random(ff * d, 0.02) },
    );
  }
  tensors.push({ name: 'output_norm.weight', dims: [d], data: ones(d) }, { name: 'output.weight', dims: [d, vocab], data: output });

  const metadata: [string, Value][] = [
    ['general.architecture', { t: 'str', v: 'llama' }],
    ['general.name', { t: 'str', v: 'tiny-test-llama' }],
    ['general.alignment', { t: 'u32', v: ALIGNMENT }],
    ['llama.context_length', { t: 'u32', v: options.contextLength ?? 512 }],
    ['llama.embedding_length', { t: 'u32', v: d }],
    ['llama.block_count', { t: 'u32', v: layers }],
    ['llama.feed_forward_length', { t: 'u32', v: ff }],
    ['llama.attention.head_count', { t: 'u32', v: heads }],
    ['llama.attention.head_count_kv', { t: 'u32', v: kvHeads }],
    ['llama.rope.dimension_count', { t: 'u32', v: headDim }],
    ['llama.attention.layer_norm_rms_epsilon', { t: 'f32', v: 1e-5 }],
    ['tokenizer.ggml.model', { t: 'str', v: 'llama' }],
    ['tokenizer.ggml.tokens', { t: 'str[]', v: tokens }],
    ['tokenizer.ggml.scores', { t: 'f32[]', v: scores }],
    ['tokenizer.ggml.token_type', { t: 'i32[]', v: types }],
    ['tokenizer.ggml.unknown_token_id', { t: 'u32', v: 0 }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: 1 }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: 2 }],
    ['tokenizer.ggml.add_bos_token', { t: 'bool', v: true }],
    ['tokenizer.ggml.add_eos_token', { t: 'bool', v: false }],
    ['tokenizer.ggml.add_space_prefix', { t: 'bool', v: false }],
  ];

  const out = new Out();
  out.bytes(Buffer.from('GGUF', 'ascii'));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, value] of metadata) {
    out.str(key);
    writeValue(out, value);
  }
  let offset = 0;
  for (const t of tensors) {
    out.str(t.name);
    out.u32(t.dims.length);
    for (const n of t.dims) out.u64(n);
    out.u32(GGML_F32);
    out.u64(offset);
    offset += Math.ceil(t.data.byteLength / ALIGNMENT) * ALIGNMENT;
  }
  out.pad(ALIGNMENT);
  for (const t of tensors) {
    out.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    out.pad(ALIGNMENT);
  }
  const file = out.result();
  writeFileSync(path, file);
  return { path, tokens, parameters: tensors.reduce((n, t) => n + t.data.length, 0), bytes: file.length };
}
