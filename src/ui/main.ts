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
import { byId } from './dom';
import { FilterBar } from './filters';
import { formatCount, type TimeZoneMode } from './format';
import { bindKeyboard } from './keyboard';
import { LiveTail } from './live-tail';
import { LogTable } from './table';
import type { LogSummary } from './types';
import {
  apiParams, DEFAULT_RANGE, filtersEqual, hasNarrowingFilters, parseLocation, timeBounds, toLocation,
  type FilterState, type ViewState,
} from './url-state';

const PAGE_SIZE = 50;
const LIVE_OVERLAP_MS = 5000;
const TZ_STORAGE = 'auditspan.tz';

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
  private readonly tzToggle = byId<HTMLButtonElement>('tz-toggle');

  /** The query behind the rows shown: fixed when the query starts, so pages stay consistent. */
  private query: URLSearchParams | null = null;
  private cursor: string | null = null;
  private listController: AbortController | null = null;
  private statsController: AbortController | null = null;
  private facetsController: AbortController | null = null;
  private facetsKey = '';
  private loadingMore = false;
  private liveTicks = 0;
  private zone: TimeZoneMode = localStorage.getItem(TZ_STORAGE) === 'local' ? 'local' : 'utc';

  constructor() {
    this.table = new LogTable(byId('logs-body') as HTMLTableSectionElement, byId('th-time'), {
      onOpen: (id) => this.openLog(id, 'push'),
    });
    this.filters = new FilterBar({
      onChange: (filters, { replace }) => this.navigate({ filters, log: this.view?.log ?? null }, replace ? 'replace' : 'push'),
    });
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
    this.tzToggle.addEventListener('click', () => {
      this.zone = this.zone === 'utc' ? 'local' : 'utc';
      localStorage.setItem(TZ_STORAGE, this.zone);
      this.applyZone();
    });
    byId('sign-out').addEventListener('click', () => {
      this.api.signOut();
      renderScope(null, false);
      // Start over: the next request meets a 401 and asks for a key.
      this.facetsKey = '';
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
    if (!previous || !filtersEqual(previous.filters, next.filters)) {
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
          clear: () => this.navigate({ filters: { ...this.filters_(), endpoint: [], token: [], status: [], method: [], q: '', minLatencyMs: null }, log: this.view?.log ?? null }, 'push'),
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
    const message = err instanceof ApiError && err.status === 401
      ? 'An API key is required. Retry to enter one.'
      : (err as Error).message || 'The server could not be reached.';
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
      this.charts.update(stats, { from: from ?? first, to: to ?? now });
    } catch (err) {
      if (isAbort(err) || controller.signal.aborted) return;
      this.charts.setError((err as Error).message);
    }
  }

  /** Facets follow the time range only, so choosing an endpoint does not hide the others. */
  private async loadFacets(): Promise<void> {
    const filters = this.filters_();
    const params = apiParams({ ...filters, endpoint: [], token: [], status: [], method: [], q: '', minLatencyMs: null }, Date.now());
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
    this.tzToggle.textContent = this.zone === 'utc' ? 'Times: UTC' : 'Times: local';
    this.tzToggle.setAttribute('aria-pressed', String(this.zone === 'local'));
    this.table.setTimeZone(this.zone);
    this.detail.setTimeZone(this.zone);
    this.charts.setTimeZone(this.zone);
  }
}

new App().start();
