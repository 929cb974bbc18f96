/** The logs table: rows, selection, skeleton, empty and error states. Every value is text. */
import { h, replaceChildren } from './dom';
import { formatLatency, formatTimeFull, formatTimeShort, pathAndQuery, reasonPhrase, statusText, statusTone, zoneLabel, type TimeZoneMode } from './format';
import type { LogSummary } from './types';

const COLUMNS = 6;
const SLOW_MS = 1000;
const VERY_SLOW_MS = 3000;

export interface TableCallbacks {
  /** A row was clicked or Enter was pressed on it. */
  onOpen(id: string): void;
}

export class LogTable {
  private rows: LogSummary[] = [];
  private readonly byId = new Map<string, HTMLTableRowElement>();
  private selected = -1;
  private zone: TimeZoneMode = 'utc';

  constructor(
    private readonly tbody: HTMLTableSectionElement,
    private readonly timeHeader: HTMLElement,
    private readonly callbacks: TableCallbacks,
  ) {
    tbody.addEventListener('click', (event) => {
      const target = event.target as Element;
      if (target.closest('a, button')) return;
      const tr = target.closest<HTMLTableRowElement>('tr.log-row');
      if (!tr?.dataset.id) return;
      this.selectById(tr.dataset.id, false);
      callbacks.onOpen(tr.dataset.id);
    });
  }

  get items(): readonly LogSummary[] {
    return this.rows;
  }

  get selectedId(): string | null {
    return this.rows[this.selected]?.id ?? null;
  }

  setTimeZone(zone: TimeZoneMode): void {
    this.zone = zone;
    this.timeHeader.textContent = `Time (${zoneLabel(zone)})`;
    for (const row of this.rows) {
      const tr = this.byId.get(row.id);
      if (tr) tr.cells[0].replaceWith(this.timeCell(row));
    }
  }

  setBusy(busy: boolean): void {
    this.tbody.setAttribute('aria-busy', String(busy));
  }

  /** Replaces all rows (a new query). */
  setRows(rows: LogSummary[]): void {
    this.rows = [];
    this.byId.clear();
    const keep = this.selectedId;
    this.selected = -1;
    this.tbody.replaceChildren();
    this.appendRows(rows);
    if (keep) this.selectById(keep, false);
    this.setBusy(false);
  }

  /** Adds older rows at the bottom (next page); rows already shown are skipped. */
  appendRows(rows: LogSummary[]): void {
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      if (this.byId.has(row.id)) continue;
      const tr = this.rowElement(row);
      this.rows.push(row);
      this.byId.set(row.id, tr);
      fragment.appendChild(tr);
    }
    this.tbody.appendChild(fragment);
    this.ensureTabStop();
  }

  /**
   * Inserts rows that arrived while live tail is on, each at its place by time
   * (a late span can be older than the newest row), highlighted briefly.
   * Returns how many were new.
   */
  insertLive(rows: LogSummary[]): number {
    let added = 0;
    const selectedId = this.selectedId;
    const sorted = [...rows].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
    for (const row of sorted) {
      if (this.byId.has(row.id)) continue;
      const t = Date.parse(row.timestamp);
      let index = this.rows.findIndex((r) => Date.parse(r.timestamp) <= t);
      // Older than everything loaded: it belongs to a page not fetched yet.
      if (index === -1 && this.rows.length > 0) continue;
      if (index === -1) index = 0;
      const tr = this.rowElement(row);
      tr.classList.add('row-new');
      tr.addEventListener('animationend', () => tr.classList.remove('row-new'), { once: true });
      const before = this.byId.get(this.rows[index]?.id ?? '');
      this.tbody.insertBefore(tr, before ?? null);
      this.rows.splice(index, 0, row);
      this.byId.set(row.id, tr);
      added++;
    }
    if (added) {
      this.selected = selectedId ? this.rows.findIndex((r) => r.id === selectedId) : -1;
      this.ensureTabStop();
    }
    return added;
  }

  showSkeleton(count = 8): void {
    this.rows = [];
    this.byId.clear();
    this.selected = -1;
    const skeletons: HTMLTableRowElement[] = [];
    const widths = ['w-time', 'w-method', 'w-endpoint', 'w-status', 'w-latency', 'w-token'];
    for (let i = 0; i < count; i++) {
      skeletons.push(h('tr', { class: 'skeleton-row', 'aria-hidden': 'true' },
        ...widths.map((w, col) => h('td', col === 4 ? { class: 'num' } : null, h('span', { class: `skel ${w}` })))));
    }
    replaceChildren(this.tbody, ...skeletons);
    this.setBusy(true);
  }

  showEmpty(narrowed: boolean, actions: { widen(): void; clear(): void }): void {
    this.setRows([]);
    const buttons = h('div', { class: 'state-actions' },
      h('button', { type: 'button', class: 'btn', 'data-action': 'widen' }, 'Widen to 30 days'),
      narrowed ? h('button', { type: 'button', class: 'btn btn-ghost', 'data-action': 'clear' }, 'Clear filters') : null);
    buttons.addEventListener('click', (event) => {
      const action = (event.target as Element).closest<HTMLElement>('[data-action]')?.dataset.action;
      if (action === 'widen') actions.widen();
      if (action === 'clear') actions.clear();
    });
    this.tbody.appendChild(h('tr', { class: 'state-row' },
      h('td', { colspan: COLUMNS, class: 'state-cell state-empty' },
        h('p', { class: 'state-title' }, 'No requests match — widen the time range'),
        h('p', { class: 'state-text' }, narrowed ? 'Or remove some filters.' : 'Nothing was recorded in this window.'),
        buttons)));
  }

  showError(message: string, retry: () => void): void {
    this.setRows([]);
    const button = h('button', { type: 'button', class: 'btn btn-primary' }, 'Retry');
    button.addEventListener('click', retry);
    this.tbody.appendChild(h('tr', { class: 'state-row' },
      h('td', { colspan: COLUMNS, class: 'state-cell state-error', role: 'alert' },
        h('p', { class: 'state-title' }, 'Could not load requests'),
        h('p', { class: 'state-text' }, message),
        h('div', { class: 'state-actions' }, button))));
  }

  /** Moves the selection by `delta` rows and focuses it; returns the new id. */
  move(delta: number): string | null {
    if (this.rows.length === 0) return null;
    const next = this.selected === -1 ? (delta > 0 ? 0 : this.rows.length - 1) : Math.min(this.rows.length - 1, Math.max(0, this.selected + delta));
    this.select(next, true);
    return this.selectedId;
  }

  selectById(id: string | null, focus: boolean): void {
    const index = id ? this.rows.findIndex((r) => r.id === id) : -1;
    this.select(index, focus);
  }

  focusSelected(): void {
    const id = this.selectedId;
    if (id) this.byId.get(id)?.focus();
  }

  private select(index: number, focus: boolean): void {
    const previous = this.byId.get(this.rows[this.selected]?.id ?? '');
    previous?.setAttribute('aria-selected', 'false');
    previous?.setAttribute('tabindex', '-1');
    this.selected = index;
    const tr = this.byId.get(this.rows[index]?.id ?? '');
    if (tr) {
      tr.setAttribute('aria-selected', 'true');
      tr.setAttribute('tabindex', '0');
      if (focus) {
        tr.focus({ preventScroll: true });
        tr.scrollIntoView({ block: 'nearest' });
      }
    }
    this.ensureTabStop();
  }

  /** Exactly one row is reachable with Tab (roving tabindex). */
  private ensureTabStop(): void {
    if (this.rows.length === 0) return;
    const current = this.byId.get(this.rows[this.selected]?.id ?? '') ?? this.byId.get(this.rows[0].id);
    for (const tr of this.byId.values()) tr.setAttribute('tabindex', tr === current ? '0' : '-1');
  }

  private timeCell(row: LogSummary): HTMLTableCellElement {
    const other: TimeZoneMode = this.zone === 'utc' ? 'local' : 'utc';
    const text = formatTimeShort(row.timestamp, this.zone);
    // Date and clock apart, so that a narrow screen can show the clock alone.
    return h('td', { class: 'c-time' },
      h('time', { datetime: row.timestamp, title: formatTimeFull(row.timestamp, other) },
        h('span', { class: 't-date' }, `${text.slice(0, 6)} `), h('span', { class: 't-clock' }, text.slice(7))));
  }

  private rowElement(row: LogSummary): HTMLTableRowElement {
    const latencyClass = row.latencyMs >= VERY_SLOW_MS ? 'latency-very-slow' : row.latencyMs >= SLOW_MS ? 'latency-slow' : null;
    const path = pathAndQuery(row.url);
    return h('tr', { class: 'log-row', 'data-id': row.id, tabindex: '-1', 'aria-selected': 'false' },
      this.timeCell(row),
      h('td', { class: 'c-method' }, h('span', { class: 'method' }, row.method)),
      h('td', { class: 'c-endpoint', title: row.error ? `${row.url}\n${row.error}` : row.url },
        h('span', { class: 'm-inline' }, row.method),
        h('span', { class: 'endpoint' }, row.endpoint),
        path !== row.endpoint ? h('span', { class: 'url' }, path) : null,
        row.error && row.status >= 400 ? h('span', { class: 'row-error' }, row.error) : null),
      h('td', { class: 'c-status', title: statusText(row.status) }, h('span', { class: `badge tone-${statusTone(row.status)}` }, row.status),
        reasonPhrase(row.status) ? h('span', { class: 'reason' }, reasonPhrase(row.status)) : null),
      h('td', { class: `num c-latency${latencyClass ? ` ${latencyClass}` : ''}` }, formatLatency(row.latencyMs)),
      h('td', { class: 'c-token' }, row.tokenName ? h('span', { class: 'token' }, row.tokenName) : h('span', { class: 'none' }, '—')));
  }
}
