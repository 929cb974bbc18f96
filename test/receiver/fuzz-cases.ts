/**
 * Hostile OTLP payloads for the receiver's fuzz test (test/receiver/fuzz.test.ts) and its longer
 * run (scripts/fuzz-receiver.ts): random bytes, and mutations of valid payloads — types swapped,
 * fields dropped, numbers out of range, deep nesting — all from one seed.
 */
import { prng } from '../helpers/fixtures';
import { request, span, toProtobuf } from './otlp-payloads';

export interface FuzzCase {
  name: string;
  contentType: 'application/json' | 'application/x-protobuf';
  body: Buffer;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const WEIRD: Json[] = [
  null, true, false, 0, -1, 5, 1.5, 2 ** 31, 2 ** 53 + 1, 1e308, -1e308, '', 'str', '18446744073709551616', '-9223372036854775809',
  'NaN', 'Infinity', '\u0000', '\ud800', 'x'.repeat(70_000), [], [null], [5], ['str'], {}, { stringValue: 5 }, { arrayValue: { values: 5 } },
  { arrayValue: { values: 'str' } }, { kvlistValue: { values: [null] } }, { intValue: {} }, { doubleValue: 'abc' }, { boolValue: 'yes' },
  { bytesValue: 7 }, { key: 5 }, { __proto__: 1 } as Json,
];

/** A valid request with every kind of value in it, for the mutations to work on. */
function baseRequest(rand: () => number): Json {
  const n = 1 + Math.floor(rand() * 4);
  const spans = Array.from({ length: n }, (_, i) => {
    const s = span(Math.floor(rand() * 1e6) + i, [
      { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '2' }, { doubleValue: 1.5 }, { boolValue: true }] } } },
      { key: 'kv', value: { kvlistValue: { values: [{ key: 'k', value: { bytesValue: 'AAEC' } }] } } },
      { key: 'auditspan.request.body', value: { stringValue: '{"password":"hunter2","n":1}' } },
    ], [200, 404, 500][i % 3]);
    s.events = [{ name: 'exception', timeUnixNano: '1700000000001000000', attributes: [{ key: 'exception.message', value: { stringValue: 'boom' } }] }];
    s.status = { code: 2, message: 'failed' };
    return s;
  });
  return request(spans) as Json;
}

/** Every container in `tree` with the key or index that reaches each of its children. */
function slots(tree: Json, out: Array<{ parent: Json[] | { [k: string]: Json }; key: string | number }> = []) {
  if (Array.isArray(tree)) tree.forEach((v, i) => { out.push({ parent: tree, key: i }); slots(v, out); });
  else if (tree && typeof tree === 'object') for (const k of Object.keys(tree)) { out.push({ parent: tree, key: k }); slots(tree[k], out); }
  return out;
}

function deep(depth: number, leaf: Json, rand: () => number): Json {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = rand() < 0.5 ? { arrayValue: { values: [v] } } : { kvlistValue: { values: [{ key: 'k', value: v }] } };
  return v;
}

/** One mutation of a valid tree: a value replaced by one of another type, a field dropped, a deep nest. */
function mutate(tree: Json, rand: () => number): string {
  const all = slots(tree);
  const count = 1 + Math.floor(rand() * 3);
  const what: string[] = [];
  for (let m = 0; m < count && all.length > 0; m++) {
    const { parent, key } = all[Math.floor(rand() * all.length)];
    const r = rand();
    const set = (v: Json) => ((parent as Record<string | number, Json>)[key] = v);
    if (r < 0.55) {
      set(WEIRD[Math.floor(rand() * WEIRD.length)]);
      what.push(`swap ${String(key)}`);
    } else if (r < 0.8) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      what.push(`drop ${String(key)}`);
    } else {
      set(deep(20 + Math.floor(rand() * 300), WEIRD[Math.floor(rand() * WEIRD.length)], rand));
      what.push(`nest ${String(key)}`);
    }
  }
  return what.join(', ');
}

function randomBytes(rand: () => number, max: number): Buffer {
  const b = Buffer.alloc(Math.floor(rand() * max));
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** Flips, inserts, deletes bytes or truncates: a damaged but nearly valid protobuf. */
function damage(bytes: Buffer, rand: () => number): Buffer {
  const b = Buffer.from(bytes);
  const r = rand();
  if (r < 0.3) return b.subarray(0, Math.floor(rand() * b.length));
  if (r < 0.7) {
    for (let i = 0; i < 1 + rand() * 8; i++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    return b;
  }
  const at = Math.floor(rand() * b.length);
  return Buffer.concat([b.subarray(0, at), randomBytes(rand, 16), b.subarray(at)]);
}

/** Protobuf of a mutated tree when protobufjs accepts it, else damaged bytes of a valid one. */
function protobufOf(tree: Json, rand: () => number, valid: Buffer): Buffer {
  try {
    return toProtobuf(tree as Record<string, unknown>);
  } catch {
    return damage(valid, rand);
  }
}

/** `count` hostile payloads from `seed`: the same seed gives the same cases. */
export function* fuzzCases(seed: number, count: number): Generator<FuzzCase> {
  const rand = prng(seed);
  for (let i = 0; i < count; i++) {
    const kind = Math.floor(rand() * 6);
    const base = baseRequest(rand);
    const valid = toProtobuf(base as Record<string, unknown>);
    switch (kind) {
      case 0:
        yield { name: `#${i} random bytes as protobuf`, contentType: 'application/x-protobuf', body: randomBytes(rand, 512) };
        break;
      case 1:
        yield { name: `#${i} random bytes as JSON`, contentType: 'application/json', body: randomBytes(rand, 512) };
        break;
      case 2:
        yield { name: `#${i} damaged protobuf`, contentType: 'application/x-protobuf', body: damage(valid, rand) };
        break;
      case 3: {
        const text = JSON.stringify(base);
        yield { name: `#${i} truncated JSON`, contentType: 'application/json', body: Buffer.from(text.slice(0, Math.floor(rand() * text.length))) };
        break;
      }
      default: {
        const what = mutate(base, rand);
        if (kind === 4) yield { name: `#${i} JSON: ${what}`, contentType: 'application/json', body: Buffer.from(JSON.stringify(base)) };
        else yield { name: `#${i} protobuf: ${what}`, contentType: 'application/x-protobuf', body: protobufOf(base, rand, valid) };
      }
    }
  }
}
