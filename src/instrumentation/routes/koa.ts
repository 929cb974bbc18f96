import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { setRouteTemplate, TEMPLATE, type WithTemplate } from './template';

type KoaContext = { req?: WithTemplate };

const ROUTE = '_matchedRoute';
const PATCHED = Symbol('auditspan.koa.matchedRoute');

/**
 * `@koa/router` (and `koa-router`) put the template of the route they dispatch to on
 * `ctx._matchedRoute` (`/v1/users/:id`, with the router's prefix and the mount path of a nested
 * router). koa's context objects inherit from the prototype exported by `koa/lib/context.js`, so
 * an accessor defined there sees every assignment: the setter stores the template straight into
 * the request's slot and the getter reads it back, so the app sees the same value as before.
 * Nothing runs for a request no router matches. `koa/lib/context.js` is required by koa's own
 * code, so CommonJS and ESM apps (koa's ESM entry imports the CommonJS one) are both covered.
 */
function patch(proto: Record<string | symbol, unknown>): Record<string | symbol, unknown> {
  if (!proto || typeof proto !== 'object' || proto[PATCHED]) return proto;
  Object.defineProperty(proto, ROUTE, {
    configurable: true,
    enumerable: false,
    get(this: KoaContext): unknown {
      return this.req?.[TEMPLATE];
    },
    set(this: KoaContext, value: unknown): void {
      if (this.req && typeof this.req === 'object' && typeof value === 'string') setRouteTemplate(this.req, value);
      // Anything else (no request, a non-string) stays an ordinary property of this context.
      else Object.defineProperty(this, ROUTE, { value, writable: true, enumerable: true, configurable: true });
    },
  });
  Object.defineProperty(proto, PATCHED, { value: true, configurable: true });
  return proto;
}

function unpatch(proto: Record<string | symbol, unknown>): void {
  if (!proto || !proto[PATCHED]) return;
  delete proto[ROUTE];
  delete proto[PATCHED];
}

export function koaDefinitions(): InstrumentationNodeModuleDefinition[] {
  return [
    new InstrumentationNodeModuleDefinition('koa', ['>=2 <4'], undefined, undefined, [
      new InstrumentationNodeModuleFile('koa/lib/context.js', ['>=2 <4'], patch, unpatch),
    ]),
  ];
}
