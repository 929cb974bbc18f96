import { InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile, isWrapped } from '@opentelemetry/instrumentation';
import { setRouteTemplate, type Wrapping } from './template';

interface HapiRequest {
  raw?: { req?: unknown };
  route?: { path?: unknown };
  _route?: { _special?: unknown };
}
type Lookup = (this: HapiRequest, ...args: unknown[]) => unknown;
interface RequestModule {
  prototype?: { _lookup?: Lookup };
}

/**
 * hapi routes a request in `Request#_lookup()` (after the `onRequest` extensions, which may still
 * rewrite the URL, and before authentication), which leaves the matched route on
 * `request.route`; its `path` is the template as written in hapi (`/v1/users/{id}`, a plugin's
 * prefix included). An unrouted request gets hapi's special 404 route, which is skipped.
 * `lib/request.js` is required by hapi's own code, so CommonJS and ESM apps are both covered.
 */
export function hapiDefinitions(w: Wrapping): InstrumentationNodeModuleDefinition[] {
  const patch = (exports: RequestModule): RequestModule => {
    const proto = exports?.prototype;
    if (proto && typeof proto._lookup === 'function' && !isWrapped(proto._lookup)) w.wrap(proto as { _lookup: Lookup }, '_lookup', wrapLookup);
    return exports;
  };
  const unpatch = (exports: RequestModule): void => {
    const proto = exports?.prototype;
    if (proto && isWrapped(proto._lookup)) w.unwrap(proto as { _lookup: Lookup }, '_lookup');
  };
  return [
    new InstrumentationNodeModuleDefinition('@hapi/hapi', ['>=21 <22'], undefined, undefined, [
      new InstrumentationNodeModuleFile('@hapi/hapi/lib/request.js', ['>=21 <22'], patch, unpatch),
    ]),
  ];
}

function wrapLookup(original: Lookup): Lookup {
  return function _lookup(this: HapiRequest): unknown {
    const result = original.apply(this, arguments as unknown as unknown[]);
    try {
      if (this._route && !this._route._special) setRouteTemplate(this.raw?.req, this.route?.path);
    } catch {
      // Telemetry never breaks the app.
    }
    return result;
  };
}
