import { z } from 'zod';

export const CreateDomainBody = z
  .object({ hostname: z.string().min(1).max(253).meta({ example: 'go.acme.com', description: 'A public DNS name you control; its short links are served at https://<hostname>/<short_code>.' }) })
  .strict()
  .meta({ id: 'CreateDomainRequest' });
export type CreateDomainBody = z.infer<typeof CreateDomainBody>;

export const DomainSchema = z
  .object({
    id: z.string().meta({ example: 'dom_3kT9aQ2mZ0pL1x' }),
    hostname: z.string().meta({ example: 'go.acme.com' }),
    status: z.enum(['pending', 'verified']),
    verification: z.object({
      type: z.literal('TXT'),
      name: z.string().meta({ example: '_qrflow.go.acme.com' }),
      value: z.string().meta({ example: 'qrflow-verify=8fK2mP0aZx91QeLr4tW7yB3nC6vD0sH2' }),
    }),
    created_at: z.string(),
    verified_at: z.string().nullable(),
  })
  .meta({ id: 'Domain' });
export type DomainView = z.infer<typeof DomainSchema>;
