import type { Histogram } from '../../broker/histogram.js';

/**
 * Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * Families are built at scrape time from the broker's own counters and rendered straight to text: no
 * registry holds a copy of the numbers between scrapes.
 */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

export interface HistogramSample {
  readonly labels?: Labels;
  readonly histogram: Histogram;
}

export type MetricFamily =
  | { readonly name: string; readonly help: string; readonly type: 'counter' | 'gauge' | 'untyped'; readonly samples: readonly Sample[] }
  | { readonly name: string; readonly help: string; readonly type: 'histogram'; readonly samples: readonly HistogramSample[] };

export function counter(name: string, help: string, samples: readonly Sample[] | number): MetricFamily {
  return { name, help, type: 'counter', samples: typeof samples === 'number' ? [{ value: samples }] : samples };
}

export function gauge(name: string, help: string, samples: readonly Sample[] | number): MetricFamily {
  return { name, help, type: 'gauge', samples: typeof samples === 'number' ? [{ value: samples }] : samples };
}

export function untyped(name: string, help: string, samples: readonly Sample[]): MetricFamily {
  return { name, help, type: 'untyped', samples };
}

export function histogram(name: string, help: string, samples: readonly HistogramSample[]): MetricFamily {
  return { name, help, type: 'histogram', samples };
}

/** The families as exposition text, each with its `# HELP` and `# TYPE` lines. */
export function render(families: Iterable<MetricFamily>): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') {
      for (const sample of family.samples) renderHistogram(lines, family.name, sample);
    } else {
      for (const sample of family.samples) lines.push(`${family.name}${labelText(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

function renderHistogram(lines: string[], name: string, { labels, histogram: h }: HistogramSample): void {
  let cumulative = 0;
  h.bounds.forEach((bound, i) => {
    cumulative += h.counts[i] as number;
    lines.push(`${name}_bucket${labelText({ ...labels, le: formatBound(bound) })} ${formatValue(cumulative)}`);
  });
  lines.push(`${name}_bucket${labelText({ ...labels, le: '+Inf' })} ${formatValue(h.count)}`);
  lines.push(`${name}_sum${labelText(labels)} ${formatValue(h.sum)}`);
  lines.push(`${name}_count${labelText(labels)} ${formatValue(h.count)}`);
}

function labelText(labels: Labels | undefined): string {
  if (!labels) return '';
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabelValue(value)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

/** Label values escape backslash, double quote and line feed; HELP text only backslash and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/**
 * A bucket bound as Prometheus writes it once scraped (Go's shortest `%g`, with `.0` on whole numbers):
 * `100.0`, `0.00025`, `1e+06`. RabbitMQ's dashboards match `le` by that exact string (`le="1e+06"`), and
 * Prometheus 2 keeps the scraped string as it is, so it has to be that string already.
 */
export function formatBound(bound: number): string {
  if (!Number.isFinite(bound)) return formatValue(bound);
  const exponent = bound === 0 ? 0 : Math.floor(Math.log10(Math.abs(bound)));
  if (exponent < -4 || exponent >= 6) {
    const [mantissa, power = '0'] = bound.toExponential().split('e');
    const sign = power.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${power.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  const plain = String(bound);
  return plain.includes('.') ? plain : `${plain}.0`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}
