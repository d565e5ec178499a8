/**
 * A set of integers in [0, 2^53) in one open-addressed table, cleared in O(1) by a generation stamp.
 *
 * The n-gram ids of the text features pack three word ids into one number above 2^31, which V8 keeps as a
 * boxed double: a `Set<number>` of them allocated and hashed a heap object per n-gram, and cost more than the
 * rest of a turn's overlap and diversity features together. The members are also kept in insertion order,
 * so a caller can walk them without a second structure.
 */
export class IntSet {
  private keys: Float64Array;
  /** Which generation wrote each slot: a slot of another generation is empty. */
  private stamps: Uint32Array;
  private generation = 1;
  private mask: number;
  /** The members, in the order they were first added (the first `size` entries). */
  private order: Float64Array;
  size = 0;

  constructor(capacity = 64) {
    const slots = slotsFor(capacity);
    this.keys = new Float64Array(slots);
    this.stamps = new Uint32Array(slots);
    this.mask = slots - 1;
    this.order = new Float64Array(capacity);
  }

  /** Empty the set, making room for `expected` members without growing. */
  clear(expected = 0): void {
    this.size = 0;
    if (slotsFor(expected) > this.keys.length) {
      const slots = slotsFor(expected);
      this.keys = new Float64Array(slots);
      this.stamps = new Uint32Array(slots);
      this.mask = slots - 1;
      this.generation = 1;
    } else if (++this.generation === 0xffffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
    if (expected > this.order.length) this.order = new Float64Array(expected);
  }

  /** Add `x`; true when it was not there yet. */
  add(x: number): boolean {
    if ((this.size + 1) * 2 > this.keys.length) this.grow();
    const { keys, stamps, mask, generation } = this;
    for (let i = hash(x) & mask; ; i = (i + 1) & mask) {
      if (stamps[i] !== generation) {
        stamps[i] = generation;
        keys[i] = x;
        if (this.size === this.order.length) {
          const order = new Float64Array(this.order.length * 2);
          order.set(this.order);
          this.order = order;
        }
        this.order[this.size++] = x;
        return true;
      }
      if (keys[i] === x) return false;
    }
  }

  has(x: number): boolean {
    const { keys, stamps, mask, generation } = this;
    for (let i = hash(x) & mask; ; i = (i + 1) & mask) {
      if (stamps[i] !== generation) return false;
      if (keys[i] === x) return true;
    }
  }

  /** The i-th member added (0 ≤ i < size). */
  at(i: number): number {
    return this.order[i]!;
  }

  private grow(): void {
    const members = this.order.subarray(0, this.size).slice();
    const slots = this.keys.length * 2;
    this.keys = new Float64Array(slots);
    this.stamps = new Uint32Array(slots);
    this.mask = slots - 1;
    this.generation = 1;
    this.size = 0;
    for (const x of members) this.add(x);
  }
}

/** A power of two at least twice `n` (and at least 16), so the table stays at most half full. */
function slotsFor(n: number): number {
  let slots = 16;
  while (slots < n * 2) slots *= 2;
  return slots;
}

function hash(x: number): number {
  const lo = x >>> 0;
  const hi = (x / 4294967296) | 0;
  const h = Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1);
  return h ^ (h >>> 15);
}
