/**
 * PageArray: a page array for GUP to fill (the kernel's `struct page
 * **pages`) that records the subpages of a huge mapping as one *run*
 * (start, pfn, len) — entry start + j holds pfn + j — instead of len
 * entries. Entries outside runs are kept one by one in a dense Int32Array.
 *
 * Runs are sorted by start and disjoint; a run is the truth for the entries
 * it covers. get(i) is indexed access (O(1) for a sequential scan through
 * a cursor, O(log runs) otherwise). With runs, a 2 MiB folio costs one
 * record when pinned (gup_fast_pmd_leaf()'s `*(pages++) = page++` loop) and
 * one check when unpinned (gup_folio_next()'s per-entry scan), where an
 * array of pfns costs 512 of each.
 */
/**
 * Identity tables (pfn → pfn), one per 512 pfns, so a run's dense entries
 * are one native copy. Two levels of packed arrays: an array indexed by
 * sparse block numbers would fall back to a slow dictionary.
 */
const IOTA_SHIFT = 9;
const IOTA_PAGES = 1 << IOTA_SHIFT;
const IOTA_MASK = IOTA_PAGES - 1;
const IOTA_DIR_SHIFT = 10;
const IOTA_DIR_MASK = (1 << IOTA_DIR_SHIFT) - 1;
const IOTA: (Int32Array | null)[][] = [];
function iota(block: number): Int32Array {
  const hi = block >>> IOTA_DIR_SHIFT;
  while (IOTA.length <= hi) IOTA.push([]);
  const dir = IOTA[hi];
  const lo = block & IOTA_DIR_MASK;
  while (dir.length <= lo) dir.push(null);
  let t = dir[lo];
  if (t === null) {
    t = new Int32Array(IOTA_PAGES);
    const base = block * IOTA_PAGES;
    for (let i = 0; i < IOTA_PAGES; i++) t[i] = base + i;
    dir[lo] = t;
  }
  return t;
}

/**
 * a[base + j] = pfn + j for j < n, as native copies from the identity
 * tables (a loop of stores costs several times more per entry).
 */
export function fill_consecutive(a: Int32Array, base: number, pfn: number, n: number): void {
  if (pfn < 0 || pfn + n > 0x7fffffff) {
    for (let j = 0; j < n; j++) a[base + j] = pfn + j;
    return;
  }
  while (n > 0) {
    const off = pfn & IOTA_MASK;
    const cnt = Math.min(n, IOTA_PAGES - off);
    const t = iota(pfn >>> IOTA_SHIFT);
    a.set(cnt === IOTA_PAGES ? t : t.subarray(off, off + cnt), base);
    base += cnt;
    pfn += cnt;
    n -= cnt;
  }
}

export class PageArray {
  /** the number of entries, like an array's length */
  readonly length: number;
  /** entries outside runs; inside a run the value here is stale */
  private readonly dense: Int32Array;
  /** run r covers entries [runStart[r], runStart[r] + runLen[r]) with pfns runPfn[r] + offset */
  private runStart: Int32Array = new Int32Array(8);
  private runPfn: Int32Array = new Int32Array(8);
  private runLen: Int32Array = new Int32Array(8);
  private nr = 0;
  /** a run index near the last lookup, for sequential scans */
  private cursor = 0;

  constructor(length: number) {
    this.length = length;
    this.dense = new Int32Array(length);
  }

  /** A PageArray holding the given pfns, none of them in runs. */
  static from(pfns: ArrayLike<number>): PageArray {
    const a = new PageArray(pfns.length);
    a.dense.set(pfns);
    return a;
  }

  /** How many runs are recorded. */
  get nrRuns(): number {
    return this.nr;
  }

  /** The recorded runs as [start, pfn, len] triples, for tests and debugging. */
  runs(): [number, number, number][] {
    const out: [number, number, number][] = [];
    for (let r = 0; r < this.nr; r++) out.push([this.runStart[r], this.runPfn[r], this.runLen[r]]);
    return out;
  }

  /** pages[i] (PAGE_NULL for a cleared entry). */
  get(i: number): number {
    if (this.nr === 0) return this.dense[i];
    const r = this.firstEndingAfter(i);
    this.cursor = r;
    if (r < this.nr && this.runStart[r] <= i) return this.runPfn[r] + (i - this.runStart[r]);
    return this.dense[i];
  }

  /** pages[i] = pfn. */
  setPage(i: number, pfn: number): void {
    this.cut(i, i + 1);
    this.dense[i] = pfn;
  }

  /** pages[i + j] = pfn + j for j < n: the subpages of one huge mapping, recorded as a run. */
  setRun(i: number, pfn: number, n: number): void {
    if (n <= 0) return;
    this.cut(i, i + n);
    if (n === 1) {
      this.dense[i] = pfn;
      return;
    }
    // the first run at or after i: cut() left none overlapping [i, i + n)
    let r = this.nr;
    if (r > 0 && this.runStart[r - 1] >= i) r = this.lowerBound(i);
    // the walk fills in address order, so runs of physically contiguous folios merge
    if (r > 0) {
      const p = r - 1;
      if (
        this.runStart[p] + this.runLen[p] === i &&
        this.runPfn[p] + this.runLen[p] === pfn &&
        this.runLen[p] + n <= 0x7fffffff
      ) {
        this.runLen[p] += n;
        this.cursor = p;
        return;
      }
    }
    this.insertRun(r, i, pfn, n);
  }

  /**
   * The dense store for entries [lo, hi), for a loop that writes them one
   * by one (GUP-fast's PTE loop): their values move out of any run first, so
   * entries the loop does not reach keep them.
   */
  denseFor(lo: number, hi: number): Int32Array {
    if (this.nr !== 0 && hi > lo) {
      for (let r = this.firstEndingAfter(lo); r < this.nr && this.runStart[r] < hi; r++) {
        const s = Math.max(this.runStart[r], lo);
        const e = Math.min(this.runStart[r] + this.runLen[r], hi);
        fill_consecutive(this.dense, s, this.runPfn[r] + (s - this.runStart[r]), e - s);
      }
      this.cut(lo, hi);
    }
    return this.dense;
  }

  /** The entries themselves when no run is recorded (then the dense store holds them all), else null. */
  plain(): Int32Array | null {
    return this.nr === 0 ? this.dense : null;
  }

  /** The entries as a plain array of pfns (a copy). */
  toInt32Array(start = 0, end = this.length): Int32Array {
    const out = this.dense.slice(start, end);
    for (let r = this.firstEndingAfter(start); r < this.nr && this.runStart[r] < end; r++) {
      const s = Math.max(this.runStart[r], start);
      const e = Math.min(this.runStart[r] + this.runLen[r], end);
      fill_consecutive(out, s - start, this.runPfn[r] + (s - this.runStart[r]), e - s);
    }
    return out;
  }

  /** A copy of entries [start, end) with their runs. */
  slice(start = 0, end = this.length): PageArray {
    start = Math.max(0, Math.min(start, this.length));
    end = Math.max(start, Math.min(end, this.length));
    const out = new PageArray(end - start);
    out.dense.set(this.dense.subarray(start, end));
    for (let r = this.firstEndingAfter(start); r < this.nr && this.runStart[r] < end; r++) {
      const s = Math.max(this.runStart[r], start);
      const e = Math.min(this.runStart[r] + this.runLen[r], end);
      if (e - s >= 2) out.insertRun(out.nr, s - start, this.runPfn[r] + (s - this.runStart[r]), e - s);
      else out.dense[s - start] = this.runPfn[r] + (s - this.runStart[r]);
    }
    return out;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  /**
   * Forget the runs over entries [lo, hi), which the caller overwrites
   * next: runs inside are dropped, runs across an end are trimmed or split.
   */
  private cut(lo: number, hi: number): void {
    const nr = this.nr;
    if (nr === 0 || hi <= lo) return;
    // the common cases: nothing recorded at or after lo
    if (this.runStart[nr - 1] + this.runLen[nr - 1] <= lo) return;
    const r = this.firstEndingAfter(lo);
    if (r >= nr || this.runStart[r] >= hi) return;
    const s = this.runStart[r];
    const e = s + this.runLen[r];
    if (s < lo && e > hi) {
      // [lo, hi) strictly inside run r: split it in two
      this.runLen[r] = lo - s;
      this.insertRun(r + 1, hi, this.runPfn[r] + (hi - s), e - hi);
      return;
    }
    let first = r;
    if (s < lo) {
      this.runLen[r] = lo - s;
      first = r + 1;
    }
    let last = first; // runs [first, last) lie inside [lo, hi)
    while (last < this.nr && this.runStart[last] + this.runLen[last] <= hi) last++;
    if (last < this.nr && this.runStart[last] < hi) {
      const d = hi - this.runStart[last];
      this.runStart[last] = hi;
      this.runPfn[last] += d;
      this.runLen[last] -= d;
    }
    this.removeRuns(first, last);
  }

  /**
   * gup_folio_next()'s scan: how many consecutive entries from i (i ≤ n ≤
   * length) hold a pfn in [lo, hi). Inside a run the answer is arithmetic;
   * entries outside runs are looked at one by one.
   */
  spanIn(i: number, n: number, lo: number, hi: number): number {
    let j = i;
    let r = this.firstEndingAfter(j);
    const nr = this.nr;
    while (j < n) {
      if (r < nr && this.runStart[r] <= j) {
        const s = this.runStart[r];
        const q = this.runPfn[r] + (j - s);
        if (q < lo || q >= hi) break;
        const runEnd = Math.min(s + this.runLen[r], n);
        const take = Math.min(runEnd - j, hi - q);
        j += take;
        if (j < runEnd) break; // the run leaves [lo, hi)
        r++;
      } else {
        const q = this.dense[j];
        if (q < lo || q >= hi) break;
        j++;
      }
    }
    this.cursor = r;
    return j - i;
  }

  /** Throws unless the runs are sorted, disjoint, non-empty and inside the array. */
  checkRuns(): void {
    let prevEnd = 0;
    for (let r = 0; r < this.nr; r++) {
      const st = this.runStart[r];
      const len = this.runLen[r];
      if (len < 1 || st < prevEnd || st + len > this.length)
        throw new Error(`PageArray: run ${r} [${st}, +${len}) overlaps another or leaves the array`);
      prevEnd = st + len;
    }
  }

  // --- the run table -------------------------------------------------------------------

  /** The first run ending after entry j (this.nr if none). */
  private firstEndingAfter(j: number): number {
    const c = this.cursor;
    if (
      c <= this.nr &&
      (c === this.nr || this.runStart[c] + this.runLen[c] > j) &&
      (c === 0 || this.runStart[c - 1] + this.runLen[c - 1] <= j)
    )
      return c;
    let lo = 0;
    let hi = this.nr;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.runStart[mid] + this.runLen[mid] <= j) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The first run starting at or after entry j. */
  private lowerBound(j: number): number {
    let lo = 0;
    let hi = this.nr;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.runStart[mid] < j) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertRun(r: number, start: number, pfn: number, len: number): void {
    if (this.nr === this.runStart.length) {
      const grow = (a: Int32Array): Int32Array => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.runStart = grow(this.runStart);
      this.runPfn = grow(this.runPfn);
      this.runLen = grow(this.runLen);
    }
    if (r < this.nr) {
      this.runStart.copyWithin(r + 1, r, this.nr);
      this.runPfn.copyWithin(r + 1, r, this.nr);
      this.runLen.copyWithin(r + 1, r, this.nr);
    }
    this.runStart[r] = start;
    this.runPfn[r] = pfn;
    this.runLen[r] = len;
    this.nr++;
    this.cursor = 0;
  }

  private removeRuns(first: number, last: number): void {
    if (last <= first) return;
    this.runStart.copyWithin(first, last, this.nr);
    this.runPfn.copyWithin(first, last, this.nr);
    this.runLen.copyWithin(first, last, this.nr);
    this.nr -= last - first;
    this.cursor = 0;
  }
}
