import { isIPv4, isIPv6 } from 'node:net';

/**
 * Failed key attempts, counted per client address, per IPv6 /64 (one host usually owns a
 * whole /64, so rotating inside it gains nothing), per /48 and overall. Only failures count:
 * a valid key is never throttled, so a guesser behind the same NAT or proxy cannot lock
 * anyone out; and nothing resets a count but time.
 */
export interface FailureThrottleOptions {
  /** Failures per address (IPv4) or IPv6 /64 within the window. Default 10. */
  limit?: number;
  windowMs?: number;
}

interface Bucket {
  count: number;
  first: number;
}

const MAX_BUCKETS = 100_000;

/** `::ffff:1.2.3.4` → `1.2.3.4`; IPv6 → its 8 groups, zero-padded. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.toLowerCase().split('%')[0].split('::');
  const parts = (s: string): string[] => (s === '' ? [] : s.split(':'));
  let h = parts(head);
  let t = address.includes('::') ? parts(tail) : [];
  // An embedded IPv4 tail (`::1.2.3.4`) is two groups.
  const v4 = (groups: string[]): string[] =>
    groups.flatMap((g) => (isIPv4(g) ? (([a, b, c, d]) => [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)])(g.split('.').map(Number)) : [g]));
  h = v4(h);
  t = v4(t);
  const zeros = Array(Math.max(0, 8 - h.length - t.length)).fill('0');
  return [...h, ...zeros, ...t].map((g) => g.padStart(4, '0')).join(':');
}

/** The buckets an address counts against, narrowest first, with each one's share of the limit. */
export function addressBuckets(address: string): Array<{ key: string; factor: number }> {
  const a = normalizeAddress(address);
  if (!a.includes(':')) return [{ key: a, factor: 1 }];
  const groups = a.split(':');
  return [
    { key: `${groups.slice(0, 4).join(':')}::/64`, factor: 1 },
    { key: `${groups.slice(0, 3).join(':')}::/48`, factor: 10 },
  ];
}

export class FailureThrottle {
  readonly limit: number;
  readonly windowMs: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: FailureThrottleOptions = {}) {
    this.limit = options.limit ?? 10;
    this.windowMs = options.windowMs ?? 10 * 60_000;
  }

  private live(key: string, now: number): Bucket | undefined {
    const b = this.buckets.get(key);
    if (b && now - b.first > this.windowMs) {
      this.buckets.delete(key);
      return undefined;
    }
    return b;
  }

  /** Seconds until this address may fail again, or 0 when it still may. */
  blockedFor(address: string, now = Date.now()): number {
    let wait = 0;
    for (const { key, factor } of [...addressBuckets(address), { key: '*', factor: 100 }]) {
      const b = this.live(key, now);
      if (b && b.count >= this.limit * factor) wait = Math.max(wait, Math.ceil((b.first + this.windowMs - now) / 1000));
    }
    return wait;
  }

  /** Counts one failure (synchronously: parallel attempts cannot slip past) and returns this address's count. */
  fail(address: string, now = Date.now()): number {
    let narrowest = 0;
    for (const { key } of [...addressBuckets(address), { key: '*', factor: 100 }]) {
      let b = this.live(key, now);
      if (!b) {
        if (this.buckets.size >= MAX_BUCKETS) this.evictOldest();
        b = { count: 0, first: now };
        this.buckets.set(key, b);
      }
      b.count += 1;
      if (narrowest === 0) narrowest = b.count;
    }
    return narrowest;
  }

  /** Takes back a failure counted for an attempt that turned out valid (a key newer than the cache). */
  refund(address: string, now = Date.now()): void {
    for (const { key } of [...addressBuckets(address), { key: '*', factor: 100 }]) {
      const b = this.live(key, now);
      if (b && b.count > 0) b.count -= 1;
    }
  }

  private evictOldest(): void {
    let n = Math.ceil(MAX_BUCKETS / 10);
    for (const key of this.buckets.keys()) {
      if (key === '*') continue;
      this.buckets.delete(key);
      if (--n === 0) break;
    }
  }
}
