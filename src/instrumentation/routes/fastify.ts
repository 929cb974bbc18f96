import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { setRouteTemplate } from './template';

/** What the route template is read from on a fastify request (4.x and 5.x). */
interface FastifyRequestLike {
  raw: unknown;
  routeOptions?: { url?: unknown };
  [key: symbol]: { config?: { url?: unknown } } | undefined;
}
interface FastifyLike {
  addHook(name: 'onRequest', hook: (request: FastifyRequestLike, reply: unknown, done: () => void) => void): unknown;
}

/** fastify publishes every new instance here (fastify ≥ 4.? and 5.x), before any plugin or route is added. */
const CHANNEL = 'fastify.initialization';

/**
 * The symbol under which a fastify request holds its route's context (`Symbol('fastify.context')`,
 * the same in fastify 4 and 5), found on the first request. Read because the public
 * `request.routeOptions` builds a new object with a dozen fields on every access; when the symbol
 * is not there (a future fastify), `routeOptions.url` is read instead.
 */
let contextKey: symbol | null | undefined;

function templateOf(request: FastifyRequestLike): unknown {
  if (contextKey === undefined) contextKey = Object.getOwnPropertySymbols(request).find((s) => s.description === 'fastify.context') ?? null;
  if (contextKey !== null) return request[contextKey]?.config?.url;
  return request.routeOptions?.url;
}

/**
 * Added to every fastify instance as its first `onRequest` hook, so it runs before any hook of
 * the app (an auth hook that answers 401 included). fastify has matched the route by then:
 * its context's `config.url` is the template with the prefixes of the plugins it was registered
 * in (`/v1/users/:id`); the 404 handler's context has none, so an unrouted request keeps the path.
 * One call per request, no allocation.
 */
function onRequest(request: FastifyRequestLike, _reply: unknown, done: () => void): void {
  try {
    setRouteTemplate(request.raw, templateOf(request));
  } catch {
    // Telemetry never breaks the app.
  }
  done();
}

function onInstance(message: unknown): void {
  try {
    const fastify = (message as { fastify?: FastifyLike } | null)?.fastify;
    if (fastify && typeof fastify.addHook === 'function') fastify.addHook('onRequest', onRequest);
  } catch {
    // Telemetry never breaks the app.
  }
}

/**
 * fastify announces each instance on a diagnostics channel, so its routes are learnt without
 * patching its module: the same for CommonJS and ESM apps, whatever loads fastify (NestJS's
 * FastifyAdapter included).
 */
export function watchFastify(on: boolean): void {
  if (on) subscribe(CHANNEL, onInstance);
  else unsubscribe(CHANNEL, onInstance);
}
