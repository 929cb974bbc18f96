import { InvalidCursorError } from './errors';

/** Keyset position: the (ts_us, id) of the last row of a page. */
export interface Cursor {
  ts: number;
  id: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`v1:${c.ts}:${c.id}`).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  const m = /^v1:(\d{1,17}):(\d{1,17})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!m || text.length > 64) throw new InvalidCursorError('cursor is not one this server issued');
  const c = { ts: Number(m[1]), id: Number(m[2]) };
  if (!Number.isSafeInteger(c.ts) || !Number.isSafeInteger(c.id)) throw new InvalidCursorError('cursor is not one this server issued');
  return c;
}
