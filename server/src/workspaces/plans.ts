import fs from 'node:fs';
import { z } from 'zod';

export const Plan = z
  .object({
    name: z.string().min(1),
    api_access: z.boolean(),
    requests_per_minute: z.number().int().positive(),
    monthly_api_calls: z.number().int().nonnegative(),
    monthly_image_credits: z.number().int().nonnegative(),
    max_qr_codes: z.number().int().nonnegative(),
    max_api_keys: z.number().int().nonnegative(),
    /** Custom domains a workspace may have (pending ones count); a plans file without it gives 0. */
    max_domains: z.number().int().nonnegative().default(0),
  })
  .strict();
export type Plan = z.infer<typeof Plan>;

/** The built-in plans; `QRFLOW_PLANS_FILE` can replace or add to them. */
export const BUILT_IN_PLANS: Record<string, Plan> = {
  free: { name: 'Free', api_access: false, requests_per_minute: 30, monthly_api_calls: 0, monthly_image_credits: 0, max_qr_codes: 10, max_api_keys: 0, max_domains: 0 },
  team: { name: 'Team', api_access: true, requests_per_minute: 120, monthly_api_calls: 50_000, monthly_image_credits: 5_000, max_qr_codes: 1_000, max_api_keys: 5, max_domains: 3 },
  business: { name: 'Business', api_access: true, requests_per_minute: 600, monthly_api_calls: 500_000, monthly_image_credits: 50_000, max_qr_codes: 25_000, max_api_keys: 25, max_domains: 10 },
  enterprise: { name: 'Enterprise', api_access: true, requests_per_minute: 3_000, monthly_api_calls: 10_000_000, monthly_image_credits: 1_000_000, max_qr_codes: 1_000_000, max_api_keys: 250, max_domains: 100 },
};

const PlansFile = z.record(z.string().regex(/^[a-z0-9_-]{1,32}$/), Plan);

/** The plan table: built-ins merged with the plans file, if one is named. Throws with the file name on a bad file. */
export function loadPlans(plansFile?: string): Record<string, Plan> {
  if (!plansFile) return { ...BUILT_IN_PLANS };
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(plansFile, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the plans file ${plansFile}: ${(error as Error).message}`);
  }
  const parsed = PlansFile.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`The plans file ${plansFile} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return { ...BUILT_IN_PLANS, ...parsed.data };
}
