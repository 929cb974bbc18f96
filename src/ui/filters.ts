/** The filter bar: reads and writes FilterState; never keeps state of its own beyond the controls. */
import { byId, h, replaceChildren } from './dom';
import { fromDateTimeLocal, statusText, toDateTimeLocal, zoneLabel, type TimeZoneMode } from './format';
import { MultiSelect } from './multi-select';
import { defaultFilters, isRangePreset, isRelativeRange, RANGE_PRESETS, STATUS_CLASSES, timeBounds, type FilterState } from './url-state';
import type { Facets } from './types';

const STANDARD_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const STATUS_LABELS: Record<string, string> = { '2xx': '2xx · Success', '3xx': '3xx · Redirect', '4xx': '4xx · Client error', '5xx': '5xx · Server error' };
const TEXT_DEBOUNCE_MS = 300;

export interface FilterCallbacks {
  /** `replace` is true for keystroke-level edits, which should not each add a history entry. */
  onChange(next: FilterState, options: { replace: boolean }): void;
}

export class FilterBar {
  private current: FilterState = defaultFilters();
  private facets: Facets = { endpoints: [], tokens: [], methods: [], statuses: [], services: [] };
  private readonly form = byId<HTMLFormElement>('filters');
  private readonly rangeButtons = [...this.form.querySelectorAll<HTMLButtonElement>('[data-range]')];
  private readonly customBox = byId('custom-range');
  private readonly fromInput = byId<HTMLInputElement>('f-from');
  private readonly toInput = byId<HTMLInputElement>('f-to');
  /** The zone the From/To inputs are read and shown in: the one chosen for every time on the page. */
  private zone: TimeZoneMode = 'utc';
  private readonly endpoint: MultiSelect;
  private readonly token: MultiSelect;
  private readonly status: MultiSelect;
  private readonly service: MultiSelect;
  private readonly lastN = byId<HTMLInputElement>('f-last-n');
  private readonly lastUnit = byId<HTMLSelectElement>('f-last-unit');
  private readonly latencyMax = byId<HTMLInputElement>('f-latency-max');
  private readonly methods = byId('f-methods');
  private readonly q = byId<HTMLInputElement>('f-q');
  private readonly latency = byId<HTMLInputElement>('f-latency');
  private readonly clear = byId<HTMLButtonElement>('clear-filters');
  private textTimer: ReturnType<typeof setTimeout> | undefined;
  /** The text field whose edit produced the current history entry (so the next keystrokes replace it). */
  private typingIn: string | null = null;

  constructor(private readonly callbacks: FilterCallbacks) {
    this.endpoint = new MultiSelect(byId('f-endpoint'), { allLabel: 'All endpoints', name: 'Endpoint', onChange: (endpoint) => this.emit({ endpoint }) });
    this.token = new MultiSelect(byId('f-token'), { allLabel: 'All tokens', name: 'Token', onChange: (token) => this.emit({ token }) });
    this.service = new MultiSelect(byId('f-service'), { allLabel: 'All services', name: 'Service', onChange: (service) => this.emit({ service }) });
    this.status = new MultiSelect(byId('f-status'), {
      allLabel: 'All statuses', name: 'Status', onChange: (status) => this.emit({ status }),
      shortcuts: [{ label: 'All errors (4xx + 5xx)', values: ['4xx', '5xx'] }],
      short: (v) => (/^\dxx$/.test(v) ? v : statusText(Number(v))),
    });
    byId('apply-last').addEventListener('click', () => this.applyLastN());
    this.lastN.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this.applyLastN();
      }
    });
    for (const button of this.rangeButtons) {
      button.addEventListener('click', () => {
        const range = button.dataset.range ?? '';
        if (range === 'custom') {
          const open = this.customBox.hidden;
          this.customBox.hidden = !open;
          button.setAttribute('aria-expanded', String(open));
          if (open) {
            const { from, to } = timeBounds(this.current, Date.now());
            this.fromInput.value = toDateTimeLocal(from ?? Date.now() - RANGE_PRESETS['24h'], this.zone);
            this.toInput.value = toDateTimeLocal(to ?? Date.now(), this.zone);
            this.fromInput.focus();
          }
          return;
        }
        if (isRangePreset(range)) this.emit({ range, from: null, to: null });
      });
    }
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.applyCustomRange();
    });
    this.methods.addEventListener('click', (event) => {
      const chip = (event.target as Element).closest<HTMLButtonElement>('[data-method]');
      const method = chip?.dataset.method;
      if (!method) return;
      const set = new Set(this.current.method);
      if (set.has(method)) set.delete(method);
      else set.add(method);
      this.emit({ method: STANDARD_METHODS.concat(this.facets.methods).filter((m, i, all) => set.has(m) && all.indexOf(m) === i) });
    });
    this.q.addEventListener('input', () => this.debounced('q', () => ({ q: this.q.value })));
    this.latency.addEventListener('input', () => this.debounced('latency', () => {
      const n = this.latency.value === '' ? null : Number(this.latency.value);
      return { minLatencyMs: n !== null && Number.isFinite(n) && n >= 0 ? n : null };
    }));
    this.latencyMax.addEventListener('input', () => this.debounced('latencyMax', () => {
      const n = this.latencyMax.value === '' ? null : Number(this.latencyMax.value);
      return { maxLatencyMs: n !== null && Number.isFinite(n) && n >= 0 ? n : null };
    }));
    this.q.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this.flushText();
      }
      if (event.key === 'Escape' && this.q.value) {
        event.stopPropagation();
        this.q.value = '';
        this.debounced('q', () => ({ q: '' }));
        this.flushText();
      }
    });
    this.clear.addEventListener('click', () => {
      const d = defaultFilters();
      this.emit({
        endpoint: d.endpoint, token: d.token, status: d.status, method: d.method, q: d.q, minLatencyMs: d.minLatencyMs,
        maxLatencyMs: d.maxLatencyMs, service: d.service,
      });
    });
  }

  focusSearch(): void {
    this.q.focus();
    this.q.select();
  }

  setTimeZone(zone: TimeZoneMode): void {
    this.zone = zone;
    const label = zoneLabel(zone);
    byId('f-from-label').textContent = `From (${label})`;
    byId('f-to-label').textContent = `To (${label})`;
    this.render(this.current);
  }

  setFacets(facets: Facets): void {
    this.facets = facets;
    this.render(this.current);
  }

  /** Shows `filters` in the controls (after navigation, back/forward or a permalink). */
  render(filters: FilterState): void {
    this.current = filters;
    const custom = filters.range === null;
    for (const button of this.rangeButtons) {
      const range = button.dataset.range;
      // A relative range that is not a preset (`45m`) shows under Custom, with its value filled in.
      button.setAttribute('aria-pressed', String(range === 'custom' ? custom || !isRangePreset(filters.range) : range === filters.range));
    }
    const relative = filters.range !== null && !isRangePreset(filters.range) ? /^(\d+)([mhd])$/.exec(filters.range) : null;
    if (relative && document.activeElement !== this.lastN) {
      this.lastN.value = relative[1];
      this.lastUnit.value = relative[2];
    }
    if (custom || relative) {
      this.customBox.hidden = false;
      if (document.activeElement !== this.fromInput) this.fromInput.value = filters.from !== null ? toDateTimeLocal(filters.from, this.zone) : '';
      if (document.activeElement !== this.toInput) this.toInput.value = filters.to !== null ? toDateTimeLocal(filters.to, this.zone) : '';
    } else if (!this.form.contains(document.activeElement) || !this.customBox.contains(document.activeElement)) {
      this.customBox.hidden = true;
    }
    this.rangeButtons.find((b) => b.dataset.range === 'custom')?.setAttribute('aria-expanded', String(!this.customBox.hidden));

    this.endpoint.setGroups([{ label: '', values: this.facets.endpoints.map((e) => [e, e] as [string, string]) }]);
    this.endpoint.setSelected(filters.endpoint);
    this.token.setGroups([{ label: '', values: this.facets.tokens.map((t) => [t, t] as [string, string]) }]);
    this.token.setSelected(filters.token);
    this.service.setGroups([{ label: '', values: (this.facets.services ?? []).map((t) => [t, t] as [string, string]) }]);
    this.service.setSelected(filters.service);
    const codes = [...new Set(this.facets.statuses)].sort((a, b) => a - b).map((s) => [String(s), statusText(s)] as [string, string]);
    this.status.setGroups([
      { label: 'Class', values: STATUS_CLASSES.map((c) => [c, STATUS_LABELS[c]] as [string, string]) },
      { label: 'Exact code', values: codes },
    ]);
    this.status.setSelected(filters.status);

    const methods = STANDARD_METHODS.concat(this.facets.methods, filters.method).filter((m, i, all) => all.indexOf(m) === i);
    replaceChildren(this.methods, ...methods.map((m) =>
      h('button', { type: 'button', class: 'chip', 'data-method': m, 'aria-pressed': String(filters.method.includes(m)) }, m)));

    if (document.activeElement !== this.q) this.q.value = filters.q;
    if (document.activeElement !== this.latency) this.latency.value = filters.minLatencyMs === null ? '' : String(filters.minLatencyMs);
    this.q.classList.toggle('is-active-filter', filters.q.trim() !== '');
    this.latency.classList.toggle('is-active-filter', filters.minLatencyMs !== null);
    if (document.activeElement !== this.latencyMax) this.latencyMax.value = filters.maxLatencyMs === null ? '' : String(filters.maxLatencyMs);
    this.latencyMax.classList.toggle('is-active-filter', filters.maxLatencyMs !== null);
    const narrowed = filters.endpoint.length + filters.token.length + filters.status.length + filters.method.length + filters.service.length > 0 ||
      filters.q.trim() !== '' || filters.minLatencyMs !== null || filters.maxLatencyMs !== null;
    this.clear.hidden = !narrowed;
  }

  /** "Last N minutes/hours/days": a relative range like the presets, kept as `range=45m`. */
  private applyLastN(): void {
    const range = `${this.lastN.value.trim()}${this.lastUnit.value}`;
    this.lastN.setCustomValidity('');
    if (!isRelativeRange(range)) {
      this.lastN.setCustomValidity('Enter a whole number from 1 to 9999 (at most 400 days)');
      this.lastN.reportValidity();
      return;
    }
    this.emit({ range, from: null, to: null });
  }

  private applyCustomRange(): void {
    const from = fromDateTimeLocal(this.fromInput.value, this.zone);
    const to = fromDateTimeLocal(this.toInput.value, this.zone);
    this.fromInput.setCustomValidity('');
    this.toInput.setCustomValidity('');
    if (from === null && to === null) {
      this.fromInput.setCustomValidity('Enter a start or an end time');
      this.fromInput.reportValidity();
      return;
    }
    if (from !== null && to !== null && from >= to) {
      this.toInput.setCustomValidity('The end must be after the start');
      this.toInput.reportValidity();
      return;
    }
    this.emit({ range: null, from, to });
  }

  private debounced(field: string, read: () => Partial<FilterState>): void {
    // Typing in another field first applies what the previous one had pending.
    if (this.pendingText && this.pendingField !== field) this.flushText();
    clearTimeout(this.textTimer);
    this.pendingText = read;
    this.pendingField = field;
    this.textTimer = setTimeout(() => this.flushText(), TEXT_DEBOUNCE_MS);
  }

  private pendingText: (() => Partial<FilterState>) | null = null;
  private pendingField: string | null = null;

  private flushText(): void {
    clearTimeout(this.textTimer);
    const read = this.pendingText;
    const field = this.pendingField;
    this.pendingText = null;
    if (!read) return;
    const patch = read();
    const replace = this.typingIn === field;
    this.typingIn = field;
    this.callbacks.onChange({ ...this.current, ...patch }, { replace });
  }

  private emit(patch: Partial<FilterState>): void {
    this.typingIn = null;
    this.callbacks.onChange({ ...this.current, ...patch }, { replace: false });
  }
}
