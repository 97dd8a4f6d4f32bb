/** A time condition, compiled: minutes of the day and ISO weekdays (1 Monday … 7 Sunday). */
export interface TimeWindow {
  from: number;
  to: number;
  tz: string;
  /** Bit n set: the window opens on ISO weekday n. */
  weekdays: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formats = new Map<string, Intl.DateTimeFormat>();
/** The last local time worked out per zone: scans within the same minute reuse it. */
const lastLocal = new Map<string, { minute: number; weekday: number; minutes: number }>();

function formatOf(tz: string): Intl.DateTimeFormat {
  let format = formats.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', weekday: 'short', hour: '2-digit', minute: '2-digit' });
    formats.set(tz, format);
  }
  return format;
}

/** The wall-clock weekday and minute of the day in `tz` at `now` (Intl's zone data: DST-correct). */
export function localTime(tz: string, now: number): { weekday: number; minutes: number } {
  const minute = Math.floor(now / 60_000);
  const cached = lastLocal.get(tz);
  if (cached && cached.minute === minute) return cached;
  let weekday = 0;
  let hour = 0;
  let minutes = 0;
  for (const part of formatOf(tz).formatToParts(now)) {
    if (part.type === 'weekday') weekday = WEEKDAYS[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minutes = Number(part.value);
  }
  const local = { minute, weekday, minutes: hour * 60 + minutes };
  if (lastLocal.size > 1000) lastLocal.clear();
  lastLocal.set(tz, local);
  return local;
}

function clockMinutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

export function compileTimeWindow(condition: { from: string; to: string; tz: string; weekdays?: number[] | undefined }): TimeWindow {
  let weekdays = 0;
  for (const day of condition.weekdays ?? [1, 2, 3, 4, 5, 6, 7]) weekdays |= 1 << day;
  return { from: clockMinutes(condition.from), to: clockMinutes(condition.to), tz: condition.tz, weekdays };
}

/**
 * Whether `now` falls in the window: from <= local time < to on one of its weekdays. A window with from > to spans
 * midnight and belongs to the day it opens on (Friday 22:00–02:00 includes Saturday 01:00, not Friday 01:00).
 * A zone the runtime no longer knows never matches.
 */
export function inTimeWindow(window: TimeWindow, now: number): boolean {
  let local: { weekday: number; minutes: number };
  try {
    local = localTime(window.tz, now);
  } catch {
    return false;
  }
  if (window.from < window.to) return local.minutes >= window.from && local.minutes < window.to && opensOn(window, local.weekday);
  if (local.minutes >= window.from) return opensOn(window, local.weekday);
  return local.minutes < window.to && opensOn(window, local.weekday === 1 ? 7 : local.weekday - 1);
}

/** Top level, not a closure per call: under tsx every named closure made is also renamed (esbuild's keepNames). */
function opensOn(window: TimeWindow, weekday: number): boolean {
  return (window.weekdays & (1 << weekday)) !== 0;
}
