/**
 * Live or test data. The choice is per browser tab (sessionStorage, nothing secret) and goes with every API call as
 * the `QR-Mode` header, which the server honours for session-authenticated requests: codes, webhooks, events and
 * analytics then come from the workspace's test partition. Keys, members and usage are shared by both modes.
 */
export type DataMode = 'live' | 'test';

const STORAGE_KEY = 'qrflow.mode';
const listeners = new Set<(mode: DataMode) => void>();

function read(): DataMode {
  try {
    return sessionStorage.getItem(STORAGE_KEY) === 'test' ? 'test' : 'live';
  } catch {
    return 'live';
  }
}

let current: DataMode = read();

export function dataMode(): DataMode {
  return current;
}

export function setDataMode(mode: DataMode): void {
  if (mode === current) return;
  current = mode;
  try {
    if (mode === 'test') sessionStorage.setItem(STORAGE_KEY, 'test');
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage refused (private mode): the choice lasts until the page is reloaded
  }
  for (const listener of listeners) listener(mode);
}

export function onDataModeChange(listener: (mode: DataMode) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The header every API request carries. */
export function modeHeaders(): Record<string, string> {
  return { 'QR-Mode': current };
}
