import { expect } from 'chai';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store';
import { ROOT, startApp, type AppProcess } from './app-process';

const EXIT_APP = join(ROOT, 'test', 'fixtures', 'apps', 'exit-app.cjs');
/** Enough requests for a backlog at exit on a busy machine (the loss was 1.5–3.5 % of them). */
const LOAD = 1000;
const BODY = JSON.stringify({ note: 'x'.repeat(1000) });

/**
 * Sustained load on 40 connections (GET + 1 KB JSON POST, as in the report that found the loss):
 * resolves with the number of answered requests once all are answered, so that the process
 * exits with the pipeline's backlog still in flight.
 */
async function load(base: string, total: number): Promise<{ answered: number; attempts: number }> {
  let sent = 0;
  let answered = 0;
  let attempts = 0;
  const client = async (): Promise<void> => {
    while (sent < total) {
      const n = (sent += 1);
      for (;;) {
        attempts += 1;
        try {
          const res = n % 2 === 0
            ? await fetch(`${base}/items/${n}`)
            : await fetch(`${base}/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
          await res.arrayBuffer();
          if (res.status < 300) answered += 1;
          break;
        } catch {
          // A keep-alive socket the server closed as it was reused (a busy machine): ask again.
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 40 }, client));
  return { answered, attempts };
}

async function rowsOf(db: string): Promise<number> {
  const store = await openStore({ url: db });
  try {
    return await store.countLogs({ endpoints: ['/items/:id', '/items'] });
  } finally {
    await store.close();
  }
}

function exited(app: AppProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (app.child.exitCode !== null || app.child.signalCode !== null) resolve({ code: app.child.exitCode, signal: app.child.signalCode });
    else app.child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

const EXITS: Array<{ name: string; env?: NodeJS.ProcessEnv; end(app: AppProcess): Promise<unknown> }> = [
  { name: 'its own SIGTERM handler calls process.exit(0) after server.close()', env: { EXIT_MODE: 'handler' }, end: (app) => app.stop('SIGTERM') },
  { name: 'process.exit() from a route', end: (app) => fetch(`${app.base}/exit`).catch(() => undefined) },
  { name: 'an uncaught exception', end: (app) => fetch(`${app.base}/crash`).catch(() => undefined) },
  { name: 'SIGTERM with no handler', end: (app) => app.stop('SIGTERM') },
  { name: 'SIGINT with no handler', end: (app) => app.stop('SIGINT') },
];

describe('rows of answered requests at process exit', function () {
  this.timeout(120_000);
  before(() => {
    expect(existsSync(join(ROOT, 'dist', 'register.mjs')), 'run npm run build first').to.equal(true);
  });

  for (const exit of EXITS) {
    it(`writes every answered request under load when ${exit.name}, and exits as the app would`, async () => {
      // The same ending without auditspan: the exit code, the signal and what the app printed.
      const bare = await startApp({ instrumented: false, script: EXIT_APP, env: exit.env });
      const bareEnd = exited(bare);
      await exit.end(bare);
      const bareExit = await bareEnd;

      const db = join(mkdtempSync(join(tmpdir(), 'auditspan-exit-')), 'x.db');
      const app = await startApp({ instrumented: true, script: EXIT_APP, env: { ...exit.env, AUDITSPAN_DB: db } });
      const { answered, attempts } = await load(app.base, LOAD);
      const end = exited(app);
      await exit.end(app);
      expect(await end).to.deep.equal(bareExit);
      expect(answered).to.equal(LOAD);
      // Every answered request is a row (a retried request the server had seen may add one).
      expect(await rowsOf(db)).to.be.within(answered, attempts);
      expect(app.output()).to.not.contain('auditspan:');
      if (exit.name === 'an uncaught exception') {
        expect(bare.output()).to.contain('Error: planned crash from the app');
        expect(app.output()).to.contain('Error: planned crash from the app');
      }
    });
  }

  it('says on one stderr line how many rows are lost when the database cannot take them in the bound', async () => {
    const app = await startApp({
      instrumented: true,
      script: EXIT_APP,
      env: { AUDITSPAN_DB: 'postgres://postgres@127.0.0.1:1/none', AUDITSPAN_EXIT_TIMEOUT_MS: '300' },
    });
    const { answered } = await load(app.base, 200);
    const end = exited(app);
    await fetch(`${app.base}/exit`).catch(() => undefined);
    expect(await end).to.deep.equal({ code: 3, signal: null });
    const lines = app.output().split('\n').filter((l) => /lost at exit/.test(l));
    expect(lines).to.deep.equal([`auditspan: ${answered} audit rows lost at exit: not written within 300 ms (database down or too slow?)`]);
  });
});
