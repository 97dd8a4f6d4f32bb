import type { Bundle, ZObject } from 'zapier-platform-core';

import { apiUrl, type Page } from './api.js';

/**
 * Fetches one page of a newest-first qrflow list for a trigger with `canPaginate`. Zapier asks for page 0
 * first and then page 1, 2, ... ; the opaque `next_cursor` of each page is kept in Zapier's cursor store
 * (z.cursor), because the bundle itself carries only the page number.
 */
export async function fetchPage<T>(
  z: ZObject,
  bundle: Bundle,
  path: string,
  params: Record<string, string | number | undefined>,
): Promise<T[]> {
  const page = bundle.meta?.page ?? 0;
  const cursor = page > 0 ? await z.cursor.get() : null;
  if (page > 0 && !cursor) return []; // the previous page was the last one

  const response = await z.request<Page<T>>({
    url: apiUrl(bundle, path),
    params: withoutEmpty({ ...params, cursor: cursor ?? undefined }),
  });
  const { data, pagination } = response.data;
  // An empty cursor marks the end, so a later "load more" cannot resume from a stale position.
  await z.cursor.set(pagination?.next_cursor ?? '');
  return data;
}

function withoutEmpty(params: Record<string, string | number | undefined>): Record<string, string | number> {
  return Object.fromEntries(
    Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== ''),
  );
}
