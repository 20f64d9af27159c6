// The floors' hash table (scripts/bench/floors/count.mjs, columns.mjs): open addressing on the key's
// bytes (FNV-1a, Int32Array slots, keys copied once into one byte store), no string made per row.
// add() counts a key and returns its id (0, 1, 2… in the order keys came), an index into per-key
// typed arrays; past `capacity` a new key is only looked up, never added (-1).
export class ByteTable {
  /** capacity: past it a new key is only looked up, never added (the least a bounded table does). */
  constructor(bits = 16, capacity = Infinity) {
    this.capacity = capacity;
    this.mask = (1 << bits) - 1;
    this.at = new Int32Array(1 << bits).fill(-1);
    this.len = new Int32Array(1 << bits);
    this.count = new Float64Array(1 << bits);
    /** Each key's number in the order keys came (0, 1, 2…): an index into per-key arrays. */
    this.id = new Int32Array(1 << bits);
    this.store = Buffer.alloc(1 << 22);
    this.used = 0;
    this.size = 0;
  }
  static hash(bytes, from, n) {
    let h = 0x811c9dc5 | 0;
    for (let j = from; j < from + n; j++) h = Math.imul(h ^ bytes[j], 16777619);
    return h;
  }
  /** Twice the slots when half are used (the keys stay in the store). */
  grow() {
    const { at, len, count, id } = this;
    this.mask = at.length * 2 - 1;
    this.at = new Int32Array(at.length * 2).fill(-1);
    this.len = new Int32Array(at.length * 2);
    this.count = new Float64Array(at.length * 2);
    this.id = new Int32Array(at.length * 2);
    for (let i = 0; i < at.length; i++) {
      if (at[i] < 0) continue;
      let s = ByteTable.hash(this.store, at[i], len[i]) & this.mask;
      while (this.at[s] >= 0) s = (s + 1) & this.mask;
      this.at[s] = at[i];
      this.len[s] = len[i];
      this.count[s] = count[i];
      this.id[s] = id[i];
    }
  }
  /** Adds another table's counts (a worker's, cloned by postMessage). */
  merge(other) {
    for (let i = 0; i < other.at.length; i++) {
      if (other.at[i] < 0) continue;
      const key = Buffer.from(other.store.buffer, other.store.byteOffset + other.at[i], other.len[i]);
      this.add(key, other.len[i], other.count[i]);
    }
  }
  /** Counts the key made of key[0, n) (a scratch buffer), `by` rows; its id, or -1 past the capacity. */
  add(key, n, by = 1) {
    if (this.size * 2 > this.mask) this.grow();
    const h = ByteTable.hash(key, 0, n);
    for (let s = h & this.mask; ; s = (s + 1) & this.mask) {
      const o = this.at[s];
      if (o < 0) {
        if (this.size >= this.capacity) return -1;
        if (this.used + n > this.store.length) {
          const bigger = Buffer.alloc(this.store.length * 2);
          this.store.copy(bigger);
          this.store = bigger;
        }
        key.copy(this.store, this.used, 0, n);
        this.at[s] = this.used;
        this.len[s] = n;
        this.count[s] = by;
        this.id[s] = this.size;
        this.used += n;
        return this.size++;
      }
      if (this.len[s] === n && this.store.compare(key, 0, n, o, o + n) === 0) {
        this.count[s] += by;
        return this.id[s];
      }
    }
  }
}
