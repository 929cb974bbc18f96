/**
 * The receiver's long fuzz run (the test suite runs a short one: test/receiver/fuzz.test.ts).
 *
 *   node --import tsx scripts/fuzz-receiver.ts [--count 20000] [--seed 1] [--db postgres://…]
 *
 * Sends hostile OTLP payloads (random bytes; valid payloads with types swapped, fields dropped,
 * numbers out of range, deep nesting) through the real OTLP/HTTP and OTLP/gRPC receivers, on a
 * fresh SQLite file unless --db is given. Every answer must be 200, 400 or 413 (gRPC OK,
 * INVALID_ARGUMENT, RESOURCE_EXHAUSTED) within 10 s; exits 1 on the first that is not, printing the
 * case's name and seed so that it can be replayed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startOtlpGrpcReceiver, startOtlpHttpReceiver } from '../src/receiver';
import { openStore } from '../src/store';
import { fuzzCases } from '../test/receiver/fuzz-cases';
import { grpcExport } from '../test/receiver/otlp-payloads';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '20000' }, seed: { type: 'string', default: String(Date.now() % 1e9) }, db: { type: 'string' } } });
  const count = Number(values.count);
  const seed = Number(values.seed);
  if (!Number.isInteger(count) || count <= 0 || !Number.isInteger(seed)) throw new Error('--count and --seed must be whole numbers');
  const dir = mkdtempSync(join(tmpdir(), 'auditspan-fuzz-'));
  const store = await openStore({ url: values.db ?? join(dir, 'fuzz.db') });
  const http = await startOtlpHttpReceiver({ store, port: 0, log: () => undefined });
  const grpc = await startOtlpGrpcReceiver({ store, port: 0, log: () => undefined });
  const tally = new Map<string, number>();
  let failed = 0;
  try {
    let n = 0;
    for (const c of fuzzCases(seed, count)) {
      n += 1;
      let status: number;
      try {
        const res = await fetch(`http://127.0.0.1:${http.port}/v1/traces`, { method: 'POST', body: new Uint8Array(c.body), headers: { 'content-type': c.contentType }, signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        status = res.status;
      } catch (err) {
        status = -1;
        console.error(`${c.name}: ${(err as Error).message}`);
      }
      tally.set(`HTTP ${status}`, (tally.get(`HTTP ${status}`) ?? 0) + 1);
      if (![200, 400, 413].includes(status)) failed += 1;
      if (c.contentType === 'application/x-protobuf') {
        const answer = await grpcExport(grpc.port, c.body, 10_000);
        tally.set(`gRPC ${answer.code}`, (tally.get(`gRPC ${answer.code}`) ?? 0) + 1);
        if (![0, 3, 8].includes(answer.code)) {
          failed += 1;
          console.error(`${c.name}: gRPC ${answer.code} ${answer.details}`);
        }
      }
      if (failed > 0) {
        console.error(`FAILED at ${c.name} (seed ${seed}): HTTP ${status}`);
        break;
      }
      if (n % 1000 === 0) console.log(`${n}/${count} cases, ${[...tally].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    }
    console.log(`seed ${seed}, ${n} cases: ${[...tally].map(([k, v]) => `${k}: ${v}`).join(', ')}${failed ? ' — FAILED' : ' — all answers 200/400/413'}`);
  } finally {
    await http.close();
    await grpc.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return failed > 0 ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(`fuzz-receiver: ${(err as Error).message}`);
  process.exitCode = 2;
});
