/**
 * Secret detection by the shape of a value, in any text. Each pattern may carry
 * a validator (Luhn for cards, mod-97 for IBANs) so that ordinary numbers such
 * as ids, amounts and timestamps are left alone.
 */
export interface ValuePattern {
  name: string;
  regex: RegExp;
  /** Returns false to keep the match. */
  validate?: (match: string) => boolean;
  /** Replacement; default `[REDACTED]`. */
  replace?: (match: string) => string;
  /** Cheap pre-checks that skip the regex on text that cannot match: a substring it needs… */
  needs?: string;
  /** …or a least number of digits in the text… */
  minDigits?: number;
  /** …or the length of its shortest match… */
  minLength?: number;
  /** …or a least run of token characters (`A-Za-z0-9_+=/-`) in a row. */
  minRun?: number;
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** IBAN length by country (ISO 13616 registry): a lowercase candidate must also have its country's length. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18,
  GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32,
  LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24,
  PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28,
  TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

export function ibanValid(candidate: string): boolean {
  const iban = candidate.replace(/\s+/g, '').toUpperCase();
  if (iban.length < 15 || iban.length > 34 || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  // Upper case as printed: any checksum-valid candidate. Other spellings: a known country's length too.
  if (/[a-z]/.test(candidate) && IBAN_LENGTHS[iban.slice(0, 2)] !== iban.length) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const value = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

function cardValid(match: string): boolean {
  const digits = match.replace(/[ .-]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  return luhnValid(digits);
}

function ssnValid(match: string): boolean {
  const [area, group, serial] = match.split('-');
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

export const DEFAULT_VALUE_PATTERNS: readonly ValuePattern[] = [
  // Credentials first: a JWT or bearer token may contain things that look like other patterns.
  { name: 'jwt', needs: 'eyJ', regex: /\beyJ[A-Za-z0-9_-]{4,8192}\.[A-Za-z0-9_-]{4,65536}\.[A-Za-z0-9_-]{0,8192}/g },
  {
    name: 'authorization-scheme',
    minLength: 12,
    regex: /\b(Bearer|Basic|Digest|Token|ApiKey)\s{1,8}[A-Za-z0-9._~+/=:-]{6,8192}/gi,
    replace: (m) => `${m.split(/\s+/)[0]} [REDACTED]`,
  },
  // PEM private keys, whole or cut (no END line: up to the end of the text).
  {
    name: 'pem-private-key', needs: 'PRIVATE KEY',
    regex: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]{0,65536}?(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  { name: 'provider-api-key', minLength: 14, regex: /\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9_]{6,256}|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{20,256}|\bgithub_pat_[A-Za-z0-9_]{20,256}|\bxox[abprs]-[A-Za-z0-9-]{10,256}|\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])|\bglpat-[A-Za-z0-9_-]{20}\b|\bsk-(?:proj-)?[A-Za-z0-9_-]{32,256}/g },
  // AWS secret access keys: 40 base64 characters with upper case, lower case and a digit.
  { name: 'aws-secret-key', minLength: 40, minRun: 40, regex: /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g, validate: (m) => /[A-Z]/.test(m) && /[a-z]/.test(m) && /\d/.test(m) },
  // Other random-looking tokens (reset links, opaque API keys) of 24+ base64url characters.
  { name: 'random-token', minLength: 24, minRun: 24, regex: /(?<![A-Za-z0-9_+=-])[A-Za-z0-9_+=-]{24,1024}(?![A-Za-z0-9_+=-])/g, validate: randomToken },
  { name: 'url-credentials', needs: '@', regex: /(?<=\/\/)[^/\s:@]{1,256}:[^/\s@]{1,256}(?=@)/g },
  // Bounded quantifiers everywhere: linear time on hostile megabyte strings.
  { name: 'email', needs: '@', regex: /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}/g },
  { name: 'iban', minDigits: 2, minLength: 12, regex: /\b[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,4})?\b/g, validate: ibanValid },
  { name: 'card', minDigits: 13, regex: /(?<![\d.])(?:\d(?:[ -]?\d){12,18}|\d{4}(?:\.\d{4}){2}\.\d{1,7}|\d{4}\.\d{6}\.\d{4,5})(?!\d|\.\d)/g, validate: cardValid },
  { name: 'us-ssn', minDigits: 9, regex: /\b\d{3}-\d{2}-\d{4}\b/g, validate: ssnValid },
  { name: 'uk-nino', minDigits: 6, regex: /\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g },
  // Phone numbers: international form (+CC …) or common national layouts; bare digit runs are left alone.
  { name: 'phone-international', needs: '+', minDigits: 8, regex: /(?<![\w+])\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}(?!\d)/g, validate: (m) => m.replace(/\D/g, '').length >= 8 },
  { name: 'phone-national', minDigits: 8, regex: /(?<!\d)(?:\(\d{2,4}\)\s?\d{3,4}[ .-]\d{3,4}|\d{3}[.-]\d{3}[.-]\d{4}|[2-9]\d{2} [2-9]\d{2} \d{4}|0[1-9]\d{1,3} \d{3,4} \d{3,4})(?!\d)/g },
];

/**
 * True for a string that looks drawn at random rather than written: upper case, lower case
 * and digits all present, and many distinct characters (Shannon entropy ≥ 3.8 bits a
 * character; 24 random base62 characters have ≈ 4.2, a camelCase identifier ≈ 3.5).
 */
export function randomLooking(s: string): boolean {
  if (!/[A-Z]/.test(s) || !/[a-z]/.test(s) || !/\d/.test(s)) return false;
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / s.length) * Math.log2(n / s.length);
  return bits >= 3.8;
}

/** Prefixed ids (`cus_NffrFeUfNV2Hib`, `ch_3MmlLrLkdIwHu7ix0snN0B15`) are ids, not secrets. */
const PREFIXED_ID = /^[a-z]{1,8}_[A-Za-z0-9]{8,40}$/;

/** Share of neighbouring characters that change class (upper, lower, digit, other): ≈ 0.6 at random, ≈ 0.3 in camelCase words. */
function classSwitchRatio(s: string): number {
  const cls = (c: number): number => (c >= 65 && c <= 90 ? 1 : c >= 97 && c <= 122 ? 2 : c >= 48 && c <= 57 ? 3 : 4);
  let switches = 0;
  for (let i = 1; i < s.length; i++) if (cls(s.charCodeAt(i)) !== cls(s.charCodeAt(i - 1))) switches += 1;
  return switches / (s.length - 1);
}

function randomToken(m: string): boolean {
  return !PREFIXED_ID.test(m) && classSwitchRatio(m) >= 0.45 && randomLooking(m);
}

/** Applies patterns to one string; returns the same string object when nothing matched. */
export function applyPatterns(text: string, patterns: readonly ValuePattern[], replacement: string): string {
  let out = text;
  let digits = -1;
  let run = -1;
  for (const p of patterns) {
    if (p.minLength !== undefined && out.length < p.minLength) continue;
    if (p.needs !== undefined && !out.includes(p.needs)) continue;
    if (p.minDigits !== undefined) {
      if (digits < 0) digits = countDigits(out);
      if (digits < p.minDigits) continue;
    }
    if (p.minRun !== undefined) {
      if (run < 0) run = longestTokenRun(out);
      if (run < p.minRun) continue;
    }
    p.regex.lastIndex = 0;
    if (!p.regex.test(out)) continue;
    p.regex.lastIndex = 0;
    out = out.replace(p.regex, (match: string) => {
      if (p.validate && !p.validate(match)) return match;
      return p.replace ? p.replace(match) : replacement;
    });
  }
  return out;
}

/** The longest run of characters a token or key can be made of (letters, digits, `_+=/-`). */
function longestTokenRun(text: string): number {
  let best = 0;
  let current = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 47 && c <= 57) || c === 95 || c === 43 || c === 61 || c === 45) {
      if (++current > best) best = current;
    } else current = 0;
  }
  return best;
}

function countDigits(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n += 1;
  }
  return n;
}
