/**
 * memmap: the array of struct page, kept as struct-of-arrays typed arrays.
 *
 * Like SPARSEMEM, storage is allocated lazily, here per pageblock (512 pages,
 * 2 MiB), so a 1 TiB machine costs a directory until memory is touched. A page
 * costs 24 bytes: flags, refcount, mapcount, content, mapping, index.
 *
 * Large folios keep their folio-wide counters in the first tail page, as the
 * kernel does (struct folio overlays page[1]):
 *   page[1].refcount → _pincount          (tail refcounts are otherwise 0)
 *   page[1].mapping  → _large_mapcount    (mappings of any part of the folio)
 *   page[1].index    → _entire_mapcount   (PMD/PUD mappings of the whole folio)
 * Free buddy pages reuse mapping/index as the free-list links (page->lru).
 * `content` stands in for the page's bytes: one word per 4 KiB page.
 * Folios are naturally aligned, so a page's head is `pfn & ~(nr - 1)`.
 */
import { PG, PG_ORDER_MASK, PG_ORDER_SHIFT } from "../include/page_flags.js";

export const MEMMAP_CHUNK_SHIFT = 9;
export const MEMMAP_CHUNK_PAGES = 1 << MEMMAP_CHUNK_SHIFT;
const CHUNK_MASK = MEMMAP_CHUNK_PAGES - 1;
/** Bytes of memmap per page: six 32-bit fields. */
export const MEMMAP_BYTES_PER_PAGE = 24;
/** "no pfn" in free-list links and lookups */
export const NIL = 0xffffffff;

export class MemChunk {
  readonly flags: Uint32Array;
  readonly refcount: Int32Array;
  readonly mapcount: Int32Array;
  readonly content: Uint32Array;
  readonly mapping: Uint32Array;
  readonly index: Uint32Array;
  constructor() {
    const n = MEMMAP_CHUNK_PAGES;
    const buf = new ArrayBuffer(n * MEMMAP_BYTES_PER_PAGE);
    this.flags = new Uint32Array(buf, 0, n);
    this.refcount = new Int32Array(buf, n * 4, n);
    this.mapcount = new Int32Array(buf, n * 8, n);
    this.content = new Uint32Array(buf, n * 12, n);
    this.mapping = new Uint32Array(buf, n * 16, n);
    this.index = new Uint32Array(buf, n * 20, n);
  }
}

export class MemMap {
  readonly nrPages: number;
  private readonly chunks: (MemChunk | null)[];
  private nrChunks = 0;

  constructor(nrPages: number) {
    this.nrPages = nrPages;
    const n = Math.ceil(nrPages / MEMMAP_CHUNK_PAGES);
    // A packed array of nulls keeps V8 in fast elements even for 2^19 entries.
    this.chunks = [];
    for (let i = 0; i < n; i++) this.chunks.push(null);
  }

  /** The chunk holding pfn, allocated (zeroed) on first touch. */
  chunk(pfn: number): MemChunk {
    const i = pfn >>> MEMMAP_CHUNK_SHIFT;
    let c = this.chunks[i];
    if (c === null) {
      c = new MemChunk();
      this.chunks[i] = c;
      this.nrChunks++;
    }
    return c;
  }

  /** True when no page of the chunk was ever touched (pristine boot memory). */
  isPristine(pfn: number): boolean {
    return this.chunks[pfn >>> MEMMAP_CHUNK_SHIFT] === null;
  }

  bytesAllocated(): number {
    return this.nrChunks * MEMMAP_CHUNK_PAGES * MEMMAP_BYTES_PER_PAGE;
  }

  touchedChunks(): number {
    return this.nrChunks;
  }

  /** Every allocated chunk with its first pfn, for invariant checks. */
  *allocatedChunks(): Generator<[number, MemChunk]> {
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i];
      if (c) yield [i << MEMMAP_CHUNK_SHIFT, c];
    }
  }

  // --- struct page fields -------------------------------------------------
  flags(pfn: number): number {
    return this.chunk(pfn).flags[pfn & CHUNK_MASK];
  }
  test(pfn: number, bit: number): boolean {
    return (this.chunk(pfn).flags[pfn & CHUNK_MASK] & bit) !== 0;
  }
  set(pfn: number, bit: number): void {
    this.chunk(pfn).flags[pfn & CHUNK_MASK] |= bit;
  }
  clear(pfn: number, bit: number): void {
    this.chunk(pfn).flags[pfn & CHUNK_MASK] &= ~bit;
  }
  setFlagsWord(pfn: number, v: number): void {
    this.chunk(pfn).flags[pfn & CHUNK_MASK] = v;
  }
  refcount(pfn: number): number {
    return this.chunk(pfn).refcount[pfn & CHUNK_MASK];
  }
  setRefcount(pfn: number, v: number): void {
    this.chunk(pfn).refcount[pfn & CHUNK_MASK] = v;
  }
  addRefcount(pfn: number, d: number): number {
    const c = this.chunk(pfn);
    const i = pfn & CHUNK_MASK;
    // Int32 wraps like atomic_t: overflow checks live in the callers (try_get_folio).
    c.refcount[i] += d;
    return c.refcount[i];
  }
  mapcount(pfn: number): number {
    return this.chunk(pfn).mapcount[pfn & CHUNK_MASK];
  }
  addMapcount(pfn: number, d: number): number {
    const c = this.chunk(pfn);
    const i = pfn & CHUNK_MASK;
    c.mapcount[i] += d;
    return c.mapcount[i];
  }
  setMapcount(pfn: number, v: number): void {
    this.chunk(pfn).mapcount[pfn & CHUNK_MASK] = v;
  }
  content(pfn: number): number {
    return this.chunk(pfn).content[pfn & CHUNK_MASK];
  }
  setContent(pfn: number, v: number): void {
    this.chunk(pfn).content[pfn & CHUNK_MASK] = v >>> 0;
  }
  mapping(pfn: number): number {
    return this.chunk(pfn).mapping[pfn & CHUNK_MASK];
  }
  setMapping(pfn: number, v: number): void {
    this.chunk(pfn).mapping[pfn & CHUNK_MASK] = v;
  }
  index(pfn: number): number {
    return this.chunk(pfn).index[pfn & CHUNK_MASK];
  }
  setIndex(pfn: number, v: number): void {
    this.chunk(pfn).index[pfn & CHUNK_MASK] = v >>> 0;
  }

  // --- folio geometry -----------------------------------------------------
  /** folio_order() of the folio containing pfn (0 for small folios and free pages). */
  order(pfn: number): number {
    return (this.flags(pfn) & PG_ORDER_MASK) >>> PG_ORDER_SHIFT;
  }
  /** page_folio(): the head pfn of the folio containing pfn. */
  head(pfn: number): number {
    const f = this.flags(pfn);
    if (!(f & PG.tail)) return pfn;
    const order = (f & PG_ORDER_MASK) >>> PG_ORDER_SHIFT;
    return pfn - (pfn & ((1 << order) - 1));
  }
  /** Stamp order, head and tail bits on every page of a new folio. */
  makeFolio(head: number, order: number, extraFlags: number): void {
    const nr = 1 << order;
    const orderBits = (order << PG_ORDER_SHIFT) >>> 0;
    for (let p = head; p < head + nr; p++) {
      const c = this.chunk(p);
      const i = p & CHUNK_MASK;
      c.flags[i] = orderBits | extraFlags | (p === head ? (order > 0 ? PG.head : 0) : PG.tail);
      c.refcount[i] = 0;
      c.mapcount[i] = 0;
      c.mapping[i] = 0;
      c.index[i] = 0;
    }
  }
}
