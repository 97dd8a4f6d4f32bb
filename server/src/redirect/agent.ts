import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';

/** What the redirect's device, OS and browser conditions see of a user agent: the names analytics reports. */
export interface VisitorAgent {
  device: string;
  os: string;
  browser: string;
  bot: boolean;
}

const LIMIT = 10_000;
const agents = new Map<string, VisitorAgent>();

/** The parsed user agent, cached (a few distinct agents make most scans); parsed as recorder.ts does for analytics. */
export function agentOf(userAgent: string): VisitorAgent {
  let agent = agents.get(userAgent);
  if (!agent) {
    const parsed = UAParser(userAgent);
    const bot = userAgent.trim() === '' || isbot(userAgent);
    agent = { device: bot ? 'bot' : (parsed.device.type ?? 'desktop'), os: parsed.os.name ?? 'unknown', browser: parsed.browser.name ?? 'unknown', bot };
    if (agents.size >= LIMIT) agents.clear();
    agents.set(userAgent, agent);
  }
  return agent;
}
