import { api } from '../api/client';
import type { ApiKey, ApiKeyWithSecret, KeyActivity, Scope } from '../api/types';

export const RENEWALS_PER_DAY = 5;
const UNUSED_DAYS = 90;

export const keysApi = {
  list: async () => (await api.get<{ data: ApiKey[] }>('/api/v1/keys')).data,
  create: async (body: { name: string; scopes: Scope[]; expires_at?: string | null; password: string; mode?: 'test' }) =>
    (await api.post<{ data: ApiKeyWithSecret }>('/api/v1/keys', body)).data,
  pause: async (id: string) => (await api.post<{ data: ApiKey }>(`/api/v1/keys/${encodeURIComponent(id)}/pause`)).data,
  resume: async (id: string) => (await api.post<{ data: ApiKey }>(`/api/v1/keys/${encodeURIComponent(id)}/resume`)).data,
  renew: async (id: string) => (await api.post<{ data: ApiKeyWithSecret }>(`/api/v1/keys/${encodeURIComponent(id)}/renew`, {})).data,
  revoke: async (id: string) => (await api.delete<{ data: ApiKey }>(`/api/v1/keys/${encodeURIComponent(id)}`)).data,
  activity: async (id: string) => (await api.get<{ data: KeyActivity[] }>(`/api/v1/keys/${encodeURIComponent(id)}/activity`)).data,
};

/** Active keys nobody has used (or that were created and never used) for 90 days: candidates for revoking. */
export function isStale(key: ApiKey, now = Date.now()): boolean {
  if (key.status !== 'active') return false;
  const last = Date.parse(key.last_used_at ?? key.created_at);
  return now - last > UNUSED_DAYS * 24 * 3600 * 1000;
}

/** Drops the secret from a key we were shown once, keeping the rest for the list. */
export function withoutSecret({ secret: _secret, ...key }: ApiKeyWithSecret): ApiKey {
  return key;
}

export const STATUS_LABEL: Record<ApiKey['status'], string> = { active: 'Active', paused: 'Paused', revoked: 'Revoked', expired: 'Expired' };
