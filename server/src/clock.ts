/** The source of time for every rule that depends on it (expiry, month rollover, renew limits). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests can set and advance. */
export class ManualClock implements Clock {
  constructor(private current: number = Date.parse('2026-01-15T12:00:00Z')) {}
  now(): number {
    return this.current;
  }
  set(time: number | string | Date): void {
    this.current = typeof time === 'number' ? time : new Date(time).getTime();
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

export function iso(time: number): string {
  return new Date(time).toISOString();
}
