import type { Store } from '../../src/store';
import type { LogFilter } from '../../src/store/types';

/** Every matching log id, newest first, read page by page through the store's keyset cursor. */
export async function walk(store: Store, filter: LogFilter, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listLogs(filter, { limit, cursor });
    ids.push(...page.data.map((l) => l.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return ids;
}
