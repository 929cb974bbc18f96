import { IncomingMessage } from 'node:http';

const ROUTE = Symbol('auditspan.route');
const TEMPLATE = Symbol('auditspan.route.template');

type WithRoute = IncomingMessage & { [ROUTE]?: unknown; [TEMPLATE]?: string; baseUrl?: unknown };

let installed = false;

/**
 * Learns each request's route template (`/v1/customers/:id`) without a span per middleware.
 * Express and its router (4.x and 5.x) assign `req.route` when a route matches, while
 * `req.baseUrl` still holds the mount path of the router it belongs to; an accessor on
 * `IncomingMessage.prototype` sees that assignment and keeps `baseUrl + route.path`, which
 * `routeTemplate()` reads when the response ends. `@opentelemetry/instrumentation-express`
 * learns the same by wrapping every layer's handler and starting a span per layer; this costs
 * two property sets per matched route, needs no loader hook (ESM apps get their route too), and
 * `req.route` reads back unchanged.
 */
export function installRouteCapture(): void {
  if (installed) return;
  const proto = IncomingMessage.prototype as WithRoute;
  // Someone else already owns `route` on the prototype: leave it to them.
  if (Object.getOwnPropertyDescriptor(proto, 'route')) return;
  installed = true;
  Object.defineProperty(proto, 'route', {
    configurable: true,
    enumerable: false,
    get(this: WithRoute): unknown {
      return this[ROUTE];
    },
    set(this: WithRoute, value: unknown) {
      this[ROUTE] = value;
      const path = (value as { path?: unknown } | null | undefined)?.path;
      if (typeof path === 'string') this[TEMPLATE] = (typeof this.baseUrl === 'string' ? this.baseUrl : '') + path;
    },
  });
}

/** The template of the last route express matched for this request, if any. */
export function routeTemplate(req: IncomingMessage): string | undefined {
  return (req as WithRoute)[TEMPLATE];
}
