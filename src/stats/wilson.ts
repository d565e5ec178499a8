/** z for a two-sided 95% interval (the 0.975 quantile of the standard normal). */
export const Z95 = 1.959963984540054;

/**
 * Wilson score interval for a proportion of `count` successes in `n` trials. Unlike the normal
 * approximation it stays inside [0, 1] and is sensible at 0/n and n/n, which attractor incidence often is.
 */
export function wilson(count: number, n: number, z = Z95): [number, number] {
  if (n <= 0) return [0, 1];
  const p = count / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, center - half), Math.min(1, center + half)];
}
