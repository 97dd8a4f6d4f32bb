import { iso } from '../clock.js';
import type { Scan } from '../store/scans.js';
import type { EventPayload } from '../store/records.js';

/** The scan object of qr.scanned events, with its code's id and name. */
export interface ScanData {
  id: string;
  qr_id: string;
  qr_name: string | null;
  scanned_at: string;
  country: string;
  device: string;
  os: string;
  browser: string;
  referrer: string;
  is_bot: boolean;
  /** Region and city of the visitor's address where the GeoIP database knows them. */
  region: string | null;
  city: string | null;
  /** The A/B variant (index in the code's `variants`) the scan was sent to, or null. */
  variant: number | null;
}

/** Scans are events too: their ids come from their position in the append-only scan log, so they never change. */
export function scanEvent(index: number, scan: Scan, qrName: string | null): EventPayload {
  const data: ScanData = {
    id: `scn_${index}`,
    qr_id: scan.qrId,
    qr_name: qrName,
    scanned_at: iso(scan.time),
    country: scan.country,
    device: scan.device,
    os: scan.os,
    browser: scan.browser,
    referrer: scan.referrer,
    is_bot: scan.bot,
    region: scan.region ?? null,
    city: scan.city ?? null,
    variant: scan.variant ?? null,
  };
  return { id: `evt_scan_${index}`, type: 'qr.scanned', created_at: data.scanned_at, data };
}
