/** The filter bar: reads and writes FilterState; never keeps state of its own beyond the controls. */
import { byId, h, replaceChildren } from './dom';
import { fromDateTimeLocalUtc, toDateTimeLocalUtc } from './format';
import { defaultFilters, isRangePreset, RANGE_PRESETS, STATUS_CLASSES, timeBounds, type FilterState } from './url-state';
import type { Facets } from './types';

const STANDARD_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const STATUS_LABELS: Record<string, string> = { '2xx': '2xx · Success', '3xx': '3xx · Redirect', '4xx': '4xx · Client error', '5xx': '5xx · Server error' };
const MULTI = '\u0000multi';
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
  private readonly endpoint = byId<HTMLSelectElement>('f-endpoint');
  private readonly token = byId<HTMLSelectElement>('f-token');
  private readonly status = byId<HTMLSelectElement>('f-status');
  private readonly methods = byId('f-methods');
  private readonly q = byId<HTMLInputElement>('f-q');
  private readonly latency = byId<HTMLInputElement>('f-latency');
  private readonly clear = byId<HTMLButtonElement>('clear-filters');
  private textTimer: ReturnType<typeof setTimeout> | undefined;
  /** The text field whose edit produced the current history entry (so the next keystrokes replace it). */
  private typingIn: string | null = null;

  constructor(private readonly callbacks: FilterCallbacks) {
    for (const button of this.rangeButtons) {
      button.addEventListener('click', () => {
        const range = button.dataset.range ?? '';
        if (range === 'custom') {
          const open = this.customBox.hidden;
          this.customBox.hidden = !open;
          button.setAttribute('aria-expanded', String(open));
          if (open) {
            const { from, to } = timeBounds(this.current, Date.now());
            this.fromInput.value = toDateTimeLocalUtc(from ?? Date.now() - RANGE_PRESETS['24h']);
            this.toInput.value = toDateTimeLocalUtc(to ?? Date.now());
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
    this.endpoint.addEventListener('change', () => this.emit({ endpoint: selectValues(this.endpoint, this.current.endpoint) }));
    this.token.addEventListener('change', () => this.emit({ token: selectValues(this.token, this.current.token) }));
    this.status.addEventListener('change', () => this.emit({ status: selectValues(this.status, this.current.status) }));
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
      this.emit({ endpoint: d.endpoint, token: d.token, status: d.status, method: d.method, q: d.q, minLatencyMs: d.minLatencyMs });
    });
  }

  focusSearch(): void {
    this.q.focus();
    this.q.select();
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
      button.setAttribute('aria-pressed', String(range === 'custom' ? custom : range === filters.range));
    }
    if (custom) {
      this.customBox.hidden = false;
      if (document.activeElement !== this.fromInput) this.fromInput.value = filters.from !== null ? toDateTimeLocalUtc(filters.from) : '';
      if (document.activeElement !== this.toInput) this.toInput.value = filters.to !== null ? toDateTimeLocalUtc(filters.to) : '';
    } else if (!this.form.contains(document.activeElement) || !this.customBox.contains(document.activeElement)) {
      this.customBox.hidden = true;
    }
    this.rangeButtons.find((b) => b.dataset.range === 'custom')?.setAttribute('aria-expanded', String(!this.customBox.hidden));

    fillSelect(this.endpoint, 'All endpoints', [{ label: '', values: this.facets.endpoints.map((e) => [e, e] as [string, string]) }], filters.endpoint);
    fillSelect(this.token, 'All tokens', [{ label: '', values: this.facets.tokens.map((t) => [t, t] as [string, string]) }], filters.token);
    const codes = [...new Set(this.facets.statuses)].sort((a, b) => a - b).map((s) => [String(s), String(s)] as [string, string]);
    fillSelect(this.status, 'All statuses', [
      { label: 'Class', values: STATUS_CLASSES.map((c) => [c, STATUS_LABELS[c]] as [string, string]) },
      { label: 'Exact code', values: codes },
    ], filters.status);

    const methods = STANDARD_METHODS.concat(this.facets.methods, filters.method).filter((m, i, all) => all.indexOf(m) === i);
    replaceChildren(this.methods, ...methods.map((m) =>
      h('button', { type: 'button', class: 'chip', 'data-method': m, 'aria-pressed': String(filters.method.includes(m)) }, m)));

    if (document.activeElement !== this.q) this.q.value = filters.q;
    if (document.activeElement !== this.latency) this.latency.value = filters.minLatencyMs === null ? '' : String(filters.minLatencyMs);
    this.q.classList.toggle('is-active-filter', filters.q.trim() !== '');
    this.latency.classList.toggle('is-active-filter', filters.minLatencyMs !== null);
    const narrowed = filters.endpoint.length + filters.token.length + filters.status.length + filters.method.length > 0 ||
      filters.q.trim() !== '' || filters.minLatencyMs !== null;
    this.clear.hidden = !narrowed;
  }

  private applyCustomRange(): void {
    const from = fromDateTimeLocalUtc(this.fromInput.value);
    const to = fromDateTimeLocalUtc(this.toInput.value);
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

interface OptionGroup { label: string; values: Array<[value: string, label: string]> }

/** Rebuilds a single-select; values in the URL that the facets do not list are kept as options. */
function fillSelect(select: HTMLSelectElement, allLabel: string, groups: OptionGroup[], selected: string[]): void {
  const known = new Set(groups.flatMap((g) => g.values.map(([v]) => v)));
  const extra = selected.length === 1 && !known.has(selected[0]) ? [[selected[0], selected[0]] as [string, string]] : [];
  const children: Array<HTMLOptionElement | HTMLOptGroupElement> = [h('option', { value: '' }, allLabel)];
  if (selected.length > 1) children.push(h('option', { value: MULTI }, selected.join(', ')));
  for (const [v, label] of extra) children.push(h('option', { value: v }, label));
  for (const group of groups) {
    if (group.values.length === 0) continue;
    const options = group.values.map(([v, label]) => h('option', { value: v }, label));
    if (group.label) children.push(h('optgroup', { label: group.label }, ...options));
    else children.push(...options);
  }
  replaceChildren(select, ...children);
  select.value = selected.length > 1 ? MULTI : (selected[0] ?? '');
  select.classList.toggle('is-active-filter', selected.length > 0);
}

function selectValues(select: HTMLSelectElement, previous: string[]): string[] {
  if (select.value === MULTI) return previous;
  return select.value ? [select.value] : [];
}
