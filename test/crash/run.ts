import { runCrashCampaign } from './campaign.js';

/**
 * `npm run test:crash`: the long crash campaign (20 SIGKILLs by default; QRFLOW_CRASH_KILLS and
 * QRFLOW_CRASH_SEED change it). Exits non-zero on any failed check.
 */
const kills = Number(process.env.QRFLOW_CRASH_KILLS ?? 20);
const seed = process.env.QRFLOW_CRASH_SEED ? Number(process.env.QRFLOW_CRASH_SEED) : undefined;
const started = Date.now();
const result = await runCrashCampaign({ kills, ...(seed !== undefined ? { seed } : {}), log: (line) => console.log(line) });
const seconds = ((Date.now() - started) / 1000).toFixed(1);
console.log(
  [
    `crash campaign (seed ${result.seed}): ${result.kills} kills survived in ${seconds} s`,
    `writes: ${result.acknowledgedWrites} acknowledged (all present), ${result.rejectedWrites} rejected (none present), ${result.uncertainWrites} unanswered at a kill`,
    `scans lost per kill: at most ${result.scansLostMax} (bound: answered within the last second); usage calls lost per kill: at most ${result.usageLostMax}`,
    result.webhooks.enabled ? `webhooks: ${result.webhooks.delivered}/${result.webhooks.expected} expected events delivered, ${result.webhooks.duplicates} duplicates` : 'webhooks: not available',
    `secrets found: ${result.secrets.findings.length} in ${result.secrets.searched} places searched`,
    result.failures.length ? `FAILED: ${result.failures.length} checks\n${result.failures.join('\n')}` : 'all checks passed',
  ].join('\n'),
);
process.exit(result.failures.length ? 1 : 0);
