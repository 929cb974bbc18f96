import { expect } from 'chai';
import { decodeJson, decodeProtobuf, DecodeError } from '../../src/receiver/decode';
import { startOtlpGrpcReceiver, startOtlpHttpReceiver } from '../../src/receiver';
import { forEachStore } from '../helpers/stores';
import { fuzzCases } from './fuzz-cases';
import { grpcExport, LEAK, request } from './otlp-payloads';

/** Fixed seed and bounded count here; `node --import tsx scripts/fuzz-receiver.ts` runs longer. */
const SEED = 18;

describe('OTLP decoders under fuzzing', () => {
  it('throw nothing but a DecodeError for 3000 hostile payloads', () => {
    for (const c of fuzzCases(SEED, 3000)) {
      try {
        if (c.contentType === 'application/json') decodeJson(c.body.toString('utf8'));
        else decodeProtobuf(c.body);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw new Error(`${c.name}: ${(err as Error).stack}`);
      }
    }
  });

  const malformed: Array<[string, unknown]> = [
    ['scopeSpans: 5', { resourceSpans: [{ scopeSpans: 5 }] }],
    ['spans: 5', { resourceSpans: [{ scopeSpans: [{ spans: 5 }] }] }],
    ['events: [null]', request([{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', events: [null] }])],
    ['arrayValue.values: 5', request([{ attributes: [{ key: 'a', value: { arrayValue: { values: 5 } } }] }])],
    ['arrayValue.values: "str"', request([{ attributes: [{ key: 'a', value: { arrayValue: { values: 'str' } } }] }])],
    ['stringValue: 5', request([{ attributes: [{ key: 'a', value: { stringValue: 5 } }] }])],
    ['resourceSpans: [null]', { resourceSpans: [null] }],
  ];
  for (const [name, body] of malformed) {
    it(`answers a DecodeError naming the field for ${name}`, () => {
      expect(() => decodeJson(JSON.stringify(body))).to.throw(DecodeError, /invalid OTLP: .* must be/);
    });
  }
});

forEachStore('OTLP receiver under fuzzing', ({ store }) => {
  let httpPort = 0;
  let grpcPort = 0;
  let closers: Array<() => Promise<void>> = [];
  before(async () => {
    const http = await startOtlpHttpReceiver({ store: store(), port: 0, log: () => undefined });
    const grpc = await startOtlpGrpcReceiver({ store: store(), port: 0, log: () => undefined });
    httpPort = http.port;
    grpcPort = grpc.port;
    closers = [http.close, grpc.close];
  });
  after(async () => {
    for (const c of closers) await c();
  });

  it('answers 200, 400 or 413 to every hostile payload over HTTP, never 5xx, never a hang; gRPC OK or INVALID_ARGUMENT', async function () {
    this.timeout(120_000);
    for (const c of fuzzCases(SEED + 1, 150)) {
      const res = await fetch(`http://127.0.0.1:${httpPort}/v1/traces`, {
        method: 'POST', body: new Uint8Array(c.body), headers: { 'content-type': c.contentType }, signal: AbortSignal.timeout(10_000),
      });
      const text = Buffer.from(await res.arrayBuffer()).toString('latin1');
      expect([200, 400, 413], `${c.name}: HTTP ${res.status} ${text.slice(0, 200)}`).to.include(res.status);
      expect(text, c.name).not.to.match(LEAK);
      if (c.contentType === 'application/x-protobuf') {
        const answer = await grpcExport(grpcPort, c.body, 10_000);
        expect([0, 3, 8], `${c.name}: gRPC ${answer.code} ${answer.details}`).to.include(answer.code);
      }
    }
  });
});
