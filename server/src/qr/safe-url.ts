import { z } from 'zod';

/** http(s) only, no embedded credentials: javascript:, data:, file: and user:pass@ URLs are refused. */
export const SafeUrl = z
  .string()
  .trim()
  .min(1)
  .max(2048)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute http or https URL' });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `the ${url.protocol} scheme is not allowed; use http or https` });
    else if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'URLs with embedded credentials are not allowed' });
    else if (!url.hostname) ctx.addIssue({ code: 'custom', message: 'the URL needs a host' });
  })
  .meta({ example: 'https://example.com/spring-sale', format: 'uri' });
