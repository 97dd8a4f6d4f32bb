import { exactTime, timeAgo } from './time';

/** A relative time ("3 minutes ago") with the exact time in its tooltip and datetime attribute. */
export function RelativeTime({ iso, fallback = 'Never' }: { iso: string | null | undefined; fallback?: string }) {
  if (!iso) return <span class="muted">{fallback}</span>;
  return (
    <time dateTime={iso} title={exactTime(iso)}>
      {timeAgo(iso)}
    </time>
  );
}
