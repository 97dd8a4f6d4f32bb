import { describe, expect, it } from 'vitest';
import { runCrashCampaign } from './crash/campaign.js';

describe('crash safety (short form; npm run test:crash runs 20 kills)', () => {
  it('survives 3 SIGKILLs under a mixed write load: acknowledged writes kept, rejected ones absent, scans and usage within their bounds, deliveries sent once', async () => {
    const lines: string[] = [];
    const result = await runCrashCampaign({ kills: 3, log: (line) => lines.push(line) });
    console.log(`crash (seed ${result.seed}): ${result.kills} kills survived, ${result.acknowledgedWrites} acknowledged writes checked, ${result.rejectedWrites} rejected, webhooks ${result.webhooks.delivered}/${result.webhooks.expected} delivered, secrets found ${result.secrets.findings.length}`);
    expect(result.failures, lines.join('\n')).toEqual([]);
    expect(result.kills).toBe(3);
    expect(result.acknowledgedWrites).toBeGreaterThan(10);
    expect(result.rejectedWrites).toBeGreaterThan(0);
    expect(result.secrets.findings).toEqual([]);
  }, 120_000);
});
