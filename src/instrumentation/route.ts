import type { IncomingMessage } from 'node:http';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, isWrapped } from '@opentelemetry/instrumentation';

const TEMPLATE = Symbol('auditspan.route.template');

type WithTemplate = IncomingMessage & { [TEMPLATE]?: string; baseUrl?: unknown };
type Dispatch = (this: { path?: unknown }, req: WithTemplate, ...rest: unknown[]) => unknown;
interface RouteModule {
  Route?: { prototype: { dispatch: Dispatch } };
}

/**
 * Learns each request's route template (`/v1/orders/:orderId`) without a span per middleware.
 * Express's router calls `Route#dispatch(req, res, next)` once a route matches, while
 * `req.baseUrl` still holds the mount path of the router the route belongs to; the wrapper
 * keeps `baseUrl + route.path` on the request, which `routeTemplate()` reads when the response
 * ends — right also when an app-level error handler answers after the router has given the
 * request up. `@opentelemetry/instrumentation-express` learns the same by wrapping every layer's
 * handler and starting a span per layer; this costs one property set per matched route.
 *
 * Patched where `Route` lives: the `router` package for express 5 (required by express itself,
 * so ESM apps are covered without the loader hook) and `express` 4's own `Route`.
 */
export class RouteTemplateInstrumentation extends InstrumentationBase {
  constructor() {
    super('auditspan-route-template', '1.0.0', {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const patch = (exports: RouteModule): RouteModule => {
      const proto = exports?.Route?.prototype;
      if (proto && typeof proto.dispatch === 'function' && !isWrapped(proto.dispatch)) this._wrap(proto, 'dispatch', wrapDispatch);
      return exports;
    };
    const unpatch = (exports: RouteModule): void => {
      const proto = exports?.Route?.prototype;
      if (proto && isWrapped(proto.dispatch)) this._unwrap(proto, 'dispatch');
    };
    return [
      new InstrumentationNodeModuleDefinition('router', ['>=2 <3'], patch, unpatch),
      new InstrumentationNodeModuleDefinition('express', ['>=4 <5'], patch, unpatch),
    ];
  }
}

function wrapDispatch(original: Dispatch): Dispatch {
  return function dispatch(this: { path?: unknown }, req: WithTemplate): unknown {
    try {
      if (typeof this.path === 'string') req[TEMPLATE] = (typeof req.baseUrl === 'string' ? req.baseUrl : '') + this.path;
    } catch {
      // Telemetry never breaks the app.
    }
    return original.apply(this, arguments as unknown as Parameters<Dispatch>);
  };
}

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

/** The template of the last route express dispatched this request to, if any. */
export function routeTemplate(req: IncomingMessage): string | undefined {
  return (req as WithTemplate)[TEMPLATE];
}
