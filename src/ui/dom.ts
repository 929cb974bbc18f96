/**
 * The one way the UI creates elements. Values are only ever set as text
 * (`textContent`) or as attributes through `setAttribute`; never innerHTML, and
 * never `on*` or `style` attributes (the CSP forbids inline handlers and styles).
 */
export type Child = Node | string | number | null | undefined | false;
export type Attrs = Record<string, string | number | boolean | null | undefined>;

const FORBIDDEN_ATTR = /^(on|style$|srcdoc$)/i;
const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'xlink:href']);

/** Only http(s), mailto and same-origin paths survive as link targets: never `javascript:`. */
export function safeUrl(value: string): string | null {
  const v = value.trim();
  if (v.startsWith('/') && !v.startsWith('//')) return v;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.toString() : null;
  } catch {
    return null;
  }
}

export function setAttrs(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (FORBIDDEN_ATTR.test(name)) throw new Error(`dom: attribute "${name}" is not allowed`);
    if (value === null || value === undefined || value === false) {
      el.removeAttribute(name);
      continue;
    }
    let text = value === true ? '' : String(value);
    if (URL_ATTRS.has(name.toLowerCase())) {
      const safe = safeUrl(text);
      if (safe === null) continue;
      text = safe;
    }
    el.setAttribute(name, text);
  }
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** `h('td', { class: 'status' }, '404')` → `<td class="status">404</td>`, the text set as text. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Replaces all children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** Looks an element up by id and fails loudly when the page shell is missing it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`auditspan ui: #${id} missing from index.html`);
  return el as T;
}
