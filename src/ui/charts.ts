/**
 * Request volume (stacked by status class) and latency (p50/p95) over time, drawn with uPlot.
 * Dragging across either chart reports the selected window; the caller narrows `from`/`to`.
 * uPlot styles its elements through CSSOM, which the CSP allows; colours come from CSS variables
 * so that the charts follow the light/dark preference.
 */
import uPlot from 'uplot';
import { h, replaceChildren } from './dom';
import { formatCount, formatLatency, formatPercent, formatTimeFull, type TimeZoneMode } from './format';
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
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function prepare(stats: Stats): Prepared {
  const x = stats.series.map((b) => Date.parse(b.t) / 1000);
  const raw = {
    '2xx': stats.series.map((b) => b['2xx'] + b['1xx']),
    '3xx': stats.series.map((b) => b['3xx']),
    '4xx': stats.series.map((b) => b['4xx']),
    '5xx': stats.series.map((b) => b['5xx']),
  };
  // Drawn back to front: each series is the sum of its class and the ones above it.
  const s5 = raw['5xx'];
  const s4 = s5.map((v, i) => v + raw['4xx'][i]);
  const s3 = s4.map((v, i) => v + raw['3xx'][i]);
  const s2 = s3.map((v, i) => v + raw['2xx'][i]);
  return { x, raw, stacked: [s2, s3, s4, s5], p50: stats.series.map((b) => b.p50), p95: stats.series.map((b) => b.p95) };
}

export class Charts {
  private volume: uPlot | null = null;
  private latency: uPlot | null = null;
  private data: Prepared | null = null;
  private stats: Stats | null = null;
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
  update(stats: Stats, windowMs: { from: number; to: number }): void {
    this.stats = stats;
    this.data = prepare(stats);
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
      tzDate: zone === 'utc' ? (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') : undefined,
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
    const xAxis: uPlot.Axis = { stroke: axisColor, grid: { show: false }, ticks: { stroke: grid, size: 4 }, font: '11px system-ui, sans-serif', size: 26 };
    const yAxis = (format: (v: number) => string): uPlot.Axis => ({
      stroke: axisColor, grid: { stroke: grid, width: 1 }, ticks: { show: false }, font: '11px system-ui, sans-serif', size: 52,
      values: (_u, ticks) => ticks.map(format),
    });

    const bars = uPlot.paths.bars?.({ size: [0.86, 48, 1], align: 1, gap: 1 });
    const colors = CLASSES.map((c) => cssVar(`--c-${c}`));
    this.volume = new uPlot({
      ...base(this.el.volume),
      series: [
        {},
        ...CLASSES.map((c, i) => ({ label: c, fill: colors[i], stroke: colors[i], width: 0, paths: bars, points: { show: false } })),
      ],
      axes: [xAxis, yAxis((v) => (Number.isInteger(v) ? formatCount(v) : ''))],
      scales: { x: { time: true, range: () => this.window }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    }, [data.x, ...data.stacked], this.el.volume);

    const p50 = cssVar('--c-p50');
    const p95 = cssVar('--c-p95');
    this.latency = new uPlot({
      ...base(this.el.latency),
      series: [
        {},
        { label: 'p50', stroke: p50, width: 1.5, spanGaps: true, points: { show: false } },
        { label: 'p95', stroke: p95, width: 1.5, spanGaps: true, points: { show: false }, dash: [4, 3] },
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
    const when = at !== null ? h('span', { class: 'legend-item' }, formatTimeFull(data.x[at] * 1000, this.zone).slice(5, 16)) : null;
    replaceChildren(this.el.volumeLegend, when,
      ...CLASSES.map((c) => item(c, c, formatCount(at !== null ? data.raw[c][at] : c === '2xx' ? stats.byStatusClass['2xx'] + stats.byStatusClass['1xx'] : stats.byStatusClass[c]))));
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
