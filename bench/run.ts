/**
 * Runs the benchmarks and prints one markdown section per benchmark.
 *
 *   npm run bench                 # all of them
 *   npm run bench -- overhead     # only the named ones
 *
 * Each bench module exports `run(): Promise<string>` and measures against a
 * baseline in the same run (the machines are shared and noisy: ratios, medians).
 */
import { cpus } from 'node:os';

type Bench = { run: () => Promise<string> };
const BENCHES: Record<string, () => Bench> = {
  redaction: () => require('./redaction') as Bench,
  'store-insert': () => require('./store-insert') as Bench,
  'write-indexes': () => require('./write-indexes') as Bench,
  overhead: () => require('./overhead') as Bench,
  ingest: () => require('./ingest') as Bench,
  query: () => require('./query') as Bench,
  search: () => require('./search') as Bench,
  rollups: () => require('./rollups') as Bench,
  memory: () => require('./memory') as Bench,
  'sqlite-durability': () => require('./sqlite-durability') as Bench,
  'receiver-memory': () => require('./receiver-memory') as Bench,
  'event-loop': () => require('./event-loop') as Bench,
  partitions: () => require('./partitions') as Bench,
  drivers: () => require('./drivers') as Bench,
  'fts-merge': () => require('./fts-merge') as Bench,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !(w in BENCHES));
  if (unknown.length > 0) {
    console.error(`bench: unknown benchmark ${unknown.join(', ')} (known: ${Object.keys(BENCHES).join(', ')})`);
    process.exitCode = 2;
    return;
  }
  const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
  console.log(`# auditspan benchmarks — ${new Date().toISOString()}`);
  console.log(`Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})\n`);
  for (const name of names) {
    const started = Date.now();
    const mod = BENCHES[name]();
    const section = await mod.run();
    console.log(section.trim());
    console.log(`\n_${name}: ${((Date.now() - started) / 1000).toFixed(0)} s_\n`);
  }
}

main().catch((err: unknown) => {
  // One line, e.g. for a bad knob; BENCH_DEBUG=1 shows where it came from.
  console.error(process.env.BENCH_DEBUG ? err : `bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
