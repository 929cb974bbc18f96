import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const REGISTER = join(ROOT, 'dist', 'register.mjs');
export const APP = join(ROOT, 'test', 'fixtures', 'apps', 'app.cjs');

export interface AppProcess {
  child: ChildProcess;
  base: string;
  output: () => string;
  /** Sends a signal and resolves with the exit code/signal. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a fixture app, instrumented (`--import auditspan/register`) or bare. */
export function startApp(options: { instrumented: boolean; env?: NodeJS.ProcessEnv; script?: string }): Promise<AppProcess> {
  const args = options.instrumented ? ['--import', REGISTER, options.script ?? APP] : [options.script ?? APP];
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AUDITSPAN_') && !k.startsWith('OTEL_')) env[k] = v;
  const child = spawn(process.execPath, args, { env: { ...env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start:\n${out}`)), 20_000);
    const onData = (): void => {
      const m = /listening (\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({
        child,
        base: `http://127.0.0.1:${m[1]}`,
        output: () => out,
        stop: (signal = 'SIGTERM') =>
          new Promise((res) => {
            if (child.exitCode !== null || child.signalCode !== null) return res({ code: child.exitCode, signal: child.signalCode });
            child.once('exit', (code, sig) => res({ code, signal: sig }));
            child.kill(signal);
          }),
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app exited (${code}) before listening:\n${out}`));
    });
  });
}
