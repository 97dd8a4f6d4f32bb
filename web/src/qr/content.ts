import type { QrType } from '../api/types';

/** The fields each type's content has, in form order, with their labels. */
export const CONTENT_FIELDS: Record<Exclude<QrType, 'url'>, Array<{ name: string; label: string; required?: boolean; kind?: 'textarea' | 'email' | 'tel' | 'url' | 'select' | 'checkbox'; options?: string[] }>> = {
  text: [{ name: 'text', label: 'Text', required: true, kind: 'textarea' }],
  email: [
    { name: 'to', label: 'To (email address)', required: true, kind: 'email' },
    { name: 'subject', label: 'Subject' },
    { name: 'body', label: 'Body', kind: 'textarea' },
  ],
  phone: [{ name: 'number', label: 'Phone number', required: true, kind: 'tel' }],
  sms: [
    { name: 'number', label: 'Phone number', required: true, kind: 'tel' },
    { name: 'message', label: 'Message', kind: 'textarea' },
  ],
  wifi: [
    { name: 'ssid', label: 'Network name (SSID)', required: true },
    { name: 'password', label: 'Wi-Fi password' },
    { name: 'encryption', label: 'Encryption', kind: 'select', options: ['WPA', 'WEP', 'nopass'] },
    { name: 'hidden', label: 'Hidden network', kind: 'checkbox' },
  ],
  vcard: [
    { name: 'first_name', label: 'First name', required: true },
    { name: 'last_name', label: 'Last name' },
    { name: 'organization', label: 'Organization' },
    { name: 'title', label: 'Job title' },
    { name: 'phone', label: 'Phone', kind: 'tel' },
    { name: 'email', label: 'Email', kind: 'email' },
    { name: 'url', label: 'Website', kind: 'url' },
    { name: 'address', label: 'Address' },
  ],
};

export const TYPE_LABEL: Record<QrType, string> = { url: 'Website (URL)', text: 'Text', email: 'Email', phone: 'Phone call', sms: 'SMS', wifi: 'Wi-Fi', vcard: 'Contact (vCard)' };

/** Content without empty optional fields (the server refuses "" for most of them). */
export function cleanContent(content: Record<string, string | boolean>): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const [key, value] of Object.entries(content)) if (value !== '' && value !== undefined) out[key] = value;
  return out;
}

/** Roughly what the code will encode, for the preview image (the server builds the real payload). */
export function previewText(type: QrType, destination: string, content: Record<string, string | boolean>, dynamic: boolean): string {
  if (type === 'url') return dynamic ? `${location.origin}/r/preview` : destination;
  const c = content;
  switch (type) {
    case 'text':
      return String(c.text ?? '');
    case 'email':
      return c.to ? `mailto:${c.to}` : '';
    case 'phone':
      return c.number ? `tel:${String(c.number).replace(/[^0-9+]/g, '')}` : '';
    case 'sms':
      return c.number ? `SMSTO:${String(c.number).replace(/[^0-9+]/g, '')}:${c.message ?? ''}` : '';
    case 'wifi':
      return c.ssid ? `WIFI:T:${c.encryption || 'WPA'};S:${c.ssid};${c.password ? `P:${c.password};` : ''};` : '';
    case 'vcard':
      return c.first_name ? `BEGIN:VCARD\nVERSION:3.0\nN:${c.last_name ?? ''};${c.first_name}\nEND:VCARD` : '';
  }
}
