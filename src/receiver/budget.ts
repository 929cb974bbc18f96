/** The default of AUDITSPAN_OTLP_MAX_INFLIGHT_BYTES: four uploads of the largest size at once. */
export const DEFAULT_MAX_INFLIGHT_BYTES = 64 * 1024 * 1024;

/** One request's share of the budget; released once its answer is sent. */
export interface Reservation {
  readonly bytes: number;
  /** Grows the share to `bytes`; false (and unchanged) when the budget has no room for it. */
  grow(bytes: number): boolean;
  release(): void;
}

/**
 * A global budget of request bytes in flight, shared by the OTLP/HTTP and OTLP/gRPC receivers.
 * An upload reserves its declared Content-Length before a byte of it is read (so a crowd of
 * uploads that declare 16 MiB and then stall holds at most the budget), and grows its share as
 * decompressed bytes arrive; beyond the budget new uploads get 429 + Retry-After (gRPC
 * UNAVAILABLE), which OTLP senders retry. Decoded spans take a few times their body's size on
 * top (docs/receiver.md, "Limits").
 */
export class RequestBudget {
  private used = 0;

  constructor(readonly maxBytes: number = DEFAULT_MAX_INFLIGHT_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new TypeError('auditspan: maxInFlightBytes must be a positive whole number of bytes');
  }

  get bytesInFlight(): number {
    return this.used;
  }

  /** A share of `bytes` (at least 1), or null when the budget cannot hold it now. */
  reserve(bytes: number): Reservation | null {
    const want = Math.max(1, bytes);
    if (this.used + want > this.maxBytes) return null;
    this.used += want;
    let held = want;
    let released = false;
    return {
      get bytes() {
        return held;
      },
      grow: (to: number): boolean => {
        if (released || to <= held) return true;
        if (this.used + (to - held) > this.maxBytes) return false;
        this.used += to - held;
        held = to;
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.used -= held;
      },
    };
  }
}
