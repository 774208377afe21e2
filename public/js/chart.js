// @ts-check
/**
 * Live charts with uPlot (from npm, served at /vendor/uplot/). The server samples every few seconds; the
 * console polls every second, so a chart is seeded with the server's history (`*_details.samples`) and
 * then extended with each poll's live values: it moves every second instead of jumping every five.
 */
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { h, setText, uid } from './dom.js';
import { num, rate } from './format.js';

/** @typedef {{sample: number, timestamp: number}} Sample */

/** The ranges a chart can show, and the sample spacing asked of the server for each. */
export const RANGES = [
  { id: '60', label: 'Last minute', ageS: 60, incrS: 5 },
  { id: '600', label: 'Last 10 minutes', ageS: 600, incrS: 5 },
  { id: '3600', label: 'Last hour', ageS: 3600, incrS: 60 },
];

/** Query parameters asking the server for the history of a range. @param {string} rangeId */
export function rangeQuery(rangeId) {
  const range = RANGES.find((r) => r.id === rangeId) ?? /** @type {typeof RANGES[number]} */ (RANGES[1]);
  return { lengths_age: range.ageS, lengths_incr: range.incrS, msg_rates_age: range.ageS, msg_rates_incr: range.incrS };
}

/** A select for the range. @param {string} value @param {(rangeId: string) => void} onChange */
export function rangePicker(value, onChange) {
  const id = uid('range');
  const sel = h('select', { id, onchange: () => onChange(sel.value) }, ...RANGES.map((r) => h('option', { value: r.id, text: r.label })));
  sel.value = value;
  return { element: h('div', { class: 'field inline' }, h('label', { for: id, text: 'Chart range' }), sel), select: sel };
}

/**
 * History of several series of one object: seeded from server samples, extended by live readings.
 * Counters (publish, ack…) become rates; gauges (queue lengths) are shown as they are.
 */
export class History {
  /** @param {string[]} names */
  constructor(names) {
    this.names = names;
    /** @type {number[]} times in ms */
    this.times = [];
    /** @type {number[][]} one array per name, aligned with times */
    this.values = names.map(() => []);
    /** time of the first live reading; seeded points are kept only before it */
    this.firstLive = Infinity;
  }

  /**
   * Replaces the seeded part with server samples (newest first, as the API sends them).
   * @param {Record<string, Sample[] | undefined>} samplesByName
   */
  seed(samplesByName) {
    /** @type {Map<number, number[]>} */
    const byTime = new Map();
    this.names.forEach((name, i) => {
      for (const s of samplesByName[name] ?? []) {
        if (s.timestamp >= this.firstLive) continue;
        let row = byTime.get(s.timestamp);
        if (!row) {
          row = this.names.map(() => NaN);
          byTime.set(s.timestamp, row);
        }
        row[i] = s.sample;
      }
    });
    const seeded = [...byTime.keys()].sort((a, b) => a - b);
    const liveStart = this.times.findIndex((t) => t >= this.firstLive);
    const liveTimes = liveStart < 0 ? [] : this.times.slice(liveStart);
    const liveValues = this.values.map((v) => (liveStart < 0 ? [] : v.slice(liveStart)));
    this.times = [...seeded, ...liveTimes];
    this.values = this.names.map((_, i) => [...seeded.map((t) => /** @type {number[]} */ (byTime.get(t))[i] ?? NaN), ...(liveValues[i] ?? [])]);
  }

  /** @param {number} t ms @param {Record<string, number | undefined>} valuesByName */
  push(t, valuesByName) {
    const last = this.times[this.times.length - 1];
    if (last !== undefined && t <= last) return;
    if (this.firstLive === Infinity) this.firstLive = t;
    this.times.push(t);
    this.names.forEach((name, i) => /** @type {number[]} */ (this.values[i]).push(valuesByName[name] ?? NaN));
  }

  /** Time of the newest live reading (0 when none). */
  get lastLive() {
    return this.firstLive === Infinity ? 0 : (this.times[this.times.length - 1] ?? 0);
  }

  /** Forgets live readings, so the next seed covers everything (after a gap in polling). */
  resetLive() {
    this.firstLive = Infinity;
    this.times = [];
    this.values = this.names.map(() => []);
  }

  /** Drops points older than `t`, keeping one before it so lines reach the edge. @param {number} t */
  prune(t) {
    let cut = 0;
    while (cut + 1 < this.times.length && /** @type {number} */ (this.times[cut + 1]) < t) cut += 1;
    if (cut > 0) {
      this.times.splice(0, cut);
      for (const v of this.values) v.splice(0, cut);
    }
  }

  /** The values as they are (gauges). @returns {{times: number[], series: (number | null)[][]}} */
  levels() {
    return { times: this.times, series: this.values.map((v) => v.map((x) => (Number.isNaN(x) ? null : x))) };
  }

  /**
   * Per-second rates of counters, each over at least `windowMs` (smooths one-second readings).
   * @param {number} windowMs
   * @returns {{times: number[], series: (number | null)[][]}}
   */
  rates(windowMs) {
    const times = this.times;
    const series = this.values.map((values) => {
      /** @type {(number | null)[]} */
      const out = [];
      let j = 0;
      for (let i = 0; i < times.length; i++) {
        const ti = /** @type {number} */ (times[i]);
        while (j + 1 < i && ti - /** @type {number} */ (times[j + 1]) >= windowMs) j += 1;
        const vi = /** @type {number} */ (values[i]);
        const vj = /** @type {number} */ (values[j]);
        const dt = ti - /** @type {number} */ (times[j]);
        if (i === 0 || dt <= 0 || Number.isNaN(vi) || Number.isNaN(vj)) out.push(i === 0 ? null : out[i - 1] ?? null);
        else out.push(Math.max(0, ((vi - vj) * 1000) / dt));
      }
      return out;
    });
    return { times, series };
  }
}

/** @param {string} name */
function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * A uPlot line chart over a sliding time window, with its own legend of latest values (text, so the
 * numbers are readable by everyone, including screen readers and tests).
 */
export class LiveChart {
  /**
   * @param {{title: string, labels: string[], unit: 'rate' | 'count', height?: number}} options
   */
  constructor(options) {
    this.options = options;
    this.height = options.height ?? 180;
    /** @type {uPlot.AlignedData} */
    this.data = [[], ...options.labels.map(() => [])];
    this.windowS = 600;
    /** @type {uPlot | null} */
    this.plot = null;
    this.plotEl = h('div', { class: 'plot' });
    /** @type {HTMLElement[]} */
    this.valueEls = [];
    const legend = h(
      'ul',
      { class: 'legend' },
      ...options.labels.map((label, i) => {
        const value = h('span', { class: 'legend-value', text: '–' });
        this.valueEls.push(value);
        return h('li', { 'data-series': label }, h('span', { class: `swatch s${i + 1}`, 'aria-hidden': 'true' }), h('span', { text: label }), value);
      }),
    );
    const titleId = uid('chart');
    this.element = h('figure', { class: 'chart', 'aria-labelledby': titleId }, h('figcaption', { id: titleId, text: options.title }), legend, this.plotEl);
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.plotEl);
    this.theme = window.matchMedia('(prefers-color-scheme: dark)');
    this.onTheme = () => this.rebuild();
    this.theme.addEventListener('change', this.onTheme);
  }

  rebuild() {
    this.plot?.destroy();
    this.plot = null;
    this.ensurePlot();
  }

  ensurePlot() {
    if (this.plot || !this.plotEl.isConnected) return;
    const width = Math.max(200, this.plotEl.clientWidth);
    const axis = cssVar('--chart-axis');
    const grid = cssVar('--chart-grid');
    const fmt = this.options.unit === 'rate' ? rate : num;
    /** @type {uPlot.Options} */
    const opts = {
      width,
      height: this.height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true, range: () => [this.now - this.windowS, this.now] },
        y: { range: (_u, _min, max) => [0, niceMax(max)] },
      },
      axes: [
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
        {
          stroke: axis,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          size: 56,
          // Counts are whole numbers: no 0.5 ticks.
          ...(this.options.unit === 'count' ? { incrs: WHOLE_STEPS } : {}),
          values: (_u, splits) => splits.map((v) => (this.options.unit === 'rate' ? fmt(v).replace('/s', '') : fmt(v))),
        },
      ],
      series: [
        {},
        ...this.options.labels.map((label, i) => ({
          label,
          stroke: cssVar(`--series-${i + 1}`),
          width: 2,
          points: { show: false },
          spanGaps: true,
          value: (/** @type {uPlot} */ _u, /** @type {number | null} */ v) => (v === null ? '–' : fmt(v)),
        })),
      ],
    };
    this.plot = new uPlot(opts, this.data, this.plotEl);
  }

  get now() {
    return Date.now() / 1000;
  }

  resize() {
    if (!this.plot) return this.ensurePlot();
    const width = Math.max(200, this.plotEl.clientWidth);
    if (Math.abs(width - this.plot.width) > 1) this.plot.setSize({ width, height: this.height });
  }

  /**
   * @param {{times: number[], series: (number | null)[][]}} data times in ms
   * @param {number} windowS seconds shown, ending now
   */
  set(data, windowS) {
    this.windowS = windowS;
    this.data = [data.times.map((t) => t / 1000), ...data.series];
    data.series.forEach((values, i) => {
      let latest = null;
      for (let k = values.length - 1; k >= 0 && latest === null; k--) latest = values[k] ?? null;
      // One reading and no rate yet reads as zero, not as unknown.
      if (latest === null && data.times.length > 0) latest = 0;
      const el = this.valueEls[i];
      if (el) {
        setText(el, latest === null ? '–' : this.options.unit === 'rate' ? rate(latest) : num(latest));
        el.dataset.value = latest === null ? '' : String(latest);
      }
    });
    this.element.dataset.points = String(data.times.length);
    this.element.dataset.latest = String(data.times[data.times.length - 1] ?? '');
    this.ensurePlot();
    this.plot?.setData(this.data, true);
  }

  destroy() {
    this.resizeObserver.disconnect();
    this.theme.removeEventListener('change', this.onTheme);
    this.plot?.destroy();
    this.plot = null;
  }
}

/** Tick steps for whole-number axes: 1, 2, 5, 10, 20, 50… */
const WHOLE_STEPS = Array.from({ length: 13 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat();

/** A round upper bound for the y axis, never zero. @param {number | null} max */
function niceMax(max) {
  if (max === null || !Number.isFinite(max) || max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  const scaled = max / magnitude;
  const step = scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10;
  return step * magnitude;
}

/**
 * The sample arrays of a stats object: `{publish: obj.message_stats.publish_details.samples, …}`.
 * @param {unknown} source an object holding `<key>_details`
 * @param {string[]} keys
 */
export function samplesOf(source, keys) {
  /** @type {Record<string, Sample[] | undefined>} */
  const out = {};
  const record = /** @type {Record<string, {samples?: Sample[]} | undefined>} */ (source ?? {});
  for (const key of keys) out[key] = record[`${key}_details`]?.samples;
  return out;
}

/**
 * @typedef {Object} ChartSpec
 * @property {string} title
 * @property {string} id `data-chart` of the figure (for tests and styling)
 * @property {Array<{key: string, label: string}>} series
 * @property {(apiObject: any) => any} from where the `<key>` / `<key>_details` fields live in the API object
 */

/**
 * The live charts of one API object (the overview, a queue, an exchange): message rates from counters
 * and queue lengths from gauges. Each `poll` reads the object once; the first poll (and the first after a
 * range change or a pause) also fetches the server's history for the range.
 */
export class LiveCharts {
  /** @param {{rates?: ChartSpec, lengths?: ChartSpec, rangeId: string}} options */
  constructor(options) {
    this.rangeId = options.rangeId;
    this.needSeed = true;
    /** @type {Array<{spec: ChartSpec, kind: 'rate' | 'count', history: History, chart: LiveChart}>} */
    this.parts = [];
    for (const [spec, kind] of /** @type {const} */ ([
      [options.lengths, 'count'],
      [options.rates, 'rate'],
    ])) {
      if (!spec) continue;
      const chart = new LiveChart({ title: spec.title, labels: spec.series.map((s) => s.label), unit: kind });
      chart.element.dataset.chart = spec.id;
      this.parts.push({ spec, kind, history: new History(spec.series.map((s) => s.key)), chart });
    }
    this.elements = this.parts.map((p) => p.chart.element);
  }

  get windowS() {
    return (RANGES.find((r) => r.id === this.rangeId) ?? RANGES[1])?.ageS ?? 600;
  }

  /** @param {string} rangeId */
  setRange(rangeId) {
    if (rangeId === this.rangeId || !RANGES.some((r) => r.id === rangeId)) return false;
    this.rangeId = rangeId;
    this.needSeed = true;
    return true;
  }

  /**
   * One reading. `fetch(query)` gets the API object (with `query` for the history when given).
   * @param {(query?: Record<string, number>) => Promise<any>} fetch
   * @returns {Promise<any>} the API object, for the page's other fields
   */
  async poll(fetch) {
    const lastLive = this.parts[0]?.history.lastLive ?? 0;
    // After a pause (a hidden tab) the live readings have a gap: start again from the server's history.
    if (lastLive && Date.now() - lastLive > 5000) {
      for (const p of this.parts) p.history.resetLive();
      this.needSeed = true;
    }
    if (this.needSeed) {
      const seeded = await fetch(rangeQuery(this.rangeId));
      for (const p of this.parts) p.history.seed(samplesOf(p.spec.from(seeded), p.spec.series.map((s) => s.key)));
      this.needSeed = false;
    }
    const live = await fetch();
    const now = Date.now();
    const windowS = this.windowS;
    for (const p of this.parts) {
      const source = p.spec.from(live) ?? {};
      p.history.push(now, Object.fromEntries(p.spec.series.map((s) => [s.key, typeof source[s.key] === 'number' ? source[s.key] : 0])));
      p.history.prune(now - windowS * 1000 - 60_000);
      p.chart.set(p.kind === 'rate' ? p.history.rates(4000) : p.history.levels(), windowS);
    }
    return live;
  }

  destroy() {
    for (const p of this.parts) p.chart.destroy();
  }
}
