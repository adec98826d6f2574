/**
 * A small seeded pseudo-random generator (32-bit xorshift), so `--random-paths` draws
 * the same paths for the same seed on every machine; Math.random cannot be seeded.
 */
export type Random = () => number;

/** Uniform numbers in [0, 1) from a 32-bit xorshift state. */
export function seededRandom(seed: number): Random {
  // Mix the seed so nearby seeds do not start from nearby states; never let the state be 0.
  let state = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0 || 0x6d2b79f5;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x100000000;
  };
}

/** `count` distinct items of `items`, drawn uniformly (partial Fisher-Yates). */
export function sampleDistinct<T>(items: readonly T[], count: number, random: Random): T[] {
  const pool = [...items];
  const take = Math.min(count, pool.length);
  for (let i = 0; i < take; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, take);
}
