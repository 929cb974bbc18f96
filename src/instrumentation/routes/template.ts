import type { IncomingMessage } from 'node:http';

/** The route template of a request, as its framework's router wrote it (`/users/:id`, hapi's `/users/{id}`). */
export const TEMPLATE = Symbol('auditspan.route.template');

export type WithTemplate = IncomingMessage & { [TEMPLATE]?: string };

/**
 * Gives the request its template slot while it is still a plain IncomingMessage (called from
 * the http instrumentation's request hook). Express then re-parents `req`
 * (`Object.setPrototypeOf(req, app.request)`); a property added after that leaves `req` in a
 * slower shape for everything that reads it later (≈ 30 µs of request-thread CPU per request in
 * the overhead benchmark), a store into one that exists costs next to nothing (docs/architecture.md).
 */
export function reserveRouteTemplate(req: IncomingMessage): void {
  (req as WithTemplate)[TEMPLATE] = undefined;
}

/** Records the template a router matched; the last one set wins (the innermost router's). */
export function setRouteTemplate(req: unknown, template: unknown): void {
  if (typeof template === 'string' && req !== null && typeof req === 'object') (req as WithTemplate)[TEMPLATE] = template;
}

/** The template of the route this request was dispatched to, if a router matched one. */
export function routeTemplate(req: IncomingMessage): string | undefined {
  return (req as WithTemplate)[TEMPLATE];
}

/** The wrapping helpers of the InstrumentationBase that owns the patches (its `_wrap`/`_unwrap` are protected). */
export interface Wrapping {
  wrap<T extends object>(target: T, name: keyof T & string, wrapper: (original: never) => unknown): void;
  unwrap<T extends object>(target: T, name: keyof T & string): void;
}
