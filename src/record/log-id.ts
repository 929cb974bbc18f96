/**
 * Public log ids: `<start µs since 1970>-<span id>`, e.g. `1796184367697000-c4fab98d35c80a11`.
 * Both parts are the leading columns of the store's unique key, so a lookup by id reads one
 * index entry, and ids sort like the log. Known before the row exists (the instrumented app
 * sends it in X-Request-Log-Url). Ids of the first format, `<trace id>-<span id>`, still
 * resolve for rows stored before it changed (docs/storage.md).
 */
export type LogIdParts =
  | { kind: 'time'; timestampUs: number; spanId: string }
  | { kind: 'legacy'; traceId: string; spanId: string };

export function formatLogId(timestampUs: number | string, spanId: string): string {
  return `${timestampUs}-${spanId}`;
}

/** The id of a span that started at `[seconds, nanoseconds]` (OpenTelemetry's HrTime). */
export function logIdAt(start: readonly [number, number], spanId: string): string {
  return formatLogId(start[0] * 1_000_000 + Math.floor(start[1] / 1000), spanId);
}

const TIME_ID = /^(\d{1,16})-([0-9a-f]{16})$/;
const LEGACY_ID = /^([0-9a-f]{32})-([0-9a-f]{16})$/;

/** The parts of a public id, or null when it is not one. */
export function parseLogId(id: string): LogIdParts | null {
  const time = TIME_ID.exec(id);
  if (time) {
    const timestampUs = Number(time[1]);
    return Number.isSafeInteger(timestampUs) ? { kind: 'time', timestampUs, spanId: time[2] } : null;
  }
  const legacy = LEGACY_ID.exec(id);
  return legacy ? { kind: 'legacy', traceId: legacy[1], spanId: legacy[2] } : null;
}
