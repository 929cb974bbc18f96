import type { Server } from 'node:http';
import { isIP } from 'node:net';
import { CliError } from './errors';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Listens, turning "address in use" and friends into one clear line. */
export function listen(server: Server, port: number, host: string, what: string, setting: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') {
        reject(new CliError(`${what}: port ${port} on ${host} is already in use (change it with ${setting})`));
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(new CliError(`${what}: cannot listen on host ${host} (${err.code})`));
      } else if (err.code === 'EACCES') {
        reject(new CliError(`${what}: not allowed to listen on port ${port} (${setting})`));
      } else {
        reject(new CliError(`${what}: cannot listen on ${host}:${port}: ${err.message}`));
      }
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return isIP(host) === 6 ? `[${host}]` : host;
}
