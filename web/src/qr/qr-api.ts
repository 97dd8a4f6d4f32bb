import { api, describeError, withQuery } from '../api/client';
import { modeHeaders } from '../api/mode';
import type { Pagination, QrCode } from '../api/types';

export interface QrFilters {
  search?: string;
  tag?: string;
  status?: 'active' | 'paused' | '';
  cursor?: string | null;
  limit?: number;
}

export const qrApi = {
  list: (filters: QrFilters) => api.get<{ data: QrCode[]; pagination: Pagination }>(withQuery('/api/v1/qr', { limit: filters.limit ?? 20, ...filters })),
  get: async (id: string) => (await api.get<{ data: QrCode }>(`/api/v1/qr/${encodeURIComponent(id)}`)).data,
  create: async (body: Record<string, unknown>) => (await api.post<{ data: QrCode }>('/api/v1/qr', body)).data,
  update: async (id: string, body: Record<string, unknown>) => (await api.patch<{ data: QrCode }>(`/api/v1/qr/${encodeURIComponent(id)}`, body)).data,
  remove: (id: string) => api.delete<{ data: { id: string; deleted: true } }>(`/api/v1/qr/${encodeURIComponent(id)}`),
};

/** The image URL of a saved code (the session cookie authenticates it). */
export function imageUrl(qr: QrCode, format: 'png' | 'svg', size: number): string {
  return withQuery(`/api/v1/qr/${encodeURIComponent(qr.id)}/image`, { format, size });
}

/**
 * The image as a Blob, revalidated with the server (its ETag follows the style), so an edit shows at once instead of
 * the copy the browser may keep for five minutes.
 */
export async function fetchImage(qr: QrCode, format: 'png' | 'svg', size: number): Promise<Blob> {
  const response = await fetch(imageUrl(qr, format, size), { credentials: 'same-origin', cache: 'no-cache', headers: modeHeaders() });
  if (!response.ok) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    throw describeError(response.status, body);
  }
  return response.blob();
}

/** Splits "spring, flyer" into tags. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))];
}
