/**
 * Bits of the model's per-page flags word (struct page::flags), named after
 * include/linux/page-flags.h. Bit positions are the model's own; names and
 * meanings are the kernel's. Page types the kernel keeps in page_type
 * (buddy, hugetlb) and the anon bit it keeps in mapping's low bit
 * (PAGE_MAPPING_ANON) live here too, so one word answers every test.
 */
export const PG = {
  locked: 1 << 0,
  referenced: 1 << 1,
  uptodate: 1 << 2,
  dirty: 1 << 3,
  lru: 1 << 4,
  head: 1 << 5,
  active: 1 << 6,
  /** PG_private: the block fs attached buffer_heads (folio_buffers() != NULL) */
  private: 1 << 7,
  writeback: 1 << 8,
  swapbacked: 1 << 9,
  unevictable: 1 << 10,
  mlocked: 1 << 11,
  hwpoison: 1 << 12,
  /** PAGE_MAPPING_ANON: folio_test_anon() */
  anon: 1 << 13,
  /** PG_anon_exclusive (per page, also on tail pages) */
  anon_exclusive: 1 << 14,
  /** a tail page of a large folio (compound_head() != page) */
  tail: 1 << 15,
  ksm: 1 << 16,
  /** PGTY_buddy: free, on a buddy free list; order in the order field */
  buddy: 1 << 17,
  /** PGTY_hugetlb: a hugetlb folio (pool or in use) */
  hugetlb: 1 << 18,
  /** folio_test_large_rmappable(): THP / mTHP / large page cache */
  large_rmappable: 1 << 19,
  /** PG_reserved: never handed to the buddy allocator (the zero page) */
  reserved: 1 << 20,
  swapcache: 1 << 21,
  /** allocated by the kernel for itself (slab, page tables): not user memory */
  kernel: 1 << 22,
  /** on a pagevec/LRU isolation list (folio_isolate_lru succeeded) */
  isolated: 1 << 23,
} as const;

export type PageFlagName = keyof typeof PG;

/** The folio order is kept in bits 24..28 of every page of the folio. */
export const PG_ORDER_SHIFT = 24;
export const PG_ORDER_MASK = 0x1f << PG_ORDER_SHIFT;

export function formatPageFlags(flags: number): string {
  const out: string[] = [];
  for (const [name, bit] of Object.entries(PG)) if (flags & bit) out.push(name);
  return out.join("|");
}
