/**
 * One endpoint name per route. A request that never reached a route handler (an auth
 * middleware's 401, a rate limiter's 429) has no `http.route`, so its endpoint would be its
 * path with ids collapsed (`/v1/customers/{id}`) while the routed requests of the same route are
 * filed under the template (`/v1/customers/:id`). RouteTemplates remembers the templates seen on
 * routed requests, per service, and names an unrouted path after the one it matches.
 *
 * Matching: the same number of segments (a trailing `/` ignored); every literal segment equal;
 * a parameter segment (`:id`, `:id?`, `{id}`, `*`, `*rest`, `(.*)`) matches any one non-empty
 * segment. When several match, the one with the most literal segments wins, and among those
 * the one whose first literal comes first (`/a/b/:y` before `/a/:x/c` for `/a/b/c`), then the
 * one learned first. Pure and bounded: no I/O, at most `maxTemplates` per service and
 * `maxServices` services (templates come from spans, which a sender controls).
 */
import type { AuditRecord } from './types';

export interface RouteTemplatesOptions {
  /** Services remembered. Default 200. */
  maxServices?: number;
  /** Templates remembered per service. Default 2000. */
  maxTemplates?: number;
}

interface Template {
  text: string;
  /** Literal segments (null where the template has a parameter). */
  segments: Array<string | null>;
  literals: number;
}

function splitPath(path: string): string[] {
  const parts = path.split('/');
  // '/a/b' → ['', 'a', 'b']; a trailing slash is the same route for the routers this serves.
  if (parts.length > 2 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function isParameter(segment: string): boolean {
  return (
    segment.startsWith(':') ||
    segment.startsWith('*') ||
    (segment.startsWith('{') && segment.endsWith('}')) ||
    segment === '(.*)'
  );
}

/** True when the template has at least one parameter segment (a template, not a plain path). */
export function hasParameter(template: string): boolean {
  return splitPath(template).some(isParameter);
}

function parse(text: string): Template {
  let literals = 0;
  const segments = splitPath(text).map((s) => {
    if (isParameter(s)) return null;
    literals += 1;
    return s;
  });
  return { text, segments, literals };
}

/** -1 when `a` is the better match, 1 when `b` is, 0 when equal. */
function compare(a: Template, b: Template): number {
  if (a.literals !== b.literals) return a.literals > b.literals ? -1 : 1;
  for (let i = 0; i < a.segments.length; i++) {
    const la = a.segments[i] !== null;
    const lb = b.segments[i] !== null;
    if (la !== lb) return la ? -1 : 1;
  }
  return 0;
}

export class RouteTemplates {
  /** service → segment count → templates (in the order learned). */
  private readonly services = new Map<string, { count: number; bySegments: Map<number, Template[]>; known: Set<string> }>();
  private readonly maxServices: number;
  private readonly maxTemplates: number;

  constructor(options: RouteTemplatesOptions = {}) {
    this.maxServices = options.maxServices ?? 200;
    this.maxTemplates = options.maxTemplates ?? 2000;
  }

  /** Remembers a route template of `service` (the `http.route` of a routed request). */
  learn(service: string | null, template: string): void {
    if (!template.startsWith('/')) return;
    const key = service ?? '';
    let entry = this.services.get(key);
    if (!entry) {
      if (this.services.size >= this.maxServices) return;
      entry = { count: 0, bySegments: new Map(), known: new Set() };
      this.services.set(key, entry);
    }
    if (entry.known.has(template) || entry.count >= this.maxTemplates) return;
    entry.known.add(template);
    entry.count += 1;
    const parsed = parse(template);
    const list = entry.bySegments.get(parsed.segments.length);
    if (list) list.push(parsed);
    else entry.bySegments.set(parsed.segments.length, [parsed]);
  }

  /** The best template of `service` for a request path (no query), or undefined. */
  match(service: string | null, path: string): string | undefined {
    const entry = this.services.get(service ?? '');
    if (!entry) return undefined;
    const parts = splitPath(path);
    const candidates = entry.bySegments.get(parts.length);
    if (!candidates) return undefined;
    let best: Template | undefined;
    for (const t of candidates) {
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const literal = t.segments[i];
        if (literal === null ? parts[i] === '' : literal !== parts[i]) {
          ok = false;
          break;
        }
      }
      if (ok && (!best || compare(t, best) < 0)) best = t;
    }
    return best?.text;
  }

  /**
   * Remembers endpoints read back from the store (newest rows first). Only those with a
   * parameter other than the collapsed `{id}` are taken: a stored endpoint does not say
   * whether it was a route template or an unrouted path with its ids collapsed.
   */
  seed(entries: ReadonlyArray<{ service: string | null; endpoint: string }>): void {
    for (const { service, endpoint } of entries) {
      const params = splitPath(endpoint).filter(isParameter);
      if (params.length > 0 && params.some((p) => p !== '{id}')) this.learn(service, endpoint);
    }
  }
}

function pathOfUrl(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*(\/[^?#]*)?/i.exec(url);
  if (m) return m[1] ?? '/';
  return url.split(/[?#]/)[0] || '/';
}

/**
 * Names the records of one batch: the routed ones (`routed[i]` true: the span had
 * `http.route`) teach their templates first, so that a 401 and a 200 of the same route in one
 * batch share the name; then each unrouted record takes the template its path matches, if any.
 */
export function nameByRoute(routes: RouteTemplates, records: readonly AuditRecord[], routed: readonly boolean[]): void {
  for (let i = 0; i < records.length; i++) if (routed[i]) routes.learn(records[i].service, records[i].endpoint);
  for (let i = 0; i < records.length; i++) {
    if (routed[i]) continue;
    const template = routes.match(records[i].service, pathOfUrl(records[i].url));
    if (template !== undefined) records[i].endpoint = template;
  }
}
