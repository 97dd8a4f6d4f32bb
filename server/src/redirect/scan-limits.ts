/** How long a process trusts its count of a limited code before it asks the scan storage again. */
export const SCAN_LIMIT_REFRESH_MS = 5_000;

interface Counted {
  count: number;
  /** When the stored count was last read (ms, the process clock). */
  readAt: number;
  loading: Promise<number> | undefined;
}

/**
 * The counted (non-bot) scans of codes with max_scans, in memory: the stored count (ScanStorage.humanCount) read
 * when a code is first scanned here, plus this process's own scans since. Within one process the limit is exact
 * (the check and the count are one synchronous step). Other processes' scans are learnt by re-reading the stored
 * count at most every SCAN_LIMIT_REFRESH_MS, in the background, keeping the larger of the two figures: both are
 * lower bounds of the true count, so a refresh can only catch up, never count a scan twice.
 */
export class ScanLimits {
  private readonly codes = new Map<string, Counted>();

  constructor(
    private readonly storedCount: (qrId: string) => Promise<number>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The counted scans of a code (a promise only while its stored count is first read). */
  count(qrId: string): number | Promise<number> {
    const held = this.codes.get(qrId);
    if (!held) return this.load(qrId);
    if (held.loading) return held.loading;
    if (this.now() - held.readAt >= SCAN_LIMIT_REFRESH_MS) this.refresh(qrId, held);
    return held.count;
  }

  /** One more counted scan of a code whose count is held. */
  add(qrId: string): void {
    const held = this.codes.get(qrId);
    if (held) held.count++;
  }

  private load(qrId: string): Promise<number> {
    const held: Counted = { count: 0, readAt: this.now(), loading: undefined };
    held.loading = this.storedCount(qrId).then(
      (stored) => {
        held.count = Math.max(held.count, stored);
        held.loading = undefined;
        return held.count;
      },
      (error: unknown) => {
        // not remembered: the next scan asks again
        this.codes.delete(qrId);
        throw error;
      },
    );
    if (this.codes.size >= 100_000) this.codes.clear();
    this.codes.set(qrId, held);
    return held.loading;
  }

  private refresh(qrId: string, held: Counted): void {
    held.readAt = this.now();
    this.storedCount(qrId).then(
      (stored) => {
        if (stored > held.count) held.count = stored;
      },
      () => undefined,
    );
  }
}
