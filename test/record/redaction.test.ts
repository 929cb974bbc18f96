import { expect } from 'chai';
import { createRecordMapper, createRedactor, REDACTED, toAuditRecord } from '../../src/record';
import { expectNoLeak, MORE_SECRETS, PEM, PEM_BODY, SECRETS } from './secrets';
import { serverSpan, STABLE } from './spans';

const r = createRedactor();

describe('redaction by key name', () => {
  it('redacts secret keys at any JSON depth', () => {
    const body = { user: { profile: { settings: { password: 'x1', apiKey: 'x2', nested: [{ client_secret: 'x3', cvv: '123' }] } } }, card: { number: '1', exp: '12/29' } };
    const out = r.json(body) as any;
    expect(out.user.profile.settings.password).to.equal(REDACTED);
    expect(out.user.profile.settings.apiKey).to.equal(REDACTED);
    expect(out.user.profile.settings.nested[0]).to.deep.equal({ client_secret: REDACTED, cvv: REDACTED });
    expect(out.card).to.equal(REDACTED);
  });

  for (const key of ['password', 'Password', 'user_password', 'passwd', 'secret', 'clientSecret', 'token', 'access_token', 'refreshToken',
    'api_key', 'apiKey', 'x-api-key', 'authorization', 'cookie', 'set-cookie', 'card', 'cardNumber', 'card_number', 'cvv', 'cvc',
    'iban', 'ssn', 'national_id', 'private_key', 'otp', 'pin', 'session', 'sessionId']) {
    it(`treats "${key}" as secret`, () => expect(r.isSecretKey(key)).to.equal(true));
  }

  for (const key of ['name', 'email_verified', 'amount', 'currency', 'description', 'cardinality', 'discarded', 'classname', 'tokenName', 'spin', 'opinion', 'keyboard', 'publicKey', 'idempotency_key']) {
    it(`leaves "${key}" alone`, () => expect(r.isSecretKey(key)).to.equal(false));
  }

  it('redacts form bodies and query strings by key', () => {
    expect(r.payload('user=jane&password=hunter2&remember=1', 'application/x-www-form-urlencoded')).to.equal(`user=jane&password=${REDACTED}&remember=1`);
    expect(r.query('q=shoes&api_key=abc&token=xyz')).to.equal(`q=shoes&api_key=${REDACTED}&token=${REDACTED}`);
  });

  it('redacts keys in JSON that was cut and no longer parses', () => {
    const cut = '{"user":"jane","password":"hunter2","notes":"call +44 20 7946 0958","card_number":"41111';
    const out = r.payload(cut, 'application/json');
    expect(out).to.not.contain('hunter2').and.not.contain('7946').and.not.contain('41111');
    expect(out).to.contain('"user":"jane"');
  });

  it('redacts key=value and key: value pairs in free text', () => {
    const out = r.text('login failed: password=hunter2 token: abcdef user=bob');
    expect(out).to.equal(`login failed: password=${REDACTED} token: ${REDACTED} user=bob`);
  });

  it('redacts the whole credential after an authorization key, scheme and token', () => {
    for (const text of ['Authorization: Bearer 9f8e7d6c5b4a39281726', 'upstream said authorization=Basic dXNlcjpwYXNz then failed']) {
      const out = r.text(text);
      expect(out).to.contain(REDACTED).and.not.contain('9f8e7d6c5b4a39281726').and.not.contain('dXNlcjpwYXNz');
      expect(r.payload(text, 'text/plain')).to.equal(out);
    }
  });

  it('drops secret headers and redacts the others by value', () => {
    expect(r.headers({ Authorization: 'Bearer x', Cookie: 'a=b', 'X-Api-Key': 'k', 'X-Request-Id': 'id-1', Referer: 'https://a.test/p?token=t' }))
      .to.deep.equal({ 'x-request-id': 'id-1', referer: `https://a.test/p?token=${REDACTED}` });
  });
});

describe('redaction by value shape', () => {
  for (const [kind, value] of Object.entries(SECRETS)) {
    // A password or a cvv has no shape: they are found by their key (tested above).
    if (kind === 'cvv' || kind === 'bearerToken' || kind === 'password') continue;
    it(`finds ${kind} in free text`, () => {
      const out = r.text(`note: the customer gave ${value} on the phone.`);
      expectNoLeak(out);
      expect(out).to.contain(kind === 'bearer' ? 'Bearer [REDACTED]' : REDACTED);
    });
  }

  it('keeps numbers that are not cards, IBANs or phones', () => {
    for (const text of ['order 1234567890123 shipped', 'amount 4999', 'ts 1700000000123', 'id 4111111111111112', 'version 1.2.3', 'DE00 0000 0000 0000 0000 00', 'price 12.50 EUR']) {
      expect(r.text(text), text).to.equal(text);
    }
  });

  it('redacts a card number sent as a JSON number', () => {
    expect(r.json({ ref: 4111111111111111 })).to.deep.equal({ ref: REDACTED });
    expect(r.json({ ref: 4111111111111112 })).to.deep.equal({ ref: 4111111111111112 });
  });

  it('redacts credentials in URLs, emails in paths and secrets in queries', () => {
    expect(r.url('https://bob:pa55@api.test/users/jane.doe@example.com?email=jane.doe%40example.com&page=2'))
      .to.equal(`https://${REDACTED}@api.test/users/${REDACTED}?email=${REDACTED}&page=2`);
  });
});

describe('redaction of the kinds that leaked before', () => {
  const m = MORE_SECRETS;
  it('removes PEM private key blocks from text bodies and from JSON under any key, whole or cut', () => {
    for (const out of [
      r.payload(`here is the key:\n${PEM}\nthanks`, 'text/plain'),
      r.payload(JSON.stringify({ pem: PEM, certificate: PEM, note: 'ok' })),
      r.text(PEM.slice(0, 120)),
    ]) {
      expect(out).to.not.contain(PEM_BODY).and.not.contain(PEM_BODY.slice(0, 20));
      expect(out).to.contain(REDACTED);
    }
  });

  it('finds AWS secret keys, Google API keys, spaced US phones, lowercase IBANs and dotted cards in free text', () => {
    for (const value of [m.awsSecret, m.googleKey, m.phoneSpaces, m.ibanLower, m.cardDots]) {
      const out = r.text(`support note: customer pasted ${value}.`);
      expect(out, value).to.not.contain(value);
      expect(out).to.contain(REDACTED);
    }
  });

  it('redacts by key inside JSON carried as a JSON string', () => {
    const body = JSON.stringify({ data: JSON.stringify({ user: 'bob', password: m.nestedPassword }) });
    const out = r.payload(body, 'application/json');
    expect(out).to.not.contain(m.nestedPassword);
    expect(JSON.parse(JSON.parse(out).data)).to.deep.equal({ user: 'bob', password: REDACTED });
    // The same, cut so it no longer parses.
    expect(r.payload(body.slice(0, body.length - 4), 'application/json')).to.not.contain(m.nestedPassword);
  });

  it('treats ; as a query parameter separator', () => {
    expect(r.url(`https://a.test/x?a=1;password=${m.semicolonPassword};b=2`)).to.equal(`https://a.test/x?a=1;password=${REDACTED};b=2`);
    // As a client that re-encodes the query sends it.
    expect(r.url(`https://a.test/x?a=1%3Bpassword%3D${m.semicolonPassword}&b=2`)).to.equal(`https://a.test/x?a=1%3Bpassword%3D${REDACTED}&b=2`);
  });

  it('folds homoglyphs, accents, full-width and invisible characters in key names', () => {
    for (const key of ['p\u0430ssword', 'p\u0430ss\u200bword', '\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44', 't\u03bfken', 'p\u00e4ssword']) {
      expect(r.isSecretKey(key), key).to.equal(true);
      expect(r.payload(JSON.stringify({ [key]: m.homoglyphPassword }))).to.not.contain(m.homoglyphPassword);
      expect(r.text(`${key}=${m.homoglyphPassword} done`)).to.not.contain(m.homoglyphPassword);
    }
  });

  it('redacts random-looking tokens in URL paths but keeps ordinary ids', () => {
    expect(r.url(`https://a.test/password-reset/${m.resetToken}`)).to.equal(`https://a.test/password-reset/${REDACTED}`);
    expect(r.url('https://a.test/verify-email/9f86d081884c7d659a2feaa0c55ad015')).to.equal(`https://a.test/verify-email/${REDACTED}`);
    for (const url of [
      'https://a.test/v1/customers/cus_NffrFeUfNV2Hib/charges/ch_3MmlLrLkdIwHu7ix0snN0B15',
      'https://a.test/v1/users/550e8400-e29b-41d4-a716-446655440000/orders/12345',
      'https://a.test/v1/commits/9f86d081884c7d659a2feaa0c55ad015b3bf4f1b',
      'https://a.test/v1/objects/507f1f77bcf86cd799439011/getUserById2FactorAuthentication',
    ]) expect(r.url(url), url).to.equal(url);
  });

  it('redacts personal names, postal addresses and phone numbers by key', () => {
    for (const key of ['first_name', 'lastName', 'fullName', 'surname', 'given_name', 'street_address', 'address_line1', 'address', 'postcode', 'postal_code', 'zip', 'zipCode', 'phone', 'phone_number']) {
      expect(r.isSecretKey(key), key).to.equal(true);
    }
    const out = r.payload(JSON.stringify({ first_name: m.firstName, last_name: m.lastName, street_address: m.street, postcode: m.postcode, country: 'GB' }));
    expect(JSON.parse(out)).to.deep.equal({ first_name: REDACTED, last_name: REDACTED, street_address: REDACTED, postcode: REDACTED, country: 'GB' });
  });

  it('leaves ordinary text alone', () => {
    for (const text of ['processPaymentIntentWithRetries2 failed', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0.0.0',
      'trace 4bf92f3577b34da6a3ce929d0e0e4736', 'pi 3.14159265358979323846', 'version 10.2.3.4', 'total 100 200 3000 items']) {
      expect(r.text(text), text).to.equal(text);
    }
  });
});

describe('redaction options', () => {
  it('adds extra keys, extra patterns and a custom function, keeping the defaults', () => {
    const custom = createRedactor({
      extraKeys: ['member_no', /^x-internal-/],
      extraPatterns: [/ACME-\d{6}/],
      custom: (value, ctx) => (ctx.key === 'notes' ? 'hidden' : value),
    });
    expect(custom.json({ memberNo: '1', 'x-internal-flag': 'y', ref: 'see ACME-123456 and ACME-654321', notes: 'free text', password: 'p' }))
      .to.deep.equal({ memberNo: REDACTED, 'x-internal-flag': REDACTED, ref: `see ${REDACTED} and ${REDACTED}`, notes: 'hidden', password: REDACTED });
  });

  it('fails closed when the custom function throws', () => {
    const custom = createRedactor({ custom: () => { throw new Error('boom'); } });
    expect(custom.text('anything')).to.equal(REDACTED);
  });

  it('rejects bad options naming them', () => {
    expect(() => createRedactor({ extraKeys: [1 as unknown as string] })).to.throw(TypeError, /redaction\.extraKeys\[0\]/);
    expect(() => createRedactor({ custom: 'x' as unknown as () => string })).to.throw(TypeError, /redaction\.custom/);
  });

  it('stays fast and bounded on hostile input', () => {
    const big = 'a'.repeat(1024 * 1024);
    const deep = JSON.stringify(JSON.parse('['.repeat(500) + ']'.repeat(500)));
    expect(r.text(big)).to.equal(big);
    expect(r.payload(deep, 'application/json')).to.contain('[…]');
  });
});

describe('body policy', () => {
  const span = (extra: Record<string, unknown>, status = 201) =>
    serverSpan({ ...STABLE, 'http.response.status_code': status, 'http.request.header.content-type': ['application/json'], ...extra } as never);

  it('drops the response body of a 2xx', () => {
    expect(toAuditRecord(span({ 'auditspan.response.body': '{"ok":true}' }, 200))?.responsePayload).to.equal(null);
    expect(toAuditRecord(span({ 'auditspan.response.body': '{"ok":true}' }, 204))?.responsePayload).to.equal(null);
  });

  it('keeps the redacted response body of a 4xx and a 5xx', () => {
    const body = JSON.stringify({ error: { message: `user ${SECRETS.email} not allowed` } });
    for (const status of [401, 422, 500]) {
      const rec = toAuditRecord(span({ 'auditspan.response.body': body }, status));
      expect(rec?.responsePayload).to.equal(JSON.stringify({ error: { message: `user ${REDACTED} not allowed` } }));
      expect(rec?.error).to.equal(`user ${REDACTED} not allowed`);
    }
  });

  it('keeps the response body of failures only: status >= 400 (302, 304 and 399 drop it, 400 keeps it)', () => {
    const body = '{"message":"answered"}';
    const kept = (status: number) => toAuditRecord(span({ 'auditspan.response.body': body }, status))?.responsePayload ?? null;
    expect([302, 304, 399, 400].map(kept)).to.deep.equal([null, null, null, body]);
  });

  it('files a 499 (client closed request) with its body and error like any failure', () => {
    const rec = toAuditRecord(span({ 'auditspan.error.message': 'client closed the connection before the response was sent' }, 499));
    expect(rec).to.include({ status: 499, error: 'client closed the connection before the response was sent' });
  });

  it('never takes a body placeholder for the error message', () => {
    const binary = toAuditRecord(span({ 'auditspan.response.body': 'PK\u0003\u0004\u0000\u0000\u0000\u0000', 'auditspan.response.content_type': 'application/octet-stream', 'auditspan.response.body.size': 334 }, 422));
    expect(binary).to.include({ responsePayload: '[binary, 334 bytes]', error: null });
    const undecodable = toAuditRecord(span({ 'auditspan.response.body': '[gzip body, 334 bytes]' }, 422));
    expect(undecodable).to.include({ responsePayload: '[gzip body, 334 bytes]', error: null });
    const fromStatus = toAuditRecord(span({ 'auditspan.response.body': '[binary, 12 bytes]' }, 500));
    expect(fromStatus?.error).to.equal(null);
  });

  it('keeps and redacts the request payload', () => {
    const rec = toAuditRecord(span({ 'auditspan.request.body': JSON.stringify({ name: 'Jane', password: SECRETS.password, card: SECRETS.card }) }));
    expect(JSON.parse(rec?.requestPayload as string)).to.deep.equal({ name: 'Jane', password: REDACTED, card: REDACTED });
    expect(rec?.truncated).to.equal(false);
  });

  it('caps the request payload at 16 KiB on a character boundary and marks it truncated', () => {
    const text = 'é'.repeat(20_000);
    const rec = toAuditRecord(span({ 'auditspan.request.body': text, 'http.request.header.content-type': ['text/plain'] }));
    expect(Buffer.byteLength(rec?.requestPayload as string)).to.be.at.most(16 * 1024);
    expect(rec?.requestPayload).to.not.contain('\ufffd');
    expect(rec?.truncated).to.equal(true);
  });

  it('honours a configured cap and a capturer that already cut the body', () => {
    const map = createRecordMapper({ maxPayloadBytes: 10 });
    expect(map(span({ 'auditspan.request.body': '{"a":"0123456789"}' }))?.requestPayload).to.have.length(10);
    expect(toAuditRecord(span({ 'auditspan.request.body': '{"a":1}', 'auditspan.request.body.truncated': true }))?.truncated).to.equal(true);
  });

  it('keeps vendor JSON bodies (application/vnd.api+json) as redacted text', () => {
    const out = toAuditRecord(span({ 'auditspan.request.body': '{"data":{"attributes":{"password":"hunter2","name":"x"}}}', 'http.request.header.content-type': ['application/vnd.api+json'] }))?.requestPayload;
    expect(out).to.equal(`{"data":{"attributes":{"password":"${REDACTED}","name":"x"}}}`);
  });

  it('replaces binary and multipart bodies with a placeholder', () => {
    expect(toAuditRecord(span({ 'auditspan.request.body': new Uint8Array(2048) }))?.requestPayload).to.equal('[binary, 2048 bytes]');
    expect(toAuditRecord(span({ 'auditspan.request.body': 'PNG\u0000\u0000\u0001', 'http.request.header.content-type': ['image/png'], 'auditspan.request.body.size': 2048 }))?.requestPayload).to.equal('[binary, 2048 bytes]');
    expect(toAuditRecord(span({ 'auditspan.request.body.size': 5000, 'auditspan.request.body': '--x', 'http.request.header.content-type': ['multipart/form-data; boundary=x'] }))?.requestPayload).to.equal('[multipart, 5000 bytes]');
  });

  it('leaves no planted secret anywhere in a record', () => {
    const rec = toAuditRecord(serverSpan({
      ...STABLE,
      'http.response.status_code': 400,
      'url.query': `email=${encodeURIComponent(SECRETS.email)}&token=${SECRETS.apiKey}&card=${SECRETS.cardCompact}`,
      'http.request.header.content-type': ['application/json'],
      'http.request.header.referer': [`https://x.test/?jwt=${SECRETS.jwt}`],
      'user_agent.original': `bot ${SECRETS.email}`,
      'auditspan.request.body': JSON.stringify({ a: { b: { c: { password: SECRETS.password, text: Object.values(SECRETS).filter((v) => v !== SECRETS.password && v !== SECRETS.bearerToken).join(' ') } } }, iban: SECRETS.iban }),
      'auditspan.response.body': JSON.stringify({ error: { message: `bad ${SECRETS.bearer} for ${SECRETS.phone} ssn ${SECRETS.ssn}` } }),
    } as never));
    expectNoLeak(JSON.stringify(rec), 'the record');
  });
});
