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
  // Personal information: names and postal addresses (the product stores none).
  'firstname', 'lastname', 'fullname', 'surname', 'givenname', 'familyname', 'middlename', 'maidenname',
  'address', 'postcode', 'postalcode', 'zipcode', 'phonenumber', 'telephone', 'mobilenumber',
];

/** Matched as whole words of the key only. */
export const SECRET_KEY_WORDS: readonly string[] = [
  'pwd', 'pass', 'pin', 'otp', 'totp', 'mfa', 'cvv', 'cvv2', 'cvc', 'cvc2', 'cvn', 'csc', 'iban', 'ssn',
  'sin', 'nin', 'nino', 'pan', 'card', 'auth', 'session', 'sid', 'jwt', 'bearer', 'signature', 'sig',
  'dob', 'bic', 'swift', 'salt', 'hmac', 'key', 'tin', 'pem', 'zip', 'street', 'phone',
];

/** The documented default list (what users see in docs/redaction.md). */
export const DEFAULT_SECRET_KEYS: readonly string[] = [...SECRET_KEY_SUBSTRINGS, ...SECRET_KEY_WORDS];

/** Keys that contain a secret word but name something harmless. */
const NOT_SECRET: ReadonlySet<string> = new Set([
  'tokenname', 'tokentype', 'keyid', 'idempotencykey', 'publickey', 'sessioncount', 'cardbrand', 'cardlast4',
  'cardexpmonth', 'cardexpyear', 'cardcountry', 'cardfunding', 'passengers', 'sortkey', 'cachekey', 'primarykey',
  'foreignkey', 'keyname', 'pagetoken', 'nextpagetoken', 'pagination', 'paginationtoken', 'continuationtoken',
]);

/**
 * Letters of other scripts that look like Latin ones (`pаssword` with a Cyrillic а), mapped
 * to the Latin letter so a key cannot dodge the lists by its spelling. Full-width and other
 * compatibility forms are folded by NFKC first; zero-width characters are dropped.
 */
const CONFUSABLES: Readonly<Record<string, string>> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', һ: 'h', ӏ: 'l', ԛ: 'q', ԝ: 'w', ɡ: 'g',
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', У: 'Y', Х: 'X', І: 'I', Ј: 'J', Ѕ: 'S',
  // Greek
  α: 'a', ο: 'o', ρ: 'p', τ: 't', ι: 'i', κ: 'k', ν: 'v', υ: 'u', ε: 'e', χ: 'x', ω: 'w',
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X',
  // Latin lookalikes
  ı: 'i', ȷ: 'j', ſ: 's',
};
const NON_ASCII = /[^\x00-\x7f]/;
const INVISIBLE = /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufe00-\ufe0f\ufeff]/g;

/** The key as the lists compare it: ASCII keys unchanged, others folded to their Latin lookalikes. */
export function normalizeKey(key: string): string {
  if (!NON_ASCII.test(key)) return key;
  let out = '';
  for (const ch of key.normalize('NFKC').replace(INVISIBLE, '')) out += CONFUSABLES[ch] ?? ch;
  // Accents (pässword) go too: what is left of a letter after NFD is its base.
  return out.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

export function splitKeyWords(key: string): string[] {
  return normalizeKey(key)
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
    const compact = normalizeKey(key).toLowerCase().replace(/[^a-z0-9]/g, '');
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
