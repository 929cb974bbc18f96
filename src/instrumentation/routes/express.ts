import { InstrumentationNodeModuleDefinition, isWrapped } from '@opentelemetry/instrumentation';
import { TEMPLATE, type WithTemplate, type Wrapping } from './template';

type Dispatch = (this: { path?: unknown }, req: WithTemplate & { baseUrl?: unknown }, ...rest: unknown[]) => unknown;
interface RouteModule {
  Route?: { prototype: { dispatch: Dispatch } };
}

/**
 * Express's router calls `Route#dispatch(req, res, next)` once a route matches, while
 * `req.baseUrl` still holds the mount path of the router the route belongs to; the wrapper
 * keeps `baseUrl + route.path` on the request — right also when an app-level error handler
 * answers after the router has given the request up. `@opentelemetry/instrumentation-express`
 * learns the same by wrapping every layer's handler and starting a span per layer; this costs
 * one property set per matched route.
 *
 * Patched where `Route` lives: the `router` package for express 5 (required by express itself,
 * so ESM apps are covered without the loader hook) and express 4's own `Route`.
 */
export function expressDefinitions(w: Wrapping): InstrumentationNodeModuleDefinition[] {
  const patch = (exports: RouteModule): RouteModule => {
    const proto = exports?.Route?.prototype;
    if (proto && typeof proto.dispatch === 'function' && !isWrapped(proto.dispatch)) w.wrap(proto, 'dispatch', wrapDispatch);
    return exports;
  };
  const unpatch = (exports: RouteModule): void => {
    const proto = exports?.Route?.prototype;
    if (proto && isWrapped(proto.dispatch)) w.unwrap(proto, 'dispatch');
  };
  return [
    new InstrumentationNodeModuleDefinition('router', ['>=2 <3'], patch, unpatch),
    new InstrumentationNodeModuleDefinition('express', ['>=4 <5'], patch, unpatch),
  ];
}

function wrapDispatch(original: Dispatch): Dispatch {
  return function dispatch(this: { path?: unknown }, req): unknown {
    try {
      if (typeof this.path === 'string') req[TEMPLATE] = (typeof req.baseUrl === 'string' ? req.baseUrl : '') + this.path;
    } catch {
      // Telemetry never breaks the app.
    }
    return original.apply(this, arguments as unknown as Parameters<Dispatch>);
  } as Dispatch;
}
