import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import { requestBytesSeen } from './capture';

/** The status of a request whose response was never completed ("client closed request", as nginx logs it). */
export const CLIENT_CLOSED_REQUEST = 499;

const STATUS_ATTRS = ['http.response.status_code', 'http.status_code'] as const;

/** Why the response was never completed, in words for the row's error field. */
function abortMessage(req: IncomingMessage, res: ServerResponse): string {
  if (res.headersSent) {
    return `client closed the connection before the response was complete (the app answered ${res.statusCode}; not every byte was delivered)`;
  }
  if (!req.complete) {
    const declared = req.headers['content-length'];
    const of = declared === undefined ? '' : ` of ${declared} declared`;
    return `client closed the connection while sending the request body (${requestBytesSeen(req)} bytes read${of}); no response was sent`;
  }
  return 'client closed the connection before the response was sent';
}

/**
 * Files a response that was never completed as 499 with an error saying so. instrumentation-http
 * ends the span on the response's 'close', also when the client dropped the connection; the
 * status it records is then whatever the app had set (often the default 200), though the client
 * never got that answer. A completed response has handed every byte to the socket
 * (`writableFinished`) and has been detached from it before its 'close' (Node's `resOnFinish`);
 * a connection that closed first leaves the socket attached — also when the app calls
 * `res.end()` after the client left (hapi does), which makes `writableFinished` true though the
 * bytes went nowhere. So that pair tells an aborted upload or an abandoned download from a
 * complete answer. Runs when the span ends (applyCustomAttributesOnSpan); two property reads otherwise.
 */
export function markIfAborted(span: Span, attributes: Readonly<Record<string, unknown>>, req: IncomingMessage, res: ServerResponse): void {
  if (res.writableFinished && res.socket === null) return;
  let set = false;
  for (const key of STATUS_ATTRS) {
    if (key in attributes) {
      span.setAttribute(key, CLIENT_CLOSED_REQUEST);
      set = true;
    }
  }
  if (!set) span.setAttribute(STATUS_ATTRS[0], CLIENT_CLOSED_REQUEST);
  span.setAttribute('auditspan.error.message', abortMessage(req, res));
  // The part of the body that arrived is kept, marked as cut.
  if (!req.complete && 'auditspan.request.body' in attributes) span.setAttribute('auditspan.request.body.truncated', true);
}
