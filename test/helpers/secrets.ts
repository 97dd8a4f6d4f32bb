import fs from 'node:fs';
import path from 'node:path';

export interface SecretFinding {
  secret: string;
  where: string;
}

/** Every regular file under a directory (the snapshot, .wal, .wal.1, .scans, .scans.dict, .salt, plans…). */
function filesUnder(directory: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/**
 * Searches the data directory's files and the given texts (logs, delivery logs) for each secret, in clear.
 * Returns what was found and a count of the places searched; an empty list is the only good answer.
 */
export function findSecrets(secrets: Iterable<string>, places: { dataDir?: string; texts?: Record<string, string> }): { findings: SecretFinding[]; searched: string[] } {
  const haystacks: Array<{ where: string; text: string }> = [];
  if (places.dataDir) {
    for (const file of filesUnder(places.dataDir)) haystacks.push({ where: file, text: fs.readFileSync(file).toString('latin1') });
  }
  for (const [where, text] of Object.entries(places.texts ?? {})) haystacks.push({ where, text });
  const findings: SecretFinding[] = [];
  for (const secret of new Set(secrets)) {
    if (secret.length < 8) throw new Error(`refusing to search for a secret this short: ${JSON.stringify(secret)}`);
    for (const { where, text } of haystacks) if (text.includes(secret)) findings.push({ secret: `${secret.slice(0, 12)}…`, where });
  }
  return { findings, searched: haystacks.map((h) => h.where) };
}
