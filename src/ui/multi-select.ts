/**
 * A dropdown of checkboxes: several values per filter (endpoints, tokens, statuses, services).
 * The button names the selection; each tick applies at once (the URL changes), Escape or a
 * click outside closes the list. Values the facets do not list (from a shared URL) stay listed.
 */
import { h, replaceChildren } from './dom';

export interface OptionGroup {
  label: string;
  values: Array<[value: string, label: string]>;
}

export interface Shortcut {
  label: string;
  values: string[];
}

export interface MultiSelectOptions {
  /** Button text with nothing selected: `All endpoints`. */
  allLabel: string;
  /** Accessible name of the list: `Endpoint`. */
  name: string;
  onChange(values: string[]): void;
  /** One-click selections shown above the list (`All errors` → 4xx, 5xx). */
  shortcuts?: Shortcut[];
  /** Short label of a value on the button (defaults to the option label). */
  short?(value: string): string;
}

const SEARCH_FROM = 10;

export class MultiSelect {
  private readonly button: HTMLButtonElement;
  private readonly panel: HTMLDivElement;
  private groups: OptionGroup[] = [];
  private selected: string[] = [];
  private labels = new Map<string, string>();
  private filterText = '';

  constructor(private readonly root: HTMLElement, private readonly options: MultiSelectOptions) {
    root.classList.add('ms');
    this.button = h('button', { type: 'button', class: 'select ms-button', 'aria-haspopup': 'true', 'aria-expanded': 'false' }, options.allLabel);
    this.panel = h('div', { class: 'ms-panel', role: 'group', 'aria-label': options.name, hidden: true });
    replaceChildren(root, this.button, this.panel);
    this.button.addEventListener('click', () => this.setOpen(this.panel.hidden));
    this.panel.addEventListener('change', (event) => {
      const input = event.target as HTMLInputElement;
      if (input.type !== 'checkbox') return;
      const set = new Set(this.selected);
      if (input.checked) set.add(input.value);
      else set.delete(input.value);
      this.emit([...set]);
    });
    this.panel.addEventListener('click', (event) => {
      const target = (event.target as Element).closest<HTMLElement>('[data-shortcut], [data-clear]');
      if (!target) return;
      if (target.dataset.clear !== undefined) this.emit([]);
      else {
        const shortcut = this.options.shortcuts?.[Number(target.dataset.shortcut)];
        if (shortcut) this.emit(shortcut.values);
      }
    });
    root.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.panel.hidden) {
        event.stopPropagation();
        this.setOpen(false);
        this.button.focus();
      }
    });
    document.addEventListener('pointerdown', (event) => {
      if (!this.panel.hidden && !root.contains(event.target as Node)) this.setOpen(false);
    });
  }

  setGroups(groups: OptionGroup[]): void {
    this.groups = groups;
    for (const g of groups) for (const [v, label] of g.values) this.labels.set(v, label);
    this.render();
  }

  setSelected(values: string[]): void {
    this.selected = [...values];
    this.render();
  }

  private emit(values: string[]): void {
    this.selected = values;
    this.render();
    this.options.onChange(values);
  }

  private setOpen(open: boolean): void {
    this.panel.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
    if (open) {
      this.render();
      (this.panel.querySelector<HTMLInputElement>('input[type="search"], input[type="checkbox"]'))?.focus();
    }
  }

  private render(): void {
    const short = (v: string): string => this.options.short?.(v) ?? this.labels.get(v) ?? v;
    const n = this.selected.length;
    this.button.textContent = n === 0 ? this.options.allLabel : n === 1 ? short(this.selected[0]) : `${short(this.selected[0])} +${n - 1}`;
    this.button.title = n ? this.selected.map(short).join(', ') : this.options.allLabel;
    this.button.classList.toggle('is-active-filter', n > 0);
    if (this.panel.hidden) return;

    const known = new Set(this.groups.flatMap((g) => g.values.map(([v]) => v)));
    const extra = this.selected.filter((v) => !known.has(v)).map((v) => [v, v] as [string, string]);
    const groups = extra.length ? [{ label: '', values: extra }, ...this.groups] : this.groups;
    const total = groups.reduce((s, g) => s + g.values.length, 0);
    const text = this.filterText.toLowerCase();
    const option = ([value, label]: [string, string]) =>
      h('label', { class: 'ms-option' }, h('input', { type: 'checkbox', value, checked: this.selected.includes(value) }), h('span', null, label));
    const hadFocus = this.panel.contains(document.activeElement) ? (document.activeElement as HTMLInputElement) : null;
    const focusKey = hadFocus?.type === 'search' ? 'search' : hadFocus?.value;

    let search: HTMLInputElement | null = null;
    if (total >= SEARCH_FROM) {
      search = h('input', { type: 'search', class: 'input ms-search', placeholder: 'Filter…', 'aria-label': `Filter ${this.options.name.toLowerCase()} list`, value: this.filterText });
      search.addEventListener('input', () => {
        this.filterText = search!.value;
        this.render();
      });
    }
    replaceChildren(this.panel,
      search,
      h('div', { class: 'ms-actions' },
        ...(this.options.shortcuts ?? []).map((s, i) => h('button', { type: 'button', class: 'btn btn-sm', 'data-shortcut': i }, s.label)),
        h('button', { type: 'button', class: 'btn btn-sm btn-ghost', 'data-clear': '' }, 'Clear')),
      ...groups.map((g) => {
        const values = g.values.filter(([v, label]) => !text || v.toLowerCase().includes(text) || label.toLowerCase().includes(text));
        if (values.length === 0) return null;
        return h('div', { class: 'ms-group' }, g.label ? h('p', { class: 'ms-group-label' }, g.label) : null, ...values.map(option));
      }),
      total === 0 ? h('p', { class: 'note ms-empty' }, 'Nothing seen in this time range.') : null);
    if (focusKey === 'search') {
      search?.focus();
      search?.setSelectionRange(search.value.length, search.value.length);
    } else if (focusKey) {
      [...this.panel.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')].find((i) => i.value === focusKey)?.focus();
    }
  }
}
