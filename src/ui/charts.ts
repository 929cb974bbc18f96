/**
 * Request volume (stacked by status class) and latency (p50/p95) over time, drawn with uPlot.
 * Dragging across either chart reports the selected window; the caller narrows `from`/`to`.
 * uPlot styles its elements through CSSOM, which the CSP allows; colours come from CSS variables
 * so that the charts follow the light/dark preference.
 */
import uPlot from 'uplot';
import { h, replaceChildren } from './dom';
import { formatCount, formatLatency, formatPercent, formatTick, formatTimeFull, type TimeZoneMode } from './format';
import type { Stats } from './types';

const HEIGHT = 150;
const CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;

export interface ChartCallbacks {
  onSelectRange(fromMs: number, toMs: number): void;
}

interface Elements {
  volume: HTMLElement;
  latency: HTMLElement;
  volumeLegend: HTMLElement;
  latencyLegend: HTMLElement;
  metrics: { total: HTMLElement; errors: HTMLElement; p50: HTMLElement; p95: HTMLElement; p99: HTMLElement };
}

interface Prepared {
  x: number[];
  raw: Record<(typeof CLASSES)[number], number[]>;
  stacked: number[][];
  p50: Array<number | null>;
  p95: Array<number | null>;
  /** Share of each bucket inside the window (1 for a full bucket, less for the first and the current one). */
  coverage: number[];
  /** Totals of the previous window, bucket by bucket (compare mode). */
  previous: Array<number | null> | null;
}

/** The largest number of buckets drawn: a window and width from the API stay far below it. */
const MAX_BUCKETS = 2000;

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * Every bucket of the window, also those without requests: counts are 0 there and latencies
 * null, so the latency line breaks over a gap instead of joining its two sides.
 */
export function prepare(stats: Stats, windowMs: { from: number; to: number }, previous: Stats | null = null): Prepared {
  const width = stats.bucketMs;
  const byStart = new Map(stats.series.map((b) => [Date.parse(b.t), b]));
  const firstData = stats.series.length ? Date.parse(stats.series[0].t) : windowMs.from;
  const lastData = stats.series.length ? Date.parse(stats.series[stats.series.length - 1].t) : windowMs.from;
  let start = Math.floor(Math.min(windowMs.from, firstData) / width) * width;
  const end = Math.max(windowMs.to, lastData + width);
  if ((end - start) / width > MAX_BUCKETS) start = end - MAX_BUCKETS * width;
  const starts: number[] = [];
  for (let t = start; t < end; t += width) starts.push(t);
  const at = (t: number) => byStart.get(t);
  const raw = {
    '2xx': starts.map((t) => (at(t)?.['2xx'] ?? 0) + (at(t)?.['1xx'] ?? 0)),
    '3xx': starts.map((t) => at(t)?.['3xx'] ?? 0),
    '4xx': starts.map((t) => at(t)?.['4xx'] ?? 0),
    '5xx': starts.map((t) => at(t)?.['5xx'] ?? 0),
  };
  // Drawn back to front: each series is the sum of its class and the ones above it.
  const s5 = raw['5xx'];
  const s4 = s5.map((v, i) => v + raw['4xx'][i]);
  const s3 = s4.map((v, i) => v + raw['3xx'][i]);
  const s2 = s3.map((v, i) => v + raw['2xx'][i]);
  const coverage = starts.map((t) => {
    const inside = Math.min(t + width, windowMs.to) - Math.max(t, windowMs.from);
    return Math.max(0, Math.min(1, inside / width));
  });
  let prev: Array<number | null> | null = null;
  if (previous) {
    const shift = windowMs.to - windowMs.from;
    const totals = new Map(previous.series.map((b) => [Date.parse(b.t) + shift, b.total]));
    // Buckets of the previous window land on this window's grid when the shift is a whole number of buckets.
    prev = starts.map((t) => {
      const exact = totals.get(t);
      if (exact !== undefined) return exact;
      const near = [...totals.keys()].find((k) => k >= t && k < t + width);
      return near !== undefined ? totals.get(near)! : t >= windowMs.from ? 0 : null;
    });
  }
  return {
    x: starts.map((t) => t / 1000), raw, stacked: [s2, s3, s4, s5],
    p50: starts.map((t) => at(t)?.p50 ?? null), p95: starts.map((t) => at(t)?.p95 ?? null), coverage, previous: prev,
  };
}

export class Charts {
  private volume: uPlot | null = null;
  private latency: uPlot | null = null;
  private data: Prepared | null = null;
  private stats: Stats | null = null;
  private previous: Stats | null = null;
  private window: [number, number] = [0, 1];
  private zone: TimeZoneMode = 'utc';
  private readonly resize = new ResizeObserver(() => this.fit());

  constructor(private readonly el: Elements, private readonly callbacks: ChartCallbacks) {
    this.resize.observe(el.volume);
    this.resize.observe(el.latency);
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.rebuild());
  }

  setTimeZone(zone: TimeZoneMode): void {
    this.zone = zone;
    this.rebuild();
  }

  setLoading(): void {
    this.el.volume.classList.add('is-loading');
    this.el.latency.classList.add('is-loading');
  }

  setError(message: string): void {
    this.el.volume.classList.remove('is-loading');
    this.el.latency.classList.remove('is-loading');
    for (const m of Object.values(this.el.metrics)) m.textContent = '—';
    this.el.volumeLegend.textContent = `Stats unavailable: ${message}`;
    this.el.latencyLegend.textContent = '';
  }

  /** Draws `stats` over the requested window (epoch ms). */
  update(stats: Stats, windowMs: { from: number; to: number }, previous: Stats | null = null): void {
    this.stats = stats;
    this.previous = previous;
    this.data = prepare(stats, windowMs, previous);
    this.window = [windowMs.from / 1000, windowMs.to / 1000];
    this.renderMetrics(stats);
    this.rebuild();
  }

  private renderMetrics(stats: Stats): void {
    const m = this.el.metrics;
    m.total.textContent = formatCount(stats.total);
    m.errors.textContent = stats.total ? formatPercent(stats.errorRate) : '—';
    m.errors.classList.toggle('is-bad', stats.errorRate >= 0.05);
    m.p50.textContent = formatLatency(stats.latency.p50);
    m.p95.textContent = formatLatency(stats.latency.p95);
    m.p99.textContent = formatLatency(stats.latency.p99);
    const p = this.previous;
    const delta = (el: HTMLElement, now: number | null, before: number | null, text: string, worseWhenUp: boolean | null): void => {
      if (!p || now === null || before === null) return;
      const up = now > before;
      const tone = worseWhenUp === null || now === before ? 'neutral' : up === worseWhenUp ? 'worse' : 'better';
      el.appendChild(h('span', { class: `delta delta-${tone}`, title: 'Against the previous period of the same length' }, text));
    };
    const pct = (now: number | null, before: number | null): string => {
      if (now === null || before === null) return '';
      if (before === 0) return now === 0 ? '±0%' : 'new';
      const v = Math.round(((now - before) / before) * 100);
      return v === 0 ? '±0%' : `${v > 0 ? '+' : '−'}${Math.abs(v)}%`;
    };
    if (p) {
      delta(m.total, stats.total, p.total, pct(stats.total, p.total), null);
      const pts = (stats.errorRate - p.errorRate) * 100;
      delta(m.errors, stats.errorRate, p.errorRate, `${pts >= 0 ? '+' : '−'}${Math.abs(pts).toFixed(1)} pt`, true);
      delta(m.p50, stats.latency.p50, p.latency.p50, pct(stats.latency.p50, p.latency.p50), true);
      delta(m.p95, stats.latency.p95, p.latency.p95, pct(stats.latency.p95, p.latency.p95), true);
      delta(m.p99, stats.latency.p99, p.latency.p99, pct(stats.latency.p99, p.latency.p99), true);
    }
  }

  private rebuild(): void {
    this.volume?.destroy();
    this.latency?.destroy();
    this.volume = this.latency = null;
    this.el.volume.classList.remove('is-loading');
    this.el.latency.classList.remove('is-loading');
    const data = this.data;
    if (!data) return;
    this.el.volume.replaceChildren();
    this.el.latency.replaceChildren();

    const axisColor = cssVar('--chart-axis');
    const grid = cssVar('--chart-grid');
    const zone = this.zone;
    const base = (el: HTMLElement): Omit<uPlot.Options, 'series' | 'axes'> => ({
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      padding: [6, 6, 0, 0],
      legend: { show: false },
      tzDate: zone === 'utc' ? (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC')
        : zone === 'local' ? undefined : (ts: number) => uPlot.tzDate(new Date(ts * 1000), zone),
      cursor: {
        sync: { key: 'auditspan' },
        drag: { x: true, y: false, setScale: false },
        points: { size: 6 },
      },
      scales: { x: { time: true, range: () => this.window } },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      hooks: {
        setSelect: [(u: uPlot) => this.onSelect(u)],
        setCursor: [(u: uPlot) => this.renderLegends(u.cursor.idx ?? null)],
      },
    });
    // Ticks in the chosen zone, 24-hour (uPlot's own labels would use 12-hour am/pm).
    const xAxis: uPlot.Axis = {
      stroke: axisColor, grid: { show: false }, ticks: { stroke: grid, size: 4 }, font: '11px system-ui, sans-serif', size: 26,
      values: (_u, ticks, _space, _count, foundIncr) => ticks.map((t) => formatTick(t * 1000, foundIncr * 1000, zone)),
    };
    const yAxis = (format: (v: number) => string): uPlot.Axis => ({
      stroke: axisColor, grid: { stroke: grid, width: 1 }, ticks: { show: false }, font: '11px system-ui, sans-serif', size: 52,
      values: (_u, ticks) => ticks.map(format),
    });

    const bars = uPlot.paths.bars?.({ size: [0.86, 48, 1], align: 1, gap: 1 });
    const colors = CLASSES.map((c) => cssVar(`--c-${c}`));
    const partialFill = cssVar('--chart-partial');
    const volumeBase = base(this.el.volume);
    const compare = data.previous !== null;
    // The y scale follows the full buckets: a bucket only partly inside the window (the
    // current one, still filling) is drawn faded under a "partial" mark and never sets the scale.
    const fullMax = Math.max(1, ...data.stacked[0].filter((_, i) => data.coverage[i] >= 0.999), ...(data.previous ?? []).map((v) => v ?? 0));
    this.volume = new uPlot({
      ...volumeBase,
      series: [
        {},
        ...CLASSES.map((c, i) => ({ label: c, fill: colors[i], stroke: colors[i], width: 0, paths: bars, points: { show: false } })),
        ...(compare ? [{ label: 'previous', stroke: cssVar('--c-previous'), width: 1.5, dash: [5, 4], spanGaps: false, points: { show: false } }] : []),
      ],
      axes: [xAxis, yAxis((v) => (Number.isInteger(v) ? formatCount(v) : ''))],
      scales: {
        x: { time: true, range: () => this.window },
        y: { range: (_u, _min, max) => [0, data.coverage.every((c) => c < 0.999) ? Math.max(1, max) : Math.max(fullMax, 1) * 1.05] },
      },
      hooks: {
        ...volumeBase.hooks,
        draw: [(u: uPlot) => drawPartial(u, data, partialFill)],
      },
    }, [data.x, ...data.stacked, ...(compare ? [data.previous!] : [])] as uPlot.AlignedData, this.el.volume);

    const p50 = cssVar('--c-p50');
    const p95 = cssVar('--c-p95');
    this.latency = new uPlot({
      ...base(this.el.latency),
      series: [
        {},
        { label: 'p50', stroke: p50, width: 1.5, spanGaps: false, points: { show: false } },
        { label: 'p95', stroke: p95, width: 1.5, spanGaps: false, points: { show: false }, dash: [4, 3] },
      ],
      axes: [xAxis, yAxis((v) => (v === 0 ? '0' : formatLatency(v).replace(' ', '')))],
      scales: { x: { time: true, range: () => this.window }, y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * 1.1)] } },
    }, [data.x, data.p50, data.p95], this.el.latency);

    if (!this.stats || this.stats.total === 0) {
      this.el.volume.appendChild(h('div', { class: 'chart-empty' }, 'No requests in this range'));
      this.el.latency.appendChild(h('div', { class: 'chart-empty' }, 'No requests in this range'));
    }
    this.renderLegends(null);
  }

  private onSelect(u: uPlot): void {
    const { left, width } = u.select;
    if (width >= 3) {
      const from = Math.round(u.posToVal(left, 'x') * 1000);
      const to = Math.round(u.posToVal(left + width, 'x') * 1000);
      if (to > from) this.callbacks.onSelectRange(from, to);
    }
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
  }

  /** Values at the hovered bucket, or totals for the whole window. */
  private renderLegends(idx: number | null): void {
    const data = this.data;
    const stats = this.stats;
    if (!data || !stats) return;
    const at = idx !== null && idx >= 0 && idx < data.x.length ? idx : null;
    const item = (cls: string, label: string, value: string): HTMLElement =>
      h('span', { class: 'legend-item' }, h('span', { class: `swatch sw-${cls}` }), label, h('b', null, value));
    const partial = at !== null && data.coverage[at] < 0.999;
    const when = at !== null ? h('span', { class: 'legend-item' }, formatTimeFull(data.x[at] * 1000, this.zone).slice(5, 16), partial ? ' (partial)' : '') : null;
    const prevTotal = this.previous ? (at !== null ? data.previous?.[at] ?? null : this.previous.total) : undefined;
    replaceChildren(this.el.volumeLegend, when,
      ...CLASSES.map((c) => item(c, c, formatCount(at !== null ? data.raw[c][at] : c === '2xx' ? stats.byStatusClass['2xx'] + stats.byStatusClass['1xx'] : stats.byStatusClass[c]))),
      prevTotal !== undefined ? item('previous', 'previous', prevTotal === null ? '—' : formatCount(prevTotal)) : null);
    replaceChildren(this.el.latencyLegend, when ? when.cloneNode(true) : null,
      item('p50', 'p50', formatLatency(at !== null ? data.p50[at] : stats.latency.p50)),
      item('p95', 'p95', formatLatency(at !== null ? data.p95[at] : stats.latency.p95)));
  }

  private fit(): void {
    for (const [chart, el] of [[this.volume, this.el.volume], [this.latency, this.el.latency]] as const) {
      if (chart && el.clientWidth > 0 && Math.abs(chart.width - el.clientWidth) > 1) chart.setSize({ width: el.clientWidth, height: HEIGHT });
    }
  }
}

/** Fades the buckets only partly inside the window and marks them, so a half-filled current bucket reads as such. */
function drawPartial(u: uPlot, data: Prepared, fill: string): void {
  const ctx = u.ctx;
  const width = data.x.length > 1 ? data.x[1] - data.x[0] : 0;
  if (!width) return;
  ctx.save();
  for (let i = 0; i < data.x.length; i++) {
    if (data.coverage[i] >= 0.999 || data.stacked[0][i] === 0) continue;
    const left = u.valToPos(data.x[i], 'x', true);
    const right = u.valToPos(data.x[i] + width, 'x', true);
    const top = u.bbox.top;
    ctx.fillStyle = fill;
    ctx.fillRect(left, top, Math.max(1, right - left), u.bbox.height);
    ctx.fillStyle = cssVar('--chart-axis');
    ctx.font = `${Math.round(10 * devicePixelRatio)}px system-ui, sans-serif`;
    // Keep the mark inside the plot when the partial bucket sits at an edge.
    const centre = Math.min(Math.max((left + right) / 2, u.bbox.left + 20 * devicePixelRatio), u.bbox.left + u.bbox.width - 20 * devicePixelRatio);
    ctx.textAlign = 'center';
    ctx.fillText('partial', centre, top + 10 * devicePixelRatio);
  }
  ctx.restore();
}
