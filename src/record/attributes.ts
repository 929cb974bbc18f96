import type { AttributeValue, Attributes } from './types';

/** First attribute present as a non-empty string (numbers are converted). */
export function str(attrs: Attributes, ...keys: string[]): string | null {
  for (const key of keys) {
    const v = attrs[key];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (Array.isArray(v) && typeof v[0] === 'string') return v.join(', ');
  }
  return null;
}

/** First attribute present as an integer (numeric strings accepted). */
export function int(attrs: Attributes, ...keys: string[]): number | null {
  for (const key of keys) {
    const v: AttributeValue = attrs[key];
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && /^\d{1,6}$/.test(v.trim())) return Number(v);
  }
  return null;
}

export function bool(attrs: Attributes, key: string): boolean {
  const v = attrs[key];
  return v === true || v === 'true';
}
