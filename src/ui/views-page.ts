/**
 * The audit of the audit log (admin keys only): who opened which log or exported which
 * filters, and when, newest first, a page at a time.
 */
import { h, replaceChildren } from './dom';
import { formatTimeFull, formatTimeShort, zoneLabel, type TimeZoneMode } from './format';
import type { ViewRecord } from './types';

export interface ViewsCallbacks {
  /** Absolute link to a log. */
  logLink(id: string): string;
  /** Link to the logs page with an export's filters. */
  filtersLink(query: string): string;
}

export class ViewsPage {
  private rows: ViewRecord[] = [];
  private loaded = false;
  private zone: TimeZoneMode = 'utc';

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly timeHeader: HTMLElement,
    private readonly callbacks: ViewsCallbacks,
  ) {}

  setTimeZone(zone: TimeZoneMode): void {
    this.zone = zone;
    this.timeHeader.textContent = `Time (${zoneLabel(zone)})`;
    this.render();
  }

  showLoading(): void {
    this.body.setAttribute('aria-busy', 'true');
  }

  setRows(rows: ViewRecord[], append: boolean): void {
    this.rows = append ? [...this.rows, ...rows] : rows;
    this.loaded = true;
    this.body.setAttribute('aria-busy', 'false');
    this.render();
  }

  get count(): number {
    return this.rows.length;
  }

  showMessage(title: string, text: string, retry?: () => void): void {
    this.rows = [];
    this.body.setAttribute('aria-busy', 'false');
    const button = retry ? h('button', { type: 'button', class: 'btn btn-primary' }, 'Retry') : null;
    button?.addEventListener('click', retry!);
    replaceChildren(this.body, h('tr', { class: 'state-row' }, h('td', { colspan: 5, class: `state-cell ${retry ? 'state-error' : 'state-empty'}`, role: retry ? 'alert' : null },
      h('p', { class: 'state-title' }, title), h('p', { class: 'state-text' }, text), button ? h('div', { class: 'state-actions' }, button) : null)));
  }

  private render(): void {
    if (!this.loaded) return;
    if (this.rows.length === 0) {
      this.showMessage('Nothing viewed or exported in this window', 'Views of single logs and exports are recorded as they happen.');
      return;
    }
    const other: TimeZoneMode = this.zone === 'utc' ? 'local' : 'utc';
    replaceChildren(this.body, ...this.rows.map((v) => h('tr', { class: 'view-row', 'data-kind': v.kind },
      h('td', { class: 'c-time' }, h('time', { datetime: v.viewedAt, title: formatTimeFull(v.viewedAt, other) }, formatTimeShort(v.viewedAt, this.zone))),
      h('td', null, h('span', { class: `badge ${v.kind === 'export' ? 'tone-redirect' : 'badge-plain'}` }, v.kind === 'export' ? 'Export' : 'View')),
      h('td', { class: 'mono' }, v.keyName),
      h('td', { class: v.companyId ? 'mono' : 'none' }, v.companyId ?? 'all (admin)'),
      h('td', { class: 'c-what mono', title: v.logId ?? v.filters ?? '' },
        v.logId
          ? h('a', { href: this.callbacks.logLink(v.logId) }, v.logId)
          : h('a', { href: this.callbacks.filtersLink(v.filters ?? '') }, v.filters ? v.filters : '(no filters: everything)')))));
  }
}
