/**
 * A set of 32-bit visitor hashes in one typed array (open addressing, linear probing). Counting the distinct
 * visitors of a year of scans adds up to millions of values: a JS Set boxes every hash above 2^30 as a heap number
 * and is several times slower; this keeps the analytics query within its bench target.
 */
export class VisitorSet {
  private slots: Uint32Array;
  private mask: number;
  /** Hash 0 cannot mark a free slot, so it is tracked on the side. */
  private hasZero = false;
  private used = 0;

  constructor(expected = 16) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.slots = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.used + (this.hasZero ? 1 : 0);
  }

  add(value: number): void {
    const v = value >>> 0;
    if (v === 0) {
      this.hasZero = true;
      return;
    }
    // the hashes are already uniform (SHA-256 bits); a multiply spreads sequential test values too
    let i = Math.imul(v, 0x9e3779b1) >>> 0 & this.mask;
    for (;;) {
      const slot = this.slots[i] as number;
      if (slot === v) return;
      if (slot === 0) break;
      i = (i + 1) & this.mask;
    }
    this.slots[i] = v;
    if (++this.used * 2 > this.slots.length) this.grow();
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = this.slots.length - 1;
    for (const v of old) {
      if (v === 0) continue;
      let i = Math.imul(v, 0x9e3779b1) >>> 0 & this.mask;
      while (this.slots[i] !== 0) i = (i + 1) & this.mask;
      this.slots[i] = v;
    }
  }
}
