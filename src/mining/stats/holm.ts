/**
 * Holm's step-down adjustment of m p-values for the family-wise error rate: the i-th smallest p is
 * multiplied by (m − i + 1), and adjusted values are kept non-decreasing in that order and at most 1.
 * Returned in the order given.
 */
export function holm(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}
