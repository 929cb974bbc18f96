import { InstrumentationBase, type InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import { expressDefinitions } from './express';
import { watchFastify } from './fastify';
import { hapiDefinitions } from './hapi';
import { koaDefinitions } from './koa';
import type { Wrapping } from './template';

export { reserveRouteTemplate, routeTemplate } from './template';

/**
 * Learns each request's route template from the router of its framework, without a span per
 * middleware: express 4/5 (and NestJS on express) through `Route#dispatch`, fastify 4/5 (and
 * NestJS on fastify) through a first `onRequest` hook, koa through `ctx._matchedRoute`
 * (`@koa/router`, `koa-router`), hapi through `Request#_lookup`. Each stores the template in the
 * slot the request hook created (`template.ts`); the span gets it as `http.route` when it ends.
 * A request no route matched (a 404) keeps no template: its endpoint is the collapsed path.
 */
export class RouteTemplateInstrumentation extends InstrumentationBase {
  constructor() {
    super('auditspan-route-template', '1.0.0', {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const w: Wrapping = {
      wrap: (target, name, wrapper) => this._wrap(target, name, wrapper as never),
      unwrap: (target, name) => this._unwrap(target, name),
    };
    return [...expressDefinitions(w), ...koaDefinitions(), ...hapiDefinitions(w)];
  }

  override enable(): void {
    super.enable();
    watchFastify(true);
  }

  override disable(): void {
    super.disable();
    watchFastify(false);
  }
}
