// Identifiers a CRM shows (phone numbers, emails) come in many spellings; the cache and the
// backend key customers by one normal form: E.164 phones, lower-case emails.

const E164_RE = /^\+[1-9]\d{6,14}$/;

export function isE164(s: string): boolean {
  return E164_RE.test(s);
}

/**
 * Normalizes a phone number to E.164. Numbers without a country code are taken as North
 * American (+1), the carrier's market. Returns null for anything that is not a phone number.
 */
export function normalizePhone(raw: string): string | null {
  if (E164_RE.test(raw)) return raw; // already E.164, as most stored and listed numbers are
  const trimmed = raw.trim().replace(/^tel:/i, '');
  const hasPlus = trimmed.startsWith('+');
  const digits = trimmed.replace(/\D/g, '');
  if (/[a-z]/i.test(trimmed.replace(/\b(ext|x)\.?\s*\d+$/i, ''))) return null;
  let e164: string;
  if (hasPlus) e164 = '+' + digits;
  else if (digits.length === 10) e164 = '+1' + digits;
  else if (digits.length === 11 && digits.startsWith('1')) e164 = '+' + digits;
  else if (trimmed.startsWith('00') && digits.length > 4) e164 = '+' + digits.slice(2);
  else return null;
  return isE164(e164) ? e164 : null;
}

export function normalizeEmail(raw: string): string {
  return raw.trim().replace(/^mailto:/i, '').toLowerCase();
}

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export function looksLikeEmail(raw: string): boolean {
  return EMAIL_RE.test(normalizeEmail(raw));
}
