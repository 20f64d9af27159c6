/** Above this many 32-bit words (about 3.7 years of hours) a set switches to a sparse map of words. */
const MAX_DENSE_WORDS = 1024;

/**
 * A set of non-negative integers (hour or day numbers since 1970): one inline number while it holds one
 * value, then a bitset over the range seen so far. A key seen in one hour costs no allocation, one seen
 * during a month about 90 bytes whatever the number of records, which is
 * what keeps `stats` memory flat in the number of records. A set whose range grows past a few years
 * (a log with a bogus date) turns into a map of words, so one odd record cannot cost megabytes.
 * The field names start with `ix` because a statistic's Usage is itself the set of its hours (one
 * object per table key instead of two: src/stats/statistic.ts).
 */
export class IndexSet {
  /** The first value, kept inline: most keys (an ephemeral port, a one-off address) are seen in one hour only. */
  private ixFirst = -1;
  private ixBase = 0;
  /**
   * The bits as 32-bit signed integers in a plain array: small integers to V8, so a set of a few words
   * costs a small array instead of a typed array with its buffer (two of these per table entry).
   */
  private ixWords: number[] | undefined;
  private ixSparse: Map<number, number> | undefined;
  private ixLast = -1;
  private ixCount = 0;

  get size(): number {
    return this.ixCount;
  }

  add(index: number): void {
    if (index === this.ixLast) return;
    this.ixLast = index;
    if (this.ixFirst < 0) {
      this.ixFirst = index;
      this.ixCount = 1;
      return;
    }
    if (index === this.ixFirst) return;
    if (this.ixSparse) return this.addSparse(index);
    if (!this.ixWords) {
      // Second distinct value: from now on a bitset, which holds the first value too.
      const first = this.ixFirst;
      this.ixBase = Math.min(first, index) - (Math.min(first, index) & 31);
      const length = Math.max(2, Math.ceil((Math.max(first, index) - this.ixBase + 1) / 32));
      if (length > MAX_DENSE_WORDS) {
        this.ixSparse = new Map();
        this.ixCount = 0;
        this.addSparse(first);
        return this.addSparse(index);
      }
      this.ixWords = new Array<number>(length).fill(0);
      this.ixCount = 0;
      this.setDense(first);
      return this.setDense(index);
    } else if ((index < this.ixBase || index >= this.ixBase + this.ixWords.length * 32) && !this.regrow(index)) {
      return this.addSparse(index);
    }
    this.setDense(index);
  }

  private setDense(index: number): void {
    const word = (index - this.ixBase) >>> 5;
    const bit = 1 << (index & 31);
    if ((this.ixWords![word]! & bit) === 0) {
      this.ixWords![word] = this.ixWords![word]! | bit;
      this.ixCount++;
    }
  }

  private addSparse(index: number): void {
    const key = index >>> 5;
    const bit = 1 << (index & 31);
    const word = this.ixSparse!.get(key) ?? 0;
    if ((word & bit) === 0) {
      this.ixSparse!.set(key, word | bit);
      this.ixCount++;
    }
  }

  /** The values in increasing order (stats --partial saves them). */
  values(): number[] {
    const out: number[] = [];
    if (this.ixFirst < 0) return out;
    if (this.ixSparse) {
      for (const key of [...this.ixSparse.keys()].sort((a, b) => a - b)) pushBits(out, key * 32, this.ixSparse.get(key)!);
    } else if (this.ixWords) {
      this.ixWords.forEach((word, i) => pushBits(out, this.ixBase + i * 32, word));
    } else out.push(this.ixFirst);
    return out;
  }

  has(index: number): boolean {
    if (index === this.ixFirst) return true;
    if (this.ixSparse) return ((this.ixSparse.get(index >>> 5) ?? 0) & (1 << (index & 31))) !== 0;
    if (!this.ixWords || index < this.ixBase) return false;
    const word = (index - this.ixBase) >>> 5;
    return word < this.ixWords.length && (this.ixWords[word]! & (1 << (index & 31))) !== 0;
  }

  /**
   * Grows to cover `index`, doubling so that a key seen every hour is not copied every hour. Returns
   * false when the range became too wide and the set switched to sparse words instead.
   */
  private regrow(index: number): boolean {
    const old = this.ixWords!;
    const oldEnd = this.ixBase + old.length * 32 - 1;
    let low = Math.min(index, this.ixBase);
    let high = Math.max(index, oldEnd);
    if ((high - low) / 32 > MAX_DENSE_WORDS) {
      this.ixSparse = new Map();
      old.forEach((word, i) => word !== 0 && this.ixSparse!.set((this.ixBase >>> 5) + i, word));
      this.ixWords = undefined;
      return false;
    }
    const target = Math.max(high - low + 1, old.length * 64);
    if (index < this.ixBase) low = Math.max(0, high - target + 1);
    else high = low + target - 1;
    low -= low & 31;
    const words = new Array<number>(Math.ceil((high - low + 1) / 32)).fill(0);
    const offset = (this.ixBase - low) >>> 5;
    for (let i = 0; i < old.length; i++) words[offset + i] = old[i]!;
    this.ixWords = words;
    this.ixBase = low;
    return true;
  }
}

function pushBits(out: number[], base: number, word: number): void {
  for (let bit = 0; word !== 0 && bit < 32; bit++) {
    if (word & (1 << bit)) {
      out.push(base + bit);
      word &= ~(1 << bit);
    }
  }
}
