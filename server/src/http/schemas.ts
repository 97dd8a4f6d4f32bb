import { z } from 'zod';

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'validation_error' }),
      message: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
    request_id: z.string(),
  })
  .meta({ id: 'Error' });

export const IdParams = z.object({ id: z.string().min(1).max(64) });

export const Pagination = z
  .object({ limit: z.number().int(), has_more: z.boolean(), next_cursor: z.string().nullable() })
  .meta({ id: 'Pagination' });

/** `{ data: T }` */
export function envelope<T extends z.ZodType>(schema: T) {
  return z.object({ data: schema });
}
