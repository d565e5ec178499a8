import { describe, expect, it } from 'vitest';
import { IntSet } from '../../src/analysis/int-set.js';

describe('IntSet', () => {
  it('agrees with Set on n-gram-sized integers, through growth and clearing', () => {
    const ours = new IntSet(4);
    let x = 99;
    const next = () => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      // Up to 2^51, as three 17-bit word ids packed together; a small range too, so repeats happen.
      return x % 3 === 0 ? x % 50 : (x % 131072) * 2 ** 34 + (x >>> 3) * 131 + (x & 7);
    };
    for (let round = 0; round < 5; round++) {
      const reference = new Set<number>();
      ours.clear(round * 10);
      for (let i = 0; i < 2000 * (round + 1); i++) {
        const v = next();
        expect(ours.add(v)).toBe(!reference.has(v));
        reference.add(v);
      }
      expect(ours.size).toBe(reference.size);
      expect(Array.from({ length: ours.size }, (_, i) => ours.at(i))).toEqual([...reference]);
      for (let i = 0; i < 500; i++) {
        const v = next();
        expect(ours.has(v)).toBe(reference.has(v));
      }
    }
    ours.clear();
    expect(ours.size).toBe(0);
    expect(ours.has(0)).toBe(false);
    expect(ours.add(0)).toBe(true);
  });
});
