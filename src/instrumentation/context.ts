import { context, SpanKind, trace, type Span } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';

export interface AuditContext {
  /** The API token's name (never its secret). */
  tokenName?: string;
  clientId?: string;
  companyId?: string;
}

export const ATTR = {
  tokenName: 'auditspan.token.name',
  clientId: 'auditspan.client.id',
  companyId: 'auditspan.company.id',
} as const;

/** The SERVER span of the current request (express makes the active span an INTERNAL one). */
export function currentServerSpan(): Span | undefined {
  const active = context.active();
  const fromRpc = getRPCMetadata(active)?.span;
  if (fromRpc) return fromRpc;
  const span = trace.getSpan(active);
  return span && (span as unknown as { kind?: SpanKind }).kind === SpanKind.SERVER ? span : undefined;
}

/**
 * Names the API token, client and company of the current request, from any
 * middleware or route handler. Does nothing outside a request; never throws.
 */
export function setAuditContext(values: AuditContext): void {
  try {
    const span = currentServerSpan();
    if (!span) return;
    // Spelled out rather than looped: this runs on every request of the app.
    const { tokenName, clientId, companyId } = values;
    if (typeof tokenName === 'string' && tokenName !== '') span.setAttribute(ATTR.tokenName, tokenName);
    if (typeof clientId === 'string' && clientId !== '') span.setAttribute(ATTR.clientId, clientId);
    if (typeof companyId === 'string' && companyId !== '') span.setAttribute(ATTR.companyId, companyId);
  } catch {
    // Telemetry never breaks the app.
  }
}
