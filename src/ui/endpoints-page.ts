/**
 * The endpoints overview: one row per route template and method of the window and filters,
 * with requests, error rate, latency percentiles, last seen, a volume sparkline and the change
 * against the previous window. Sortable by every column (the sort is in the URL); a row opens
 * the logs filtered to that endpoint.
 */
import { h, replaceChildren } from './dom';
import { formatCount, formatLatency, formatPercent, formatTimeFull, formatTimeShort, type TimeZoneMode } from './format';
import type { EndpointList, EndpointRow } from './types';

const SVG = 'http://www.w3.org/2000/svg';

interface Column {
  key: string;
  label: string;
  numeric: boolean;
  value(r: EndpointRow): number | string | null;
}

export const ENDPOINT_COLUMNS: Column[] = [
  { key: 'endpoint', label: 'Endpoint', numeric: false, value: (r) => `${r.endpoint} ${r.method}` },
  { key: 'count', label: 'Requests', numeric: true, value: (r) => r.count },
  { key: 'errorRate', label: 'Error rate', numeric: true, value: (r) => r.errorRate },
  { key: 'p50', label: 'p50', numeric: true, value: (r) => r.p50 },
  { key: 'p95', label: 'p95', numeric: true, value: (r) => r.p95 },
  { key: 'p99', label: 'p99', numeric: true, value: (r) => r.p99 },
  { key: 'lastSeen', label: 'Last seen', numeric: true, value: (r) => Date.parse(r.lastSeen) },
  { key: 'sparkline', label: 'Volume', numeric: true, value: (r) => r.count },
];
export const DEFAULT_SORT = '-count';

/** Sorted copy of `rows` by `sort` (`count`, `-p95`); unknowns last whatever the direction. */
export function sortEndpoints(rows: readonly EndpointRow[], sort: string | null): EndpointRow[] {
  const spec = sort ?? DEFAULT_SORT;
  const desc = spec.startsWith('-');
  const column = ENDPOINT_COLUMNS.find((c) => c.key === spec.replace(/^-/, '')) ?? ENDPOINT_COLUMNS[1];
  return [...rows].sort((a, b) => {
    const x = column.value(a);
    const y = column.value(b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    const c = x < y ? -1 : x > y ? 1 : 0;
    return desc ? -c : c;
  });
}

/** `+12%`, `−40%`, `new` (nothing before); null when there is nothing to compare. */
export function relativeChange(now: number | null, before: number | null): string | null {
  if (now === null || before === null) return null;
  if (before === 0) return now === 0 ? null : 'new';
  const pct = Math.round(((now - before) / before) * 100);
  return pct === 0 ? '±0%' : `${pct > 0 ? '+' : '−'}${Math.abs(pct)}%`;
}

export interface EndpointsCallbacks {
  onSort(sort: string): void;
  onOpen(endpoint: string, method: string): void;
}

export class EndpointsPage {
  private data: EndpointList | null = null;
  private sort: string | null = null;
  private zone: TimeZoneMode = 'utc';

  constructor(
    private readonly head: HTMLTableRowElement,
    private readonly body: HTMLTableSectionElement,
    private readonly status: HTMLElement,
    private readonly callbacks: EndpointsCallbacks,
  ) {
    head.addEventListener('click', (event) => {
      const key = (event.target as Element).closest<HTMLElement>('[data-sort]')?.dataset.sort;
      if (!key) return;
      const current = this.sort ?? DEFAULT_SORT;
      const column = ENDPOINT_COLUMNS.find((c) => c.key === key)!;
      // A new column sorts the way people read it first: biggest numbers, names A→Z.
      const next = current === key ? `-${key}` : current === `-${key}` ? key : column.numeric ? `-${key}` : key;
      this.callbacks.onSort(next);
    });
    const open = (tr: HTMLTableRowElement | null): void => {
      if (tr?.dataset.endpoint && tr.dataset.method) this.callbacks.onOpen(tr.dataset.endpoint, tr.dataset.method);
    };
    body.addEventListener('click', (event) => open((event.target as Element).closest<HTMLTableRowElement>('tr.ep-row')));
    body.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') open((event.target as Element).closest<HTMLTableRowElement>('tr.ep-row'));
    });
  }

  setTimeZone(zone: TimeZoneMode): void {
    this.zone = zone;
    this.render();
  }

  setSort(sort: string | null): void {
    this.sort = sort;
    this.render();
  }

  showLoading(): void {
    this.body.setAttribute('aria-busy', 'true');
    if (!this.data) {
      replaceChildren(this.body, ...Array.from({ length: 6 }, () => h('tr', { class: 'skeleton-row', 'aria-hidden': 'true' },
        ...ENDPOINT_COLUMNS.map(() => h('td', null, h('span', { class: 'skel w-latency' }))))));
    }
    this.status.textContent = 'Loading…';
  }

  setData(data: EndpointList): void {
    this.data = data;
    this.body.setAttribute('aria-busy', 'false');
    this.render();
  }

  showError(message: string, retry: () => void): void {
    this.data = null;
    this.body.setAttribute('aria-busy', 'false');
    this.renderHead();
    const button = h('button', { type: 'button', class: 'btn btn-primary' }, 'Retry');
    button.addEventListener('click', retry);
    replaceChildren(this.body, h('tr', { class: 'state-row' }, h('td', { colspan: ENDPOINT_COLUMNS.length, class: 'state-cell state-error', role: 'alert' },
      h('p', { class: 'state-title' }, 'Could not load endpoints'), h('p', { class: 'state-text' }, message), h('div', { class: 'state-actions' }, button))));
    this.status.textContent = '';
  }

  private renderHead(): void {
    const current = this.sort ?? DEFAULT_SORT;
    replaceChildren(this.head, ...ENDPOINT_COLUMNS.map((c) => {
      const dir = current === c.key ? 'ascending' : current === `-${c.key}` ? 'descending' : null;
      return h('th', { scope: 'col', class: c.numeric && c.key !== 'sparkline' ? 'num' : null, 'aria-sort': dir ?? 'none' },
        h('button', { type: 'button', class: 'sort-btn', 'data-sort': c.key }, c.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, dir === 'ascending' ? '▲' : dir === 'descending' ? '▼' : '')));
    }));
  }

  private render(): void {
    this.renderHead();
    const data = this.data;
    if (!data) return;
    if (data.data.length === 0) {
      replaceChildren(this.body, h('tr', { class: 'state-row' }, h('td', { colspan: ENDPOINT_COLUMNS.length, class: 'state-cell state-empty' },
        h('p', { class: 'state-title' }, 'No requests in this window'), h('p', { class: 'state-text' }, 'Widen the time range or remove some filters.'))));
      this.status.textContent = '';
      return;
    }
    // Each sparkline on its own scale: the shape of an endpoint's traffic, not its size (the count says that).
    const rows = sortEndpoints(data.data, this.sort).map((r) => this.row(r, Math.max(1, ...(r.sparkline ?? []))));
    replaceChildren(this.body, ...rows);
    const n = data.data.length;
    this.status.textContent = `${formatCount(n)} endpoint${n === 1 ? '' : 's'}${data.window ? ' · changes against the previous window of the same length' : ''}`;
  }

  private row(r: EndpointRow, max: number): HTMLTableRowElement {
    const delta = (now: number | null, before: number | null | undefined, worseWhenUp: boolean | null): HTMLElement | null => {
      const text = r.previous ? relativeChange(now, before ?? null) : null;
      if (!text) return null;
      const up = text.startsWith('+') || text === 'new';
      const tone = worseWhenUp === null || text === '±0%' ? 'neutral' : up === worseWhenUp ? 'worse' : 'better';
      return h('span', { class: `delta delta-${tone}`, title: 'Against the previous window of the same length' }, text);
    };
    const other: TimeZoneMode = this.zone === 'utc' ? 'local' : 'utc';
    return h('tr', { class: 'ep-row', tabindex: '0', 'data-endpoint': r.endpoint, 'data-method': r.method },
      h('td', { class: 'c-endpoint', title: `${r.method} ${r.endpoint}` }, h('span', { class: 'method' }, r.method), ' ', h('span', { class: 'endpoint' }, r.endpoint)),
      h('td', { class: 'num', 'data-col': 'count' }, formatCount(r.count), delta(r.count, r.previous?.count, null)),
      h('td', { class: `num${r.errorRate >= 0.05 ? ' is-bad' : ''}`, 'data-col': 'errorRate' }, formatPercent(r.errorRate),
        r.previous && r.previous.errorRate !== null && r.previous.errorRate !== r.errorRate
          ? h('span', { class: `delta delta-${r.errorRate > r.previous.errorRate ? 'worse' : 'better'}`, title: `${formatPercent(r.previous.errorRate)} in the previous window` },
            `${r.errorRate > r.previous.errorRate ? '+' : '−'}${formatPercent(Math.abs(r.errorRate - r.previous.errorRate)).replace('%', ' pt')}`)
          : null),
      h('td', { class: 'num', 'data-col': 'p50' }, formatLatency(r.p50)),
      h('td', { class: 'num', 'data-col': 'p95' }, formatLatency(r.p95), delta(r.p95, r.previous?.p95, true)),
      h('td', { class: 'num', 'data-col': 'p99' }, formatLatency(r.p99)),
      h('td', { class: 'num', 'data-col': 'lastSeen' }, h('time', { datetime: r.lastSeen, title: formatTimeFull(r.lastSeen, other) }, formatTimeShort(r.lastSeen, this.zone).replace(/\.\d{3}$/, ''))),
      h('td', { class: 'c-spark', 'data-col': 'sparkline' }, r.sparkline ? sparkline(r.sparkline, max) : null));
  }
}

/** A bar sparkline as inline SVG (no styles: the CSP forbids them; colours come from CSS). */
function sparkline(values: number[], max: number): SVGSVGElement {
  const width = 96;
  const height = 22;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Requests over the window: ${values.join(', ')}`);
  const w = width / values.length;
  values.forEach((v, i) => {
    if (v <= 0) return;
    const bar = document.createElementNS(SVG, 'rect');
    const barHeight = Math.max(1, Math.round((v / max) * height));
    bar.setAttribute('x', (i * w + 0.5).toFixed(1));
    bar.setAttribute('y', String(height - barHeight));
    bar.setAttribute('width', Math.max(1, w - 1).toFixed(1));
    bar.setAttribute('height', String(barHeight));
    svg.appendChild(bar);
  });
  return svg;
}
