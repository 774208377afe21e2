/**
 * Numbers: latency samples and their percentiles, medians across repeated runs.
 */

export interface Percentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** How many samples the percentiles were taken from. */
  n: number;
}

/** Collects samples (milliseconds) in a growable typed array; cheap enough to call per message. */
export class Samples {
  #data = new Float64Array(1 << 16);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  add(value: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }

  percentiles(): Percentiles | undefined {
    return percentiles(this.#data.subarray(0, this.#length));
  }
}

/** Nearest-rank percentiles; undefined for no samples. Sorts a copy. */
export function percentiles(values: ArrayLike<number>): Percentiles | undefined {
  const n = values.length;
  if (n === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => round3(sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number);
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: round3(sorted[n - 1] as number), n };
}

/** The median of a list (mean of the middle two for an even count); undefined when empty. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/**
 * Median of each numeric leaf across several result objects of the same shape (arrays and strings
 * are taken from the first). Used to fold the repeated runs of one scenario into one line.
 */
export function medianOf(results: readonly unknown[]): unknown {
  const first = results[0];
  if (typeof first === 'number') {
    const numbers = results.filter((r): r is number => typeof r === 'number');
    const m = median(numbers);
    return m === undefined ? first : Number.isInteger(first) && numbers.every(Number.isInteger) ? Math.round(m) : round3(m);
  }
  if (first === null || typeof first !== 'object' || Array.isArray(first)) return first;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(first)) {
    out[key] = medianOf(results.map((r) => (r as Record<string, unknown> | undefined)?.[key]).filter((v) => v !== undefined));
  }
  return out;
}
