import QRCode from 'qrcode';
import type { QrRecord } from '../store/records.js';

/** Bytes a version-40 QR code holds in byte mode, per error-correction level. */
const BYTE_CAPACITY = { L: 2953, M: 2331, Q: 1663, H: 1273 } as const;

/**
 * Whether a payload fits in the largest QR code at this error-correction level. Byte mode is the worst case, so
 * anything within its capacity fits at once; longer payloads (numeric or alphanumeric runs pack tighter) ask the encoder.
 */
export function fitsInQrCode(text: string, level: keyof typeof BYTE_CAPACITY): boolean {
  if (Buffer.byteLength(text, 'utf8') <= BYTE_CAPACITY[level]) return true;
  try {
    QRCode.create(text, { errorCorrectionLevel: level });
    return true;
  } catch {
    return false;
  }
}

/** Escapes the characters MECARD-style WIFI payloads reserve. */
function wifiEscape(value: string): string {
  return value.replace(/([\\;,:"])/g, '\\$1');
}

/** Escapes vCard 3.0 text values. */
function vcardEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/([,;])/g, '\\$1');
}

/** The text a code encodes: the short link for dynamic codes, the content itself for static ones. */
export function encodedPayload(qr: QrRecord, shortUrl: string | null): string {
  if (qr.mode === 'dynamic') return shortUrl ?? '';
  const c = (qr.content ?? {}) as Record<string, string | boolean | undefined>;
  switch (qr.type) {
    case 'url':
      return qr.destination_url ?? '';
    case 'text':
      return String(c.text ?? '');
    case 'email': {
      const params = new URLSearchParams();
      if (c.subject) params.set('subject', String(c.subject));
      if (c.body) params.set('body', String(c.body));
      const query = params.toString().replace(/\+/g, '%20');
      return `mailto:${c.to}${query ? `?${query}` : ''}`;
    }
    case 'phone':
      return `tel:${String(c.number).replace(/[^0-9+]/g, '')}`;
    case 'sms':
      return `SMSTO:${String(c.number).replace(/[^0-9+]/g, '')}:${c.message ?? ''}`;
    case 'wifi': {
      const parts = [`T:${c.encryption ?? 'WPA'}`, `S:${wifiEscape(String(c.ssid))}`];
      if (c.password && c.encryption !== 'nopass') parts.push(`P:${wifiEscape(String(c.password))}`);
      if (c.hidden) parts.push('H:true');
      return `WIFI:${parts.join(';')};;`;
    }
    case 'vcard': {
      const lines = ['BEGIN:VCARD', 'VERSION:3.0'];
      const first = String(c.first_name ?? '');
      const last = c.last_name ? String(c.last_name) : '';
      lines.push(`N:${vcardEscape(last)};${vcardEscape(first)};;;`, `FN:${vcardEscape([first, last].filter(Boolean).join(' '))}`);
      if (c.organization) lines.push(`ORG:${vcardEscape(String(c.organization))}`);
      if (c.title) lines.push(`TITLE:${vcardEscape(String(c.title))}`);
      if (c.phone) lines.push(`TEL:${c.phone}`);
      if (c.email) lines.push(`EMAIL:${c.email}`);
      if (c.url) lines.push(`URL:${c.url}`);
      if (c.address) lines.push(`ADR:;;${vcardEscape(String(c.address))};;;;`);
      lines.push('END:VCARD');
      return lines.join('\n');
    }
  }
}
