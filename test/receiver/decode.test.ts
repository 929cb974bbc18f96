import { expect } from 'chai';
import { decodeJson } from '../../src/receiver/decode';

describe('OTLP decoding', () => {
  it('keeps an attribute named __proto__ as an attribute, without touching the prototype', () => {
    const kvlist = { kvlistValue: { values: [{ key: 'http.request.header.accept', value: { stringValue: 'planted' } }] } };
    const { spans } = decodeJson(JSON.stringify({
      resourceSpans: [{ scopeSpans: [{ spans: [{
        traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'GET', kind: 2,
        startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000001000000',
        attributes: [{ key: '__proto__', value: kvlist }, { key: 'http.request.method', value: { stringValue: 'GET' } }],
      }] }] }],
    }));
    const attributes = spans[0].attributes;
    expect(Object.getPrototypeOf(attributes)).to.equal(Object.prototype);
    expect(Object.keys(attributes)).to.deep.equal(['__proto__', 'http.request.method']);
    expect(attributes['http.request.header.accept']).to.equal(undefined);
    expect(Object.getOwnPropertyDescriptor(attributes, '__proto__')?.value).to.deep.equal({ 'http.request.header.accept': 'planted' });
  });
});
