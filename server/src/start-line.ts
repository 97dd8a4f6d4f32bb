/** Where a person at a terminal goes once the server listens: one line, besides the JSON log. */
export function startLine(input: { baseUrl: string; emptyStore: boolean }): string {
  // a server listening on every address is reached on this machine through loopback
  const base = input.baseUrl.replace('://0.0.0.0', '://127.0.0.1').replace('://[::]', '://[::1]');
  const line = `qrflow is running: API ${base}/api/v1 · console ${base}/ · API reference ${base}/api-docs`;
  if (!input.emptyStore) return line;
  return `${line} · no workspace yet: open ${base}/ to create one, or run npx qrflow init --workspace NAME --email EMAIL --password PASSWORD (10+ characters)`;
}

/** The terminal to write the start line on, if the server runs in one. */
export function terminalStream(): NodeJS.WriteStream | undefined {
  if (process.stderr.isTTY) return process.stderr;
  if (process.stdout.isTTY) return process.stdout;
  return undefined;
}
