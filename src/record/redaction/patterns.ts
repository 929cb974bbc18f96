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
  /** …or the length of its shortest match. */
  minLength?: number;
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

export function ibanValid(candidate: string): boolean {
  const iban = candidate.replace(/\s+/g, '').toUpperCase();
  if (iban.length < 15 || iban.length > 34 || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const value = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

function cardValid(match: string): boolean {
  const digits = match.replace(/[ -]/g, '');
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
  { name: 'provider-api-key', minLength: 14, regex: /\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9_]{6,256}|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{20,256}|\bxox[abprs]-[A-Za-z0-9-]{10,256}/g },
  { name: 'url-credentials', needs: '@', regex: /(?<=\/\/)[^/\s:@]{1,256}:[^/\s@]{1,256}(?=@)/g },
  // Bounded quantifiers everywhere: linear time on hostile megabyte strings.
  { name: 'email', needs: '@', regex: /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}/g },
  { name: 'iban', minDigits: 2, minLength: 12, regex: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g, validate: ibanValid },
  { name: 'card', minDigits: 13, regex: /(?<![\d.])\d(?:[ -]?\d){12,18}(?![\d.])/g, validate: cardValid },
  { name: 'us-ssn', minDigits: 9, regex: /\b\d{3}-\d{2}-\d{4}\b/g, validate: ssnValid },
  { name: 'uk-nino', minDigits: 6, regex: /\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g },
  // Phone numbers: international form (+CC …) or common national layouts; bare digit runs are left alone.
  { name: 'phone-international', needs: '+', minDigits: 8, regex: /(?<![\w+])\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}(?!\d)/g, validate: (m) => m.replace(/\D/g, '').length >= 8 },
  { name: 'phone-national', minDigits: 8, regex: /(?<!\d)(?:\(\d{2,4}\)\s?\d{3,4}[ .-]\d{3,4}|\d{3}[.-]\d{3}[.-]\d{4}|0[1-9]\d{1,3} \d{3,4} \d{3,4})(?!\d)/g },
];

/** Applies patterns to one string; returns the same string object when nothing matched. */
export function applyPatterns(text: string, patterns: readonly ValuePattern[], replacement: string): string {
  let out = text;
  let digits = -1;
  for (const p of patterns) {
    if (p.minLength !== undefined && out.length < p.minLength) continue;
    if (p.needs !== undefined && !out.includes(p.needs)) continue;
    if (p.minDigits !== undefined) {
      if (digits < 0) digits = countDigits(out);
      if (digits < p.minDigits) continue;
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

function countDigits(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n += 1;
  }
  return n;
}
