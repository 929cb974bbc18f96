/**
 * Bootstrap: wires the URL state to the table, filters, charts and detail panel.
 * Navigation is the only way the view changes: every change goes through the URL
 * (pushState), so back/forward and permalinks reproduce it.
 */
// First: a view link's token leaves the address bar before anything else runs.
import './link-view';
import { ApiClient, ApiError, isAbort } from './api';
import { dialogKeyPrompt, renderScope } from './auth';
import { Charts } from './charts';
import { DetailPanel } from './detail';
import { SearchBox } from './search-box';
import { byId } from './dom';
import { FilterBar } from './filters';
import { EndpointsPage } from './endpoints-page';
import { formatCount, isValidZone, zoneLabel, type TimeZoneMode } from './format';
import { ViewsPage } from './views-page';
import { bindKeyboard } from './keyboard';
import { LiveTail } from './live-tail';
import { LogTable } from './table';
import type { LogSummary } from './types';
import {
  apiParams, DEFAULT_RANGE, defaultFilters, filtersEqual, hasNarrowingFilters, parseLocation, previousBounds, timeBounds, toLocation,
  type FilterState, type Page, type ViewState,
} from './url-state';

const PAGE_SIZE = 50;
const LIVE_OVERLAP_MS = 5000;
const TZ_STORAGE = 'auditspan.tz';
const CHARTS_STORAGE = 'auditspan.charts';
const PAGE_TITLES: Record<Page, string> = { logs: 'Request logs', endpoints: 'Endpoints', views: 'Audit of views and exports' };

function storedZone(): TimeZoneMode {
  const z = localStorage.getItem(TZ_STORAGE);
  return z && isValidZone(z) ? z : 'utc';
}

class App {
  private view: ViewState | null = null;
  private readonly api = new ApiClient({ promptForKey: dialogKeyPrompt() });
  private readonly table: LogTable;
  private readonly filters: FilterBar;
  private readonly charts: Charts;
  private readonly detail: DetailPanel;
  private readonly live: LiveTail;
  private readonly loadMoreButton = byId<HTMLButtonElement>('load-more');
  private readonly resultStatus = byId('result-status');
  private readonly liveToggle = byId<HTMLInputElement>('live-toggle');
  private readonly liveState = byId('live-state');
  private readonly tzSelect = byId<HTMLSelectElement>('tz-select');
  private readonly endpoints: EndpointsPage;
  private readonly views: ViewsPage;
  private endpointsController: AbortController | null = null;
  private viewsController: AbortController | null = null;
  private viewsCursor: string | null = null;
  private viewsKey: string | null = null;
  private endpointsKey = '';
  private admin = false;

  /** The query behind the rows shown: fixed when the query starts, so pages stay consistent. */
  private query: URLSearchParams | null = null;
  private cursor: string | null = null;
  private listController: AbortController | null = null;
  private statsController: AbortController | null = null;
  private facetsController: AbortController | null = null;
  private facetsKey = '';
  private loadingMore = false;
  private liveTicks = 0;
  private zone: TimeZoneMode = storedZone();

  constructor() {
    this.table = new LogTable(byId('logs-body') as HTMLTableSectionElement, byId('th-time'), {
      onOpen: (id) => this.openLog(id, 'push'),
    });
    this.filters = new FilterBar({
      onChange: (filters, { replace }) => this.navigate({ filters, log: this.view?.log ?? null }, replace ? 'replace' : 'push'),
    });
    new SearchBox(byId<HTMLInputElement>('f-q'), this.api, (id) => this.openLog(id, 'push'));
    this.charts = new Charts({
      volume: byId('chart-volume'), latency: byId('chart-latency'),
      volumeLegend: byId('legend-volume'), latencyLegend: byId('legend-latency'),
      metrics: { total: byId('m-total'), errors: byId('m-errors'), p50: byId('m-p50'), p95: byId('m-p95'), p99: byId('m-p99') },
    }, {
      onSelectRange: (from, to) => this.navigate({ filters: { ...this.filters_(), range: null, from, to }, log: this.view?.log ?? null }, 'push'),
    });
    this.detail = new DetailPanel(byId('detail'), byId('workspace'), this.api, {
      onClose: () => this.closeLog(),
      permalink: (id) => new URL(toLocation({ filters: this.filters_(), log: id }), location.origin).toString(),
    });
    this.endpoints = new EndpointsPage(byId('endpoints-head') as HTMLTableRowElement, byId('endpoints-body') as HTMLTableSectionElement, byId('endpoints-status'), {
      onSort: (sort) => this.view && this.navigate({ ...this.view, sort }, 'replace'),
      onOpen: (endpoint, method) => this.view && this.navigate({
        page: 'logs', filters: { ...this.view.filters, endpoint: [endpoint], method: [method] }, log: null,
      }, 'push'),
    });
    this.views = new ViewsPage(byId('views-body') as HTMLTableSectionElement, byId('views-th-time'), {
      logLink: (id) => toLocation({ filters: defaultFilters(), log: id }),
      filtersLink: (query) => {
        const params = new URLSearchParams(query);
        params.delete('format');
        return `/?${params.toString()}`;
      },
    });
    this.live = new LiveTail((signal) => this.liveTick(signal), (err) => {
      this.liveState.textContent = `Paused: ${err.message}`;
    });
  }

  start(): void {
    this.applyZone();
    window.addEventListener('popstate', () => this.apply(parseLocation(location.pathname, location.search)));
    this.loadMoreButton.addEventListener('click', () => void this.loadMore());
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void this.loadMore();
    }, { rootMargin: '400px' }).observe(byId('scroll-sentinel'));
    this.liveToggle.addEventListener('change', () => this.setLive(this.liveToggle.checked));
    this.fillZones();
    this.tzSelect.addEventListener('change', () => {
      this.zone = this.tzSelect.value;
      localStorage.setItem(TZ_STORAGE, this.zone);
      this.applyZone();
    });
    for (const tab of document.querySelectorAll<HTMLAnchorElement>('.tabs [data-page]')) {
      tab.addEventListener('click', (event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || !this.view) return;
        event.preventDefault();
        this.navigate({ ...this.view, page: tab.dataset.page as Page, log: null }, 'push');
      });
    }
    byId<HTMLInputElement>('compare-toggle').addEventListener('change', (event) => {
      if (this.view) this.navigate({ ...this.view, filters: { ...this.view.filters, compare: (event.target as HTMLInputElement).checked } }, 'push');
    });
    byId('charts-toggle').addEventListener('click', () => {
      const hidden = localStorage.getItem(CHARTS_STORAGE) !== 'hidden';
      localStorage.setItem(CHARTS_STORAGE, hidden ? 'hidden' : 'shown');
      this.applyChartsVisibility();
    });
    this.applyChartsVisibility();
    byId('export-csv').addEventListener('click', () => void this.exportLogs('csv'));
    byId('export-ndjson').addEventListener('click', () => void this.exportLogs('ndjson'));
    byId('views-filters').addEventListener('submit', (event) => {
      event.preventDefault();
      if (!this.view) return;
      const kind = byId<HTMLSelectElement>('v-kind').value as '' | 'view' | 'export';
      this.navigate({ ...this.view, views: { kind, key: byId<HTMLInputElement>('v-key').value.trim(), company: byId<HTMLInputElement>('v-company').value.trim() } }, 'push');
    });
    byId('v-kind').addEventListener('change', () => byId<HTMLFormElement>('views-filters').requestSubmit());
    byId('views-more').addEventListener('click', () => void this.loadViews(true));
    byId('views-export-csv').addEventListener('click', () => void this.exportViews('csv'));
    byId('views-export-ndjson').addEventListener('click', () => void this.exportViews('ndjson'));
    byId('sign-out').addEventListener('click', () => {
      this.api.signOut();
      renderScope(null, false);
      // Start over: the next request meets a 401 and asks for a key.
      this.facetsKey = '';
      this.endpointsKey = '';
      this.viewsKey = null;
      this.table.showSkeleton();
      this.detail.close();
      this.reload();
      void this.loadWhoAmI();
    });
    bindKeyboard({
      move: (delta) => {
        const id = this.table.move(delta);
        if (id && this.detail.isOpen) this.openLog(id, 'replace');
      },
      open: () => {
        const id = this.table.selectedId;
        if (id) this.openLog(id, 'push', true);
      },
      close: () => {
        if (!this.detail.isOpen) return false;
        this.closeLog();
        return true;
      },
      focusSearch: () => this.filters.focusSearch(),
    });

    void this.loadWhoAmI();
    void this.api.config().then((config) => {
      this.detail.traceUrlTemplate = config.traceUrlTemplate;
    }).catch(() => undefined);
    this.apply(parseLocation(location.pathname, location.search));
  }

  private filters_(): FilterState {
    if (!this.view) throw new Error('auditspan ui: no view yet');
    return this.view.filters;
  }

  private navigate(next: ViewState, mode: 'push' | 'replace'): void {
    // Filter changes keep the page they were made on (the filter bar does not know the page).
    next = { page: this.view?.page, sort: this.view?.sort, views: this.view?.views, ...next };
    const url = toLocation(next);
    if (url !== `${location.pathname}${location.search}`) {
      if (mode === 'push') history.pushState(null, '', url);
      else history.replaceState(null, '', url);
    }
    this.apply(next);
  }

  /** Brings the page in line with `next`, fetching only what changed. */
  private apply(next: ViewState): void {
    const previous = this.view;
    this.view = next;
    this.filters.render(next.filters);
    const page = next.page ?? 'logs';
    this.showPage(page);
    if (page === 'endpoints') {
      this.endpoints.setSort(next.sort ?? null);
      void this.loadEndpoints();
      void this.loadFacets();
      this.detail.close();
      return;
    }
    if (page === 'views') {
      void this.loadViews(false);
      this.detail.close();
      return;
    }
    if (!previous || (previous.page ?? 'logs') !== 'logs' || !filtersEqual(previous.filters, next.filters)) {
      // A live tail cannot follow a window that ends in the past.
      if (this.live.on && next.filters.to !== null) this.setLive(false);
      this.reload();
    }
    if (next.log !== (previous?.log ?? null) || (next.log && !this.detail.isOpen)) {
      if (next.log) {
        this.table.selectById(next.log, false);
        void this.detail.open(next.log);
      } else {
        this.detail.close();
      }
    }
  }

  private reload(): void {
    void this.loadLogs();
    void this.loadStats();
    void this.loadFacets();
  }

  private openLog(id: string, mode: 'push' | 'replace', focusPanel = false): void {
    if (!this.view) return;
    this.table.selectById(id, !focusPanel);
    this.navigate({ filters: this.view.filters, log: id }, mode);
    if (focusPanel) byId('detail').focus({ preventScroll: true });
  }

  private closeLog(): void {
    if (!this.view) return;
    this.navigate({ filters: this.view.filters, log: null }, 'push');
    this.table.focusSelected();
  }

  private async loadLogs(): Promise<void> {
    const filters = this.filters_();
    this.listController?.abort();
    const controller = new AbortController();
    this.listController = controller;
    this.query = apiParams(filters, Date.now());
    this.cursor = null;
    this.loadMoreButton.hidden = true;
    if (this.table.items.length === 0) this.table.showSkeleton();
    else this.table.setBusy(true);
    this.resultStatus.textContent = 'Loading…';
    try {
      const page = await this.api.logs(this.query, { limit: PAGE_SIZE, signal: controller.signal });
      if (controller.signal.aborted) return;
      this.cursor = page.nextCursor;
      if (page.data.length === 0) {
        this.table.showEmpty(hasNarrowingFilters(filters), {
          widen: () => this.navigate({ filters: { ...this.filters_(), range: '30d', from: null, to: null }, log: this.view?.log ?? null }, 'push'),
          clear: () => this.navigate({
            filters: { ...this.filters_(), endpoint: [], token: [], status: [], method: [], q: '', minLatencyMs: null, maxLatencyMs: null, service: [] },
            log: this.view?.log ?? null,
          }, 'push'),
        });
      } else {
        this.table.setRows(page.data);
        if (this.view?.log) this.table.selectById(this.view.log, false);
      }
      this.updateFooter();
    } catch (err) {
      if (isAbort(err) || controller.signal.aborted) return;
      this.showListError(err);
    }
  }

  private showListError(err: unknown): void {
    const message = errorText(err);
    this.table.showError(message, () => this.reload());
    this.resultStatus.textContent = '';
    this.charts.setError(message);
  }

  private async loadMore(): Promise<void> {
    if (!this.cursor || !this.query || this.loadingMore) return;
    this.loadingMore = true;
    this.loadMoreButton.disabled = true;
    const controller = this.listController ?? new AbortController();
    try {
      const page = await this.api.logs(this.query, { limit: PAGE_SIZE, cursor: this.cursor, signal: controller.signal });
      if (controller.signal.aborted) return;
      this.cursor = page.nextCursor;
      this.table.appendRows(page.data);
      this.updateFooter();
    } catch (err) {
      if (!isAbort(err)) this.resultStatus.textContent = `Could not load more: ${(err as Error).message}`;
    } finally {
      this.loadingMore = false;
      this.loadMoreButton.disabled = false;
    }
  }

  private updateFooter(): void {
    const n = this.table.items.length;
    this.loadMoreButton.hidden = !this.cursor;
    this.resultStatus.textContent = n === 0 ? '' : `${formatCount(n)} request${n === 1 ? '' : 's'} shown${this.cursor ? '' : ' — end of results'}`;
  }

  private async loadStats(): Promise<void> {
    const filters = this.filters_();
    this.statsController?.abort();
    const controller = new AbortController();
    this.statsController = controller;
    const now = Date.now();
    const { from, to } = timeBounds(filters, now);
    this.charts.setLoading();
    try {
      const stats = await this.api.stats(apiParams(filters, now), controller.signal);
      if (controller.signal.aborted) return;
      const first = stats.series.length ? Date.parse(stats.series[0].t) : now - 3_600_000;
      const window = { from: from ?? first, to: to ?? now };
      let previous = null;
      const before = filters.compare ? previousBounds(filters, now) : null;
      if (before) {
        const params = apiParams({ ...filters, range: null, from: before.from, to: before.to }, now);
        params.set('bucket', String(stats.bucketMs));
        previous = await this.api.stats(params, controller.signal);
        if (controller.signal.aborted) return;
      }
      this.charts.update(stats, window, previous);
    } catch (err) {
      if (isAbort(err) || controller.signal.aborted) return;
      this.charts.setError((err as Error).message);
    }
  }

  /** Facets follow the time range only, so choosing an endpoint does not hide the others. */
  private async loadFacets(): Promise<void> {
    const filters = this.filters_();
    const params = apiParams({ ...filters, endpoint: [], token: [], status: [], method: [], q: '', minLatencyMs: null, maxLatencyMs: null, service: [] }, Date.now());
    const key = `${filters.range}|${filters.from}|${filters.to}`;
    if (key === this.facetsKey) return;
    this.facetsKey = key;
    this.facetsController?.abort();
    const controller = new AbortController();
    this.facetsController = controller;
    try {
      const facets = await this.api.facets(params, controller.signal);
      if (!controller.signal.aborted) this.filters.setFacets(facets);
    } catch (err) {
      if (!isAbort(err)) this.facetsKey = '';
    }
  }

  private async loadWhoAmI(): Promise<void> {
    try {
      const who = await this.api.whoami();
      renderScope(who, this.api.key() !== null);
      this.admin = who.admin;
      document.querySelector<HTMLElement>('.tabs [data-page="views"]')!.hidden = !who.admin;
    } catch {
      renderScope(null, this.api.key() !== null);
    }
  }

  private setLive(on: boolean): void {
    this.liveToggle.checked = on;
    this.liveState.classList.toggle('is-on', on);
    this.liveState.textContent = on ? 'Live' : '';
    if (on) {
      if (this.view && this.view.filters.to !== null) {
        this.navigate({ filters: { ...this.view.filters, range: DEFAULT_RANGE, from: null, to: null }, log: this.view.log }, 'push');
      }
      this.liveTicks = 0;
      this.live.start();
    } else {
      this.live.stop();
    }
  }

  private async liveTick(signal: AbortSignal): Promise<void> {
    if (!this.view) return;
    const newest = this.table.items.reduce((max, r: LogSummary) => Math.max(max, Date.parse(r.timestamp)), 0);
    const params = apiParams(this.view.filters, Date.now());
    // Overlap a few seconds (deduplicated by id) so that spans arriving slightly late still show.
    const since = Math.max(Number(params.get('from') ?? 0), newest ? newest - LIVE_OVERLAP_MS : 0);
    params.set('from', String(since));
    const page = await this.api.logs(params, { limit: 200, signal });
    if (signal.aborted) return;
    if (page.data.length) {
      const hadRows = this.table.items.length > 0;
      if (!hadRows) this.table.setRows([]);
      const added = this.table.insertLive(page.data);
      if (added) this.updateFooter();
    }
    this.liveState.textContent = 'Live';
    // Refresh the charts now and then; they are not worth a query every two seconds.
    if (++this.liveTicks % 5 === 0) void this.loadStats();
  }

  private applyZone(): void {
    if (this.tzSelect.value !== this.zone) this.tzSelect.value = this.zone;
    this.table.setTimeZone(this.zone);
    this.filters.setTimeZone(this.zone);
    this.detail.setTimeZone(this.zone);
    this.charts.setTimeZone(this.zone);
    this.endpoints.setTimeZone(this.zone);
    this.views.setTimeZone(this.zone);
  }

  /** UTC, the browser's zone, then every IANA zone the browser knows. */
  private fillZones(): void {
    const local = zoneLabel('local');
    const named = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    const option = (value: string, label: string): HTMLOptionElement => {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = label;
      return o;
    };
    const group = document.createElement('optgroup');
    group.label = 'Named zones';
    for (const z of named) group.appendChild(option(z, z.replaceAll('_', ' ')));
    this.tzSelect.replaceChildren(option('utc', 'UTC'), option('local', `Browser (${local})`), group);
    if (!isValidZone(this.zone) || (this.zone !== 'utc' && this.zone !== 'local' && !named.includes(this.zone))) {
      this.tzSelect.appendChild(option(this.zone, this.zone));
    }
    this.tzSelect.value = this.zone;
  }

  private applyChartsVisibility(): void {
    const hidden = localStorage.getItem(CHARTS_STORAGE) === 'hidden';
    byId('overview').hidden = hidden;
    const toggle = byId('charts-toggle');
    toggle.textContent = hidden ? 'Show charts' : 'Hide charts';
    toggle.setAttribute('aria-expanded', String(!hidden));
  }

  private showPage(page: Page): void {
    document.body.dataset.page = page;
    byId('page-title').textContent = PAGE_TITLES[page];
    document.title = `${PAGE_TITLES[page]} · auditspan`;
    for (const tab of document.querySelectorAll<HTMLAnchorElement>('.tabs [data-page]')) {
      if (tab.dataset.page === page) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    byId('filters').hidden = page === 'views';
    byId('view-bar').hidden = page === 'views';
    byId('workspace').hidden = page !== 'logs';
    byId('endpoints-page').hidden = page !== 'endpoints';
    byId('views-page').hidden = page !== 'views';
    if (page === 'logs') this.applyChartsVisibility();
    else byId('overview').hidden = true;
    if (page !== 'logs' && this.live.on) this.setLive(false);
    // Coming back to a page asks again: a relative window has moved on meanwhile.
    if (page !== 'endpoints') this.endpointsKey = '';
    if (page !== 'views') this.viewsKey = null;
    byId<HTMLInputElement>('compare-toggle').checked = this.view?.filters.compare ?? false;
  }

  private async loadEndpoints(): Promise<void> {
    if (!this.view) return;
    const now = Date.now();
    const params = apiParams(this.view.filters, now);
    const key = filterKey(this.view.filters);
    if (key === this.endpointsKey) return;
    this.endpointsKey = key;
    this.endpointsController?.abort();
    const controller = new AbortController();
    this.endpointsController = controller;
    this.endpoints.showLoading();
    try {
      const data = await this.api.endpoints(params, controller.signal);
      if (!controller.signal.aborted) this.endpoints.setData(data);
    } catch (err) {
      if (isAbort(err) || controller.signal.aborted) return;
      this.endpointsKey = '';
      this.endpoints.showError(errorText(err), () => void this.loadEndpoints());
    }
  }

  private viewsParams(): URLSearchParams {
    const v = this.view?.views ?? { kind: '', key: '', company: '' };
    const params = new URLSearchParams();
    if (v.kind) params.set('kind', v.kind);
    if (v.key) params.set('key', v.key);
    if (v.company) params.set('company', v.company);
    return params;
  }

  private async loadViews(more: boolean): Promise<void> {
    const v = this.view?.views ?? { kind: '', key: '', company: '' };
    byId<HTMLSelectElement>('v-kind').value = v.kind;
    if (document.activeElement?.id !== 'v-key') byId<HTMLInputElement>('v-key').value = v.key;
    if (document.activeElement?.id !== 'v-company') byId<HTMLInputElement>('v-company').value = v.company;
    const params = this.viewsParams();
    if (!more && params.toString() === this.viewsKey) return;
    if (more && !this.viewsCursor) return;
    this.viewsKey = params.toString();
    this.viewsController?.abort();
    const controller = new AbortController();
    this.viewsController = controller;
    this.views.showLoading();
    const status = byId('views-status');
    status.textContent = 'Loading…';
    try {
      const page = await this.api.views(params, { limit: PAGE_SIZE, cursor: more ? this.viewsCursor : null, signal: controller.signal });
      if (controller.signal.aborted) return;
      this.viewsCursor = page.nextCursor;
      this.views.setRows(page.data, more);
      byId('views-more').hidden = !page.nextCursor;
      const n = this.views.count;
      status.textContent = n ? `${formatCount(n)} shown${page.nextCursor ? '' : ' — end of the list'}` : '';
    } catch (err) {
      if (isAbort(err) || controller.signal.aborted) return;
      this.viewsKey = null;
      status.textContent = '';
      const forbidden = err instanceof ApiError && err.status === 403;
      this.views.showMessage(forbidden ? 'Admin key needed' : 'Could not load the audit', forbidden
        ? 'Only an admin key can see who viewed or exported what. Sign out and sign in with an admin key.'
        : errorText(err), forbidden ? undefined : () => void this.loadViews(false));
    }
  }

  private async exportLogs(format: 'csv' | 'ndjson'): Promise<void> {
    if (!this.view) return;
    const params = apiParams(this.view.filters, Date.now());
    params.set('format', format);
    await this.runExport(`/api/export?${params}`);
  }

  private async exportViews(format: 'csv' | 'ndjson'): Promise<void> {
    const params = this.viewsParams();
    params.set('format', format);
    await this.runExport(`/api/views/export?${params}`);
  }

  private async runExport(path: string): Promise<void> {
    const status = byId('export-status');
    const viewsStatus = byId('views-status');
    const say = (text: string): void => {
      status.textContent = text;
      if (this.view?.page === 'views') viewsStatus.textContent = text;
    };
    say('Preparing the export…');
    try {
      await this.api.download(path);
      say('Export started: your browser saves the file as it arrives.');
    } catch (err) {
      say(`Export failed: ${errorText(err)}`);
    }
  }
}

/** The filters that decide a query (not the display-only `compare`). */
function filterKey(filters: FilterState): string {
  return toLocation({ filters: { ...filters, compare: false }, log: null });
}

/** A sentence for a person: the API's own message, or what a network failure means. */
function errorText(err: unknown): string {
  if (err instanceof ApiError && err.status === 401) return 'An API key is required. Retry to enter one.';
  return (err as Error)?.message || 'The server could not be reached.';
}

new App().start();
