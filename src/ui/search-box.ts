/**
 * The search box's jumps: pasting (or entering) a log id, a link to a log (`X-Request-Log-Url`,
 * a copied permalink) or a trace id goes straight to that request. Everything else is an
 * ordinary search (`q`, handled by the filter bar; the language is in docs/query-api.md).
 */
import type { ApiClient } from './api';

const LOG_ID = /^(\d{1,16}-[0-9a-f]{16}|[0-9a-f]{32}-[0-9a-f]{16})$/;
const TRACE_ID = /^[0-9a-f]{32}$/i;

export type Jump = { kind: 'log'; id: string } | { kind: 'trace'; q: string };

/** What a pasted text jumps to, or null when it is a plain search. Pure. */
export function searchJump(text: string): Jump | null {
  const value = text.trim();
  const bare = value.replace(/^(id|logid):/i, '');
  if (LOG_ID.test(bare)) return { kind: 'log', id: bare };
  const link = /\/logs\/([^/?#\s]+)/.exec(value);
  if (link && /^https?:\/\/|^\//i.test(value)) {
    let id = '';
    try {
      id = decodeURIComponent(link[1]);
    } catch {
      return null;
    }
    if (LOG_ID.test(id)) return { kind: 'log', id };
  }
  const trace = value.replace(/^(traceid|trace):/i, '');
  if (TRACE_ID.test(trace)) return { kind: 'trace', q: `traceId:${trace.toLowerCase()}` };
  return null;
}


/** Watches the search input for pastes and Enter; a jump opens the request's detail. */
export class SearchBox {
  constructor(
    private readonly input: HTMLInputElement,
    private readonly api: ApiClient,
    private readonly openLog: (id: string) => void,
  ) {
    // After the paste has landed in the field (the filter bar's input handler sees it too).
    input.addEventListener('paste', () => setTimeout(() => void this.jump(), 0));
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') void this.jump();
    });
  }

  private async jump(): Promise<void> {
    const target = searchJump(this.input.value);
    if (!target) return;
    if (target.kind === 'log') {
      this.openLog(target.id);
      return;
    }
    // A trace id: list its requests (usually one, the server span of that trace) and open it
    // when there is exactly one. Searched over all time: the trace may be outside the range.
    // The filter bar reads the field on 'input': the list searches the trace's requests.
    this.input.value = target.q;
    this.input.dispatchEvent(new Event('input'));
    try {
      const page = await this.api.logs(new URLSearchParams({ q: target.q }), { limit: 2 });
      if (page.data.length === 1) this.openLog(page.data[0].id);
    } catch {
      // The list shows the error of the same search.
    }
  }
}
