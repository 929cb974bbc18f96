/** The detail panel on the right: every field of one log, as text, with copy and trace actions. */
import { ApiError, isAbort, type ApiClient } from './api';
import { copyText, flashButton } from './clipboard';
import { h, replaceChildren, type Child } from './dom';
import { buildCurl, formatLatency, formatTimeFull, prettyPayload, statusTone, traceLink, type TimeZoneMode } from './format';
import type { LogDetail } from './types';

export interface DetailCallbacks {
  onClose(): void;
  /** Absolute URL of this log with the current filters. */
  permalink(id: string): string;
}

export class DetailPanel {
  private controller: AbortController | null = null;
  private currentId: string | null = null;
  private current: LogDetail | null = null;
  private zone: TimeZoneMode = 'utc';
  traceUrlTemplate: string | null = null;

  constructor(
    private readonly panel: HTMLElement,
    private readonly workspace: HTMLElement,
    private readonly api: ApiClient,
    private readonly callbacks: DetailCallbacks,
  ) {}

  get openId(): string | null {
    return this.currentId;
  }

  get isOpen(): boolean {
    return !this.panel.hidden;
  }

  setTimeZone(zone: TimeZoneMode): void {
    this.zone = zone;
    if (this.current) this.render(this.current);
  }

  async open(id: string, options: { focus?: boolean } = {}): Promise<void> {
    if (this.currentId === id && this.isOpen) return;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.currentId = id;
    this.current = null;
    this.show();
    replaceChildren(this.panel, this.header(null, id), h('div', { class: 'detail-body', 'aria-busy': 'true' },
      ...Array.from({ length: 6 }, () => h('span', { class: 'skel w-line' }))));
    if (options.focus) this.panel.focus({ preventScroll: true });
    try {
      const log = await this.api.log(id, controller.signal);
      if (controller.signal.aborted) return;
      this.current = log;
      this.render(log);
    } catch (err) {
      if (isAbort(err) || controller.signal.aborted) return;
      const notFound = err instanceof ApiError && err.status === 404;
      replaceChildren(this.panel, this.header(null, id), h('div', { class: 'detail-state', role: 'alert' },
        h('p', { class: 'state-title' }, notFound ? 'Request not found' : 'Could not load this request'),
        h('p', { class: 'state-text' }, notFound
          ? 'It may have been removed by retention, or it is not visible with this key.'
          : (err as Error).message)));
    }
  }

  close(): void {
    this.controller?.abort();
    this.controller = null;
    this.currentId = null;
    this.current = null;
    this.panel.hidden = true;
    this.workspace.classList.remove('has-detail');
    this.panel.replaceChildren();
  }

  private show(): void {
    this.panel.hidden = false;
    this.workspace.classList.add('has-detail');
  }

  private header(log: LogDetail | null, id: string): HTMLElement {
    const close = h('button', { type: 'button', class: 'btn btn-ghost btn-icon', 'aria-label': 'Close detail (Esc)', title: 'Close (Esc)' }, '×');
    close.addEventListener('click', () => this.callbacks.onClose());
    const title = log
      ? h('h2', { class: 'detail-title', id: 'detail-title' },
        h('span', { class: `badge tone-${statusTone(log.status)}` }, log.status),
        h('span', { class: 'method' }, log.method),
        h('span', { class: 'endpoint' }, log.endpoint))
      : h('h2', { class: 'detail-title', id: 'detail-title' }, h('span', { class: 'skel w-endpoint' }));
    const head = h('div', { class: 'detail-head' }, h('div', { class: 'detail-top' }, title, close));
    if (!log) return head;

    head.appendChild(h('p', { class: 'detail-sub' }, `${formatTimeFull(log.timestamp, this.zone)} · ${formatLatency(log.latencyMs)}`));
    const curl = h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'copy-curl', title: 'Secrets were redacted before storage; the Authorization header is never included' }, 'Copy as cURL');
    curl.addEventListener('click', async () => flashButton(curl, await copyText(buildCurl(log))));
    const link = h('button', { type: 'button', class: 'btn btn-sm', 'data-action': 'copy-link' }, 'Copy link');
    link.addEventListener('click', async () => flashButton(link, await copyText(this.callbacks.permalink(id))));
    const trace = traceLink(this.traceUrlTemplate, log.traceId, log.spanId);
    head.appendChild(h('div', { class: 'detail-actions' }, curl, link,
      trace ? h('a', { class: 'btn btn-sm', href: trace, target: '_blank', rel: 'noopener noreferrer', 'data-action': 'open-trace' }, `Open in ${traceTool(this.traceUrlTemplate)} ↗`) : null));
    return head;
  }

  private render(log: LogDetail): void {
    this.show();
    const other: TimeZoneMode = this.zone === 'utc' ? 'local' : 'utc';
    const time = (iso: string): HTMLElement => h('time', { datetime: iso, title: formatTimeFull(iso, other) }, formatTimeFull(iso, this.zone));
    const trace = traceLink(this.traceUrlTemplate, log.traceId, log.spanId);
    // Response payloads are kept for failures only (status >= 400), in both entry points (src/record).
    const bodyKept = log.status >= 400;

    const sections: Child[] = [
      section('Request', kv([
        ['URL', 'url', log.url, 'mono'],
        ['Method', 'method', log.method, 'mono'],
        ['Endpoint', 'endpoint', log.endpoint, 'mono'],
        ['Status', 'status', h('span', { class: `badge tone-${statusTone(log.status)}` }, log.status)],
        ['Latency', 'latencyMs', `${formatLatency(log.latencyMs)} (${log.latencyMs} ms)`],
        ['Time', 'timestamp', time(log.timestamp)],
        ['Token', 'tokenName', log.tokenName],
        ['Service', 'service', log.service],
      ])),
      log.error ? section('Error', h('p', { class: 'error-box', 'data-field': 'error' }, log.error)) : null,
      section('Client', kv([
        ['Client IP', 'clientIp', log.clientIp, 'mono'],
        ['User agent', 'userAgent', log.userAgent, 'mono'],
        ['Client id', 'clientId', log.clientId, 'mono'],
        ['Company id', 'companyId', log.companyId, 'mono'],
      ])),
      section('Request headers', log.requestHeaders && Object.keys(log.requestHeaders).length
        ? kv(Object.entries(log.requestHeaders).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, `header:${k}`, v, 'mono'] as Row), 'requestHeaders')
        : h('p', { class: 'note', 'data-field': 'requestHeaders' }, 'No headers recorded.')),
      payloadSection('Request payload', 'requestPayload', log.requestPayload, log.truncated, 'No request body.'),
      !bodyKept
        ? section('Response payload', h('p', { class: 'note', 'data-field': 'responsePayload' }, 'Not stored: response payloads are kept for failures only (status 400 and above).'))
        : payloadSection('Response payload', 'responsePayload', log.responsePayload, log.truncated, 'No response body recorded.'),
      section('Trace', kv([
        ['Trace id', 'traceId', trace ? h('a', { href: trace, target: '_blank', rel: 'noopener noreferrer' }, log.traceId) : log.traceId, 'mono'],
        ['Span id', 'spanId', log.spanId, 'mono'],
      ])),
      section('Record', kv([
        ['Id', 'id', log.id, 'mono'],
        ['Created', 'createdAt', time(log.createdAt)],
        ['Updated', 'updatedAt', time(log.updatedAt)],
        ['Truncated', 'truncated', log.truncated ? 'Yes — a payload was cut at the size cap' : 'No'],
      ])),
    ];
    const hadFocus = this.panel.contains(document.activeElement);
    replaceChildren(this.panel, this.header(log, log.id), h('div', { class: 'detail-body' }, ...sections));
    this.panel.setAttribute('aria-labelledby', 'detail-title');
    if (hadFocus) this.panel.focus({ preventScroll: true });
  }
}

type Row = [label: string, field: string, value: Child | string | null, cls?: string];

function kv(rows: Row[], field?: string): HTMLDListElement {
  const dl = h('dl', { class: 'kv', 'data-field': field ?? null });
  for (const [label, name, value, cls] of rows) {
    const empty = value === null || value === undefined || value === '';
    dl.append(
      h('dt', null, label),
      h('dd', { 'data-field': name, class: empty ? 'none' : (cls ?? null) }, empty ? '—' : value));
  }
  return dl;
}

function section(title: string, ...body: Child[]): HTMLElement {
  return h('section', { class: 'detail-section' }, h('h3', null, title), ...body);
}

function payloadSection(title: string, field: string, payload: string | null, truncated: boolean, emptyText: string): HTMLElement {
  if (!payload) return section(title, h('p', { class: 'note', 'data-field': field }, emptyText));
  const { text, json } = prettyPayload(payload);
  const details = h('details', { open: true },
    h('summary', null, title,
      json ? h('span', { class: 'badge badge-plain' }, 'JSON') : null,
      truncated ? h('span', { class: 'badge badge-truncated', title: 'The payload was cut at the size cap before storage' }, 'truncated') : null),
    h('pre', { class: 'code', 'data-field': field, tabindex: '0' }, h('code', null, text)));
  return h('section', { class: 'detail-section' }, details);
}

/** Names the trace UI the link template points at, for the button label. */
function traceTool(template: string | null): string {
  return template && /grafana|tempo/i.test(template) ? 'Grafana' : 'Jaeger';
}
