/**
 * Standalone traffic generator for the demo API (used by docker-compose.yml):
 *   node dist/cli/demo/traffic-main.js http://app:3000 [requests-per-second]
 */
import { startTraffic } from './traffic';

const [target, rateArg] = process.argv.slice(2);
const rate = Number(rateArg ?? 5);
if (!target || !/^https?:\/\//.test(target) || !(rate > 0)) {
  process.stderr.write('usage: traffic-main.js <http://app:port> [requests-per-second]\n');
  process.exit(2);
}
const stop = startTraffic(target, rate, (err) => process.stderr.write(`traffic: ${err.message}\n`));
process.once('SIGTERM', () => { stop(); process.exit(0); });
process.once('SIGINT', () => { stop(); process.exit(0); });
