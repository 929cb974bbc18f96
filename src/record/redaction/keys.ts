/**
 * Secret detection by key name (JSON keys, form and query parameters, header
 * names). Keys are split into words (`cardNumber`, `card_number`, `x-api-key`)
 * so that short words such as `pin` or `ssn` match whole words only, while
 * long unambiguous words (`password`, `token`) match anywhere in the key.
 */

/** Matched anywhere in the key, after removing separators and lowercasing. */
export const SECRET_KEY_SUBSTRINGS: readonly string[] = [
  'password', 'passwd', 'passphrase', 'secret', 'token', 'apikey', 'authorization', 'cookie',
  'creditcard', 'cardnumber', 'privatekey', 'accesskey', 'signingkey', 'encryptionkey', 'sessionid',
  'nationalid', 'socialsecurity', 'accountnumber', 'routingnumber', 'securitycode', 'credential',
  'dateofbirth', 'birthdate', 'passport', 'taxid', 'driverlicense', 'driverslicense',
];

/** Matched as whole words of the key only. */
export const SECRET_KEY_WORDS: readonly string[] = [
  'pwd', 'pass', 'pin', 'otp', 'totp', 'mfa', 'cvv', 'cvv2', 'cvc', 'cvc2', 'cvn', 'csc', 'iban', 'ssn',
  'sin', 'nin', 'nino', 'pan', 'card', 'auth', 'session', 'sid', 'jwt', 'bearer', 'signature', 'sig',
  'dob', 'bic', 'swift', 'salt', 'hmac', 'key', 'tin',
];

/** The documented default list (what users see in docs/redaction.md). */
export const DEFAULT_SECRET_KEYS: readonly string[] = [...SECRET_KEY_SUBSTRINGS, ...SECRET_KEY_WORDS];

/** Keys that contain a secret word but name something harmless. */
const NOT_SECRET: ReadonlySet<string> = new Set([
  'tokenname', 'tokentype', 'keyid', 'idempotencykey', 'publickey', 'sessioncount', 'cardbrand', 'cardlast4',
  'cardexpmonth', 'cardexpyear', 'cardcountry', 'cardfunding', 'passengers', 'sortkey', 'cachekey', 'primarykey',
  'foreignkey', 'keyname', 'pagetoken', 'nextpagetoken', 'pagination', 'paginationtoken', 'continuationtoken',
]);

export function splitKeyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export type KeyMatcher = (key: string) => boolean;

/** Builds the key test from the defaults plus user-supplied names or RegExps. */
export function createKeyMatcher(extraKeys: ReadonlyArray<string | RegExp> = []): KeyMatcher {
  const extraWords = extraKeys.filter((k): k is string => typeof k === 'string').map((k) => k.toLowerCase().replace(/[^a-z0-9]/g, ''));
  const extraRegexps = extraKeys.filter((k): k is RegExp => k instanceof RegExp);
  const words = new Set(SECRET_KEY_WORDS);
  const cache = new Map<string, boolean>();
  return (key: string): boolean => {
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const compact = key.toLowerCase().replace(/[^a-z0-9]/g, '');
    let secret = false;
    if (extraWords.some((w) => w.length > 0 && compact.includes(w)) || extraRegexps.some((r) => { r.lastIndex = 0; return r.test(key); })) {
      secret = true;
    } else if (!NOT_SECRET.has(compact)) {
      secret = SECRET_KEY_SUBSTRINGS.some((s) => compact.includes(s)) || splitKeyWords(key).some((w) => words.has(w));
      // "pagination token" style cursors are not credentials; "key" alone is too wide for
      // compound words like "keyboard", hence whole words only above.
    }
    if (cache.size < 10_000) cache.set(key, secret);
    return secret;
  };
}
