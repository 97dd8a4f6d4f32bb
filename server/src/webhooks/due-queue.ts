/** An entry of the due queue: which delivery, for which subscription, and when it is due (ms). */
export interface DueEntry {
  id: string;
  webhookId: string;
  at: number;
}

/**
 * The worker's in-memory schedule: a binary min-heap by due time. Rescheduling pushes a new entry;
 * the latest time per id wins and older entries are skipped when they surface.
 */
export class DueQueue {
  private readonly heap: DueEntry[] = [];
  private readonly latest = new Map<string, number>();

  get size(): number {
    return this.latest.size;
  }

  has(id: string): boolean {
    return this.latest.has(id);
  }

  push(entry: DueEntry): void {
    if (this.latest.get(entry.id) === entry.at) return;
    this.latest.set(entry.id, entry.at);
    this.heap.push(entry);
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.before(parent, i)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the earliest entry due at or before `now`, or undefined. */
  popDue(now: number): DueEntry | undefined {
    for (;;) {
      const top = this.heap[0];
      if (!top) return undefined;
      if (this.latest.get(top.id) !== top.at) {
        this.removeTop();
        continue;
      }
      if (top.at > now) return undefined;
      this.removeTop();
      this.latest.delete(top.id);
      return top;
    }
  }

  delete(id: string): void {
    this.latest.delete(id);
  }

  private removeTop(): void {
    const last = this.heap.pop() as DueEntry;
    if (this.heap.length === 0) return;
    this.heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heap.length && !this.before(smallest, left)) smallest = left;
      if (right < this.heap.length && !this.before(smallest, right)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private before(a: number, b: number): boolean {
    return (this.heap[a] as DueEntry).at <= (this.heap[b] as DueEntry).at;
  }

  private swap(a: number, b: number): void {
    const t = this.heap[a] as DueEntry;
    this.heap[a] = this.heap[b] as DueEntry;
    this.heap[b] = t;
  }
}
