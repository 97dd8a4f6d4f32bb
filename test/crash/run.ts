import { runCrashCampaign } from './campaign.js';
import { runPostgresCrashCampaign } from './postgres.js';

/**
 * `npm run test:crash`: the long crash campaign (20 SIGKILLs by default; QRFLOW_CRASH_KILLS and
 * QRFLOW_CRASH_SEED change it). Exits non-zero on any failed check.
 */
const kills = Number(process.env.QRFLOW_CRASH_KILLS ?? 20);
const seed = process.env.QRFLOW_CRASH_SEED ? Number(process.env.QRFLOW_CRASH_SEED) : undefined;
const started = Date.now();

// `npm run test:crash -- --store postgres`: two processes on one PostgreSQL database (see postgres.ts)
const storeFlag = process.argv.indexOf('--store');
if (storeFlag >= 0 && process.argv[storeFlag + 1] === 'postgres') {
  const pg = await runPostgresCrashCampaign({ kills: Number(process.env.QRFLOW_CRASH_KILLS ?? 10), ...(seed !== undefined ? { seed } : {}), log: (line) => console.log(line) });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (pg.skipped) console.log(`crash campaign on PostgreSQL skipped: ${pg.skipped}`);
  console.log(
    [
      `crash campaign on PostgreSQL, 2 processes (seed ${pg.seed}): ${pg.kills} kills and one database cut survived in ${seconds} s`,
      `writes: ${pg.acknowledgedWrites} acknowledged (all present), ${pg.rejectedWrites} rejected (none present), ${pg.uncertainWrites} without a clear answer, ${pg.unavailableAnswers} answered 503 database_unavailable`,
      `webhooks: ${pg.webhooks.delivered}/${pg.webhooks.expected} qr.created events delivered, ${pg.webhooks.duplicates} duplicates (at least once)`,
      pg.failures.length ? `FAILED: ${pg.failures.length} checks\n${pg.failures.join('\n')}` : 'all checks passed',
    ].join('\n'),
  );
  process.exit(pg.failures.length ? 1 : 0);
}

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
