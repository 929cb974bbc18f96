/**
 * The one module that talks to the query API. It adds the key kept in
 * sessionStorage (never localStorage: the key must not outlive the browser
 * session), types the responses, and turns a 401 into a key prompt followed by
 * a retry, shared between requests that fail at the same time.
 */
import type { ApiErrorBody, EndpointList, Facets, LogDetail, LogList, Stats, UiConfig, ViewPage, WhoAmI } from './types';

/** What a person reads when the server cannot be reached at all (fetch's "Failed to fetch"). */
export const UNREACHABLE_MESSAGE = 'The auditspan server did not answer. It may be stopped or restarting, or your network is down. Retry in a moment.';

export const KEY_STORAGE = 'auditspan.key';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Why the key dialog opens: no key yet, or the one sent was refused. */
export type KeyPromptReason = 'missing' | 'rejected';
/** Shows the key dialog; resolves with the key entered, or null when the user cancels. */
export type KeyPrompt = (reason: KeyPromptReason) => Promise<string | null>;

export interface ApiClientOptions {
  promptForKey: KeyPrompt;
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  fetch?: typeof fetch;
  baseUrl?: string;
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

export class ApiClient {
  private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  private readonly fetchImpl: typeof fetch;
  private readonly baseUrl: string;
  private pendingPrompt: Promise<string | null> | null = null;

  constructor(private readonly options: ApiClientOptions) {
    this.storage = options.storage ?? sessionStorage;
    this.fetchImpl = options.fetch ?? fetch.bind(globalThis);
    this.baseUrl = options.baseUrl ?? '';
  }

  key(): string | null {
    return this.storage.getItem(KEY_STORAGE);
  }

  setKey(key: string): void {
    this.storage.setItem(KEY_STORAGE, key);
  }

  signOut(): void {
    this.storage.removeItem(KEY_STORAGE);
  }

  logs(params: URLSearchParams, opts: { cursor?: string | null; limit?: number; signal?: AbortSignal } = {}): Promise<LogList> {
    const p = new URLSearchParams(params);
    if (opts.cursor) p.set('cursor', opts.cursor);
    if (opts.limit) p.set('limit', String(opts.limit));
    return this.get<LogList>(`/api/logs?${p}`, opts.signal);
  }

  log(id: string, signal?: AbortSignal): Promise<LogDetail> {
    return this.get<LogDetail>(`/api/logs/${encodeURIComponent(id)}`, signal);
  }

  stats(params: URLSearchParams, signal?: AbortSignal): Promise<Stats> {
    return this.get<Stats>(`/api/stats?${params}`, signal);
  }

  facets(params: URLSearchParams, signal?: AbortSignal): Promise<Facets> {
    return this.get<Facets>(`/api/facets?${params}`, signal);
  }

  endpoints(params: URLSearchParams, signal?: AbortSignal): Promise<EndpointList> {
    return this.get<EndpointList>(`/api/endpoints?${params}`, signal);
  }

  views(params: URLSearchParams, opts: { cursor?: string | null; limit?: number; signal?: AbortSignal } = {}): Promise<ViewPage> {
    const p = new URLSearchParams(params);
    if (opts.cursor) p.set('cursor', opts.cursor);
    if (opts.limit) p.set('limit', String(opts.limit));
    return this.get<ViewPage>(`/api/views?${p}`, opts.signal);
  }

  /**
   * Starts the download of an export (`/api/export?…` or `/api/views/export?…`). A plain link
   * cannot carry the key, so the key buys a one-time link first (`POST /api/downloads`, valid
   * 60 s), and the browser follows it: the file streams to disk as it arrives, under the name
   * the server gives it, however many rows it holds. A bad filter is an ApiError here.
   */
  async download(path: string, signal?: AbortSignal): Promise<void> {
    const res = await this.request('/api/downloads', signal, 'application/json', { method: 'POST', body: JSON.stringify({ path }) });
    const { url } = (await res.json()) as { url: string };
    const a = document.createElement('a');
    a.href = `${this.baseUrl}${url}`;
    a.download = '';
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  whoami(signal?: AbortSignal): Promise<WhoAmI> {
    return this.get<WhoAmI>('/api/whoami', signal);
  }

  config(signal?: AbortSignal): Promise<UiConfig> {
    return this.get<UiConfig>('/api/config', signal);
  }

  private async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    const res = await this.request(path, signal, 'application/json');
    return (await res.json()) as T;
  }

  /** A successful response for `path`, after asking for a key on 401; throws ApiError otherwise. */
  private async request(path: string, signal: AbortSignal | undefined, accept: string, post?: { method: 'POST'; body: string }): Promise<Response> {
    for (;;) {
      const key = this.key();
      const headers: Record<string, string> = { accept };
      if (key) headers.authorization = `Bearer ${key}`;
      if (post) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await this.fetchImpl(`${this.baseUrl}${path}`, { ...post, headers, signal, credentials: 'omit' });
      } catch (err) {
        if (isAbort(err)) throw err;
        throw new ApiError(0, 'unreachable', UNREACHABLE_MESSAGE);
      }
      if (res.status === 401) {
        await res.body?.cancel().catch(() => undefined);
        // Another request may already have obtained a new key: retry with it first.
        if (this.key() !== key && this.key()) continue;
        const entered = await this.askForKey(key ? 'rejected' : 'missing');
        if (!entered) throw new ApiError(401, 'unauthorized', 'An API key is required to view these logs.');
        continue;
      }
      if (!res.ok) throw await toApiError(res);
      return res;
    }
  }

  private askForKey(reason: KeyPromptReason): Promise<string | null> {
    this.pendingPrompt ??= this.options.promptForKey(reason).then((key) => {
      this.pendingPrompt = null;
      const trimmed = key?.trim();
      if (trimmed) this.setKey(trimmed);
      return trimmed || null;
    });
    return this.pendingPrompt;
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as Partial<ApiErrorBody>;
    if (body.error && typeof body.error.message === 'string') {
      return new ApiError(res.status, body.error.code ?? 'error', body.error.message, body.error.param ?? null);
    }
  } catch {
    // Not JSON (a proxy's error page, say): fall through to the status line.
  }
  return new ApiError(res.status, 'http_error', `The server answered ${res.status} ${res.statusText}`.trim());
}
