import { createKeyMatcher, type KeyMatcher } from './keys';
import { applyPatterns, DEFAULT_VALUE_PATTERNS, type ValuePattern } from './patterns';

export const REDACTED = '[REDACTED]';
/** JSON deeper than this is replaced, not walked: bounded work on hostile input. */
export const MAX_JSON_DEPTH = 64;

export type RedactionWhere = 'payload' | 'query' | 'header' | 'error' | 'url';

export interface RedactionOptions {
  /** Extra key names (matched like the defaults, ignoring case and separators) or RegExps tested on the key. */
  extraKeys?: Array<string | RegExp>;
  /** Extra value patterns redacted in any text, e.g. /ACME-\d{6}/g. */
  extraPatterns?: RegExp[];
  /** Runs last on every string that survives the defaults; returns the replacement. */
  custom?: (value: string, context: { key?: string; where: RedactionWhere }) => string;
}

export interface Redactor {
  /** Free text: value-shape patterns only. */
  text(value: string, where?: RedactionWhere, key?: string): string;
  /** A JSON value: secret keys at any depth, value shapes in every string. */
  json(value: unknown): unknown;
  /** A request or response body; JSON and form bodies by key, anything else as text. */
  payload(body: string, contentType?: string): string;
  /** A query string without the leading `?`. */
  query(qs: string): string;
  /** A full or relative URL: credentials, path and query. */
  url(url: string): string;
  /** Header values by name; secret headers are dropped entirely (not even `[REDACTED]`). */
  headers(headers: Record<string, string | string[] | undefined>): Record<string, string>;
  isSecretKey(key: string): boolean;
}

function validateOptions(options: RedactionOptions): void {
  const fail = (msg: string): never => {
    throw new TypeError(`auditspan: redaction.${msg}`);
  };
  if (options.extraKeys !== undefined) {
    if (!Array.isArray(options.extraKeys)) fail('extraKeys must be an array of strings or RegExps');
    options.extraKeys.forEach((k, i) => {
      if (typeof k !== 'string' && !(k instanceof RegExp)) fail(`extraKeys[${i}] must be a string or a RegExp`);
    });
  }
  if (options.extraPatterns !== undefined) {
    if (!Array.isArray(options.extraPatterns)) fail('extraPatterns must be an array of RegExps');
    options.extraPatterns.forEach((p, i) => {
      if (!(p instanceof RegExp)) fail(`extraPatterns[${i}] must be a RegExp`);
    });
  }
  if (options.custom !== undefined && typeof options.custom !== 'function') fail('custom must be a function');
}

const JSON_PAIR = /"((?:[^"\\]|\\.){1,200})"\s*:\s*("(?:[^"\\]|\\.)*"?|-?[\d.eE+-]+|true|false)/g;
// Keys in any script (a homoglyph `pаssword` is still a key); the matcher folds them to Latin.
// The separator may sit after an escaped quote: `\"password\":\"x\"` in JSON cut inside a JSON string.
const TEXT_KEY = /(?<![\p{L}\p{N}_])(\p{L}[\p{L}\p{N}\p{M}_.\u200b-\u200d-]{0,99})((?:\\?")?\s*[=:]\s*)/gu;
/** A path segment after one of these carries a one-time secret (`/password-reset/<token>`). */
const SECRET_PATH_CONTEXT = /reset|token|verif|confirm|activat|invit|magic|passw|secret|recover|unsubscribe|login|signin|auth/i;
const TEXT_VALUE = /(?:(?:Bearer|Basic|Digest|Token|ApiKey|Negotiate)\s{1,8})?(?:\\"(?:[^"\\]|\\[^"])*(?:\\"|\\?$)|"[^"]*"|'[^']*'|[^\s&,;"'}]+)/iy;

export function createRedactor(options: RedactionOptions = {}): Redactor {
  validateOptions(options);
  const isSecretKey: KeyMatcher = createKeyMatcher(options.extraKeys);
  const patterns: ValuePattern[] = [
    ...DEFAULT_VALUE_PATTERNS,
    ...(options.extraPatterns ?? []).map((regex, i) => ({
      name: `extra-${i}`,
      // Always global so every occurrence is replaced.
      regex: regex.global ? regex : new RegExp(regex.source, `${regex.flags}g`),
    })),
  ];
  const custom = options.custom;

  const text = (value: string, where: RedactionWhere = 'payload', key?: string): string => {
    let out = applyPatterns(value, patterns, REDACTED);
    if (custom) {
      try {
        const replaced = custom(out, { key, where });
        if (typeof replaced === 'string') out = replaced;
      } catch {
        // A failing user function must not leak the value: fail closed.
        out = REDACTED;
      }
    }
    return out;
  };

  const json = (value: unknown, depth = 0, key?: string): unknown => {
    if (typeof value === 'string') {
      // JSON inside a JSON string (`{"data":"{\"password\":…}"}`) is redacted by key as well.
      const inner = depth < MAX_JSON_DEPTH ? nestedJson(value) : undefined;
      return inner === undefined ? text(value, 'payload', key) : JSON.stringify(json(inner, depth + 1, key));
    }
    if (typeof value === 'number') {
      // A card number sent as a JSON number.
      const digits = Number.isInteger(value) && value > 0 ? String(value) : '';
      return digits.length >= 13 && applyPatterns(digits, patterns, REDACTED) !== digits ? REDACTED : value;
    }
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_JSON_DEPTH) return '[…]';
    if (Array.isArray(value)) return value.map((v) => json(v, depth + 1, key));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v !== null && v !== '' ? REDACTED : json(v, depth + 1, k);
    }
    return out;
  };

  const nestedJson = (value: string): unknown => {
    const first = value.charCodeAt(0);
    // `{` or `[`, optionally after whitespace; anything else is not worth a parse attempt.
    if (first !== 123 && first !== 91 && !/^\s+[{[]/.test(value)) return undefined;
    try {
      const parsed: unknown = JSON.parse(value);
      return parsed !== null && typeof parsed === 'object' ? parsed : undefined;
    } catch {
      return undefined;
    }
  };

  /** Key/value pairs inside text that is not parseable JSON (cut or malformed bodies, logs). */
  const pairsInText = (value: string): string => {
    // Both shapes need a separator; most strings (paths, user agents) have neither.
    if (!value.includes(':') && !value.includes('=')) return value;
    const json = value.replace(JSON_PAIR, (m: string, k: string) => (isSecretKey(k) ? `"${k}":"${REDACTED}"` : m));
    // `key=value` / `key: value`: a non-secret key must not swallow what follows it
    // (`failed: password=x`), so values are consumed only after a secret key.
    let out = '';
    let last = 0;
    TEXT_KEY.lastIndex = 0;
    for (let m = TEXT_KEY.exec(json); m !== null; m = TEXT_KEY.exec(json)) {
      if (!isSecretKey(m[1])) continue;
      TEXT_VALUE.lastIndex = TEXT_KEY.lastIndex;
      const v = TEXT_VALUE.exec(json);
      if (!v) continue;
      out += json.slice(last, TEXT_KEY.lastIndex) + REDACTED;
      last = TEXT_KEY.lastIndex = TEXT_VALUE.lastIndex;
    }
    return last === 0 ? json : out + json.slice(last);
  };

  const query = (qs: string): string => {
    if (qs === '') return qs;
    // `&` and `;` both separate parameters (HTML 4 forms, many servers): `?a=1;password=x`.
    return qs
      .split(/(?<=[&;])|(?=[&;])/)
      .map((part) => {
        if (part === '&' || part === ';') return part;
        const eq = part.indexOf('=');
        const rawKey = eq === -1 ? part : part.slice(0, eq);
        let key = rawKey;
        try {
          key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
        } catch {
          // keep the raw key
        }
        if (eq === -1) return text(part, 'query');
        if (isSecretKey(key)) return `${rawKey}=${REDACTED}`;
        const rawValue = part.slice(eq + 1);
        let decoded: string;
        try {
          decoded = decodeURIComponent(rawValue.replace(/\+/g, ' '));
        } catch {
          return `${rawKey}=${text(rawValue, 'query', key)}`;
        }
        // A value that is itself a query (`a=1%3Bpassword%3Dx`, re-encoded by a client) is redacted as one.
        const redacted = /[=][^&;]*[&;]|[&;][^=&;]+=/.test(decoded) ? query(decoded) : text(decoded, 'query', key);
        return redacted === decoded ? part : `${rawKey}=${encodeURIComponent(redacted).replace(/%5B/g, '[').replace(/%5D/g, ']')}`;
      })
      .join('');
  };

  /** Path segments: patterns on each, and any long segment after a reset/verify/token segment. */
  const path = (base: string): string => {
    const redacted = text(base, 'url');
    if (!SECRET_PATH_CONTEXT.test(redacted)) return redacted;
    const segments = redacted.split('/');
    for (let i = 1; i < segments.length; i++) {
      const seg = segments[i];
      if (seg.length >= 16 && seg !== REDACTED && /\d/.test(seg) && SECRET_PATH_CONTEXT.test(segments[i - 1])) segments[i] = REDACTED;
    }
    return segments.join('/');
  };

  const url = (value: string): string => {
    const hashAt = value.indexOf('#');
    const noHash = hashAt === -1 ? value : value.slice(0, hashAt);
    const q = noHash.indexOf('?');
    const base = q === -1 ? noHash : noHash.slice(0, q);
    const qs = q === -1 ? undefined : noHash.slice(q + 1);
    // Fragments never reach a server; one that does is dropped rather than inspected.
    return path(base) + (qs !== undefined ? `?${query(qs)}` : '');
  };

  const payload = (body: string, contentType = ''): string => {
    const ct = contentType.toLowerCase();
    const trimmed = body.trimStart();
    if (ct.includes('json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        return JSON.stringify(json(JSON.parse(body)));
      } catch {
        // Cut or malformed JSON: fall through to key/value pairs in text.
      }
    }
    if (ct.includes('x-www-form-urlencoded') || (/^[\w.%[\]-]+=[^\s]*(&[\w.%[\]-]+=[^\s]*)*$/.test(body) && !ct.includes('json'))) {
      return query(body);
    }
    return text(pairsInText(body), 'payload');
  };

  const headers = (input: Record<string, string | string[] | undefined>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [name, raw] of Object.entries(input)) {
      if (raw === undefined) continue;
      const lower = name.toLowerCase();
      if (isSecretKey(lower)) continue;
      const value = Array.isArray(raw) ? raw.join(', ') : String(raw);
      out[lower] = lower === 'referer' || lower === 'origin' ? url(value) : text(value, 'header', lower);
    }
    return out;
  };

  return {
    text: (value, where, key) => text(pairsInText(value), where, key),
    json: (value) => json(value),
    payload,
    query,
    url,
    headers,
    isSecretKey,
  };
}
