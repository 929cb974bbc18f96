import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createHttpApp, generateApiKey } from '../../src/query-api';
import type { AuditRecord } from '../../src/record/types';
import type { Store } from '../../src/store/types';

/** Listens on a free loopback port; returns the base URL and a closer. */
export async function listen(app: Express): Promise<{ base: string; server: Server; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The query API over `records` (stored first), with `adminKey` and a viewer key named
 * `acme-viewer` scoped to company acme.
 */
export async function serveWithAcmeViewer(store: Store, records: readonly AuditRecord[], adminKey: string): Promise<{ base: string; viewer: string; close(): Promise<void> }> {
  await store.insertBatch(records);
  const v = generateApiKey();
  await store.createApiKey({ name: 'acme-viewer', companyId: 'acme', hash: v.hash });
  const { base, close } = await listen(createHttpApp({ store, adminKey, authFailureLimit: 1000 }));
  return { base, viewer: v.key, close };
}

/** A minimal JSON-Schema check (type, required, properties, items, $ref) for the OpenAPI schemas. */
export function conforms(value: unknown, schema: any, components: Record<string, any>, path = '$'): string[] {
  if (schema.$ref) return conforms(value, components[schema.$ref.split('/').pop()], components, path);
  const errors: string[] = [];
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  const ok = types.length === 0 || types.some((t) => t === actual || (t === 'integer' && Number.isInteger(value)) || (t === 'number' && actual === 'number'));
  if (!ok) return [`${path}: expected ${types.join('|')}, got ${actual}`];
  if (actual === 'object' && schema.properties) {
    for (const key of schema.required ?? []) if (!(key in (value as object))) errors.push(`${path}.${key}: missing`);
    for (const [key, sub] of Object.entries(schema.properties)) {
      if (key in (value as object)) errors.push(...conforms((value as any)[key], sub, components, `${path}.${key}`));
    }
  }
  if (actual === 'array' && schema.items) (value as unknown[]).forEach((v, i) => errors.push(...conforms(v, schema.items, components, `${path}[${i}]`)));
  return errors;
}
