/**
 * Folio accessors and reference counting: include/linux/mm.h, include/linux/page_ref.h,
 * mm/swap.c (folio_put → __folio_put). A folio is named by its head pfn.
 */
import { PG } from "../include/page_flags.js";
import type { Kernel } from "../kernel.js";

/** include/linux/mm.h: GUP_PIN_COUNTING_BIAS */
export const GUP_PIN_COUNTING_BIAS = 1024;

export function page_folio(k: Kernel, pfn: number): number {
  return k.memmap.head(pfn);
}
export function folio_order(k: Kernel, folio: number): number {
  return k.memmap.order(folio);
}
export function folio_nr_pages(k: Kernel, folio: number): number {
  return 1 << k.memmap.order(folio);
}
export function folio_test_large(k: Kernel, folio: number): boolean {
  return k.memmap.order(folio) > 0;
}
export function folio_test(k: Kernel, folio: number, bit: number): boolean {
  return k.memmap.test(folio, bit);
}
export function folio_test_anon(k: Kernel, folio: number): boolean {
  return k.memmap.test(folio, PG.anon);
}
export function folio_test_hugetlb(k: Kernel, folio: number): boolean {
  return k.memmap.test(folio, PG.hugetlb);
}
export function folio_ref_count(k: Kernel, folio: number): number {
  return k.memmap.refcount(folio);
}
export function folio_get(k: Kernel, folio: number): void {
  k.memmap.addRefcount(folio, 1);
}
export function folio_ref_add(k: Kernel, folio: number, nr: number): void {
  k.memmap.addRefcount(folio, nr);
}

/** include/linux/mm.h: is_zero_folio(): the 4 KiB shared zero page only. */
export function is_zero_folio(k: Kernel, folio: number): boolean {
  return folio === k.zeroPfn;
}

/** include/linux/huge_mm.h: is_huge_zero_folio() */
export function is_huge_zero_folio(k: Kernel, folio: number): boolean {
  return folio === k.hugeZeroPfn;
}

/**
 * folio_put(): drop a reference; at zero the folio is freed (to the buddy
 * allocator, or back to its hugetlb pool). Returns true if it was freed.
 */
export function folio_put(k: Kernel, folio: number): boolean {
  return folio_put_refs(k, folio, 1);
}

export function folio_put_refs(k: Kernel, folio: number, nr: number): boolean {
  const r = k.memmap.addRefcount(folio, -nr);
  if (r > 0) return false;
  if (r < 0) {
    k.bug("mm/swap.c: folio_put()", `refcount of folio ${folio} went negative (${r})`);
    return false;
  }
  k.freeFolio(folio);
  return true;
}

/** Large folios keep counters in page[1] (see memmap.ts). */
export function folio_pincount(k: Kernel, folio: number): number {
  return k.memmap.refcount(folio + 1);
}
export function folio_add_pincount(k: Kernel, folio: number, d: number): void {
  k.memmap.addRefcount(folio + 1, d);
}
export function folio_large_mapcount(k: Kernel, folio: number): number {
  return k.memmap.mapping(folio + 1);
}
export function folio_add_large_mapcount(k: Kernel, folio: number, d: number): void {
  k.memmap.setMapping(folio + 1, k.memmap.mapping(folio + 1) + d);
}
export function folio_entire_mapcount(k: Kernel, folio: number): number {
  return k.memmap.index(folio + 1);
}
export function folio_add_entire_mapcount(k: Kernel, folio: number, d: number): void {
  k.memmap.setIndex(folio + 1, k.memmap.index(folio + 1) + d);
}

/** folio_mapcount(): how many page-table entries map (part of) the folio. */
export function folio_mapcount(k: Kernel, folio: number): number {
  return folio_test_large(k, folio) ? folio_large_mapcount(k, folio) : k.memmap.mapcount(folio);
}
export function folio_mapped(k: Kernel, folio: number): boolean {
  return folio_mapcount(k, folio) > 0;
}

/**
 * include/linux/mm.h: folio_maybe_dma_pinned(). Large folios: exact _pincount.
 * Small folios: refcount ≥ GUP_PIN_COUNTING_BIAS — false positives allowed
 * (1024 plain references look pinned), never false negatives.
 */
export function folio_maybe_dma_pinned(k: Kernel, folio: number): boolean {
  if (folio_test_large(k, folio)) return folio_pincount(k, folio) > 0;
  return k.memmap.refcount(folio) >>> 0 >= GUP_PIN_COUNTING_BIAS;
}

/** PageAnonExclusive() of one page (for hugetlb the head's bit stands for the folio) */
export function PageAnonExclusive(k: Kernel, pfn: number): boolean {
  const hugetlb = k.memmap.test(pfn, PG.hugetlb);
  return k.memmap.test(hugetlb ? k.memmap.head(pfn) : pfn, PG.anon_exclusive);
}
export function SetPageAnonExclusive(k: Kernel, pfn: number): void {
  k.memmap.set(k.memmap.test(pfn, PG.hugetlb) ? k.memmap.head(pfn) : pfn, PG.anon_exclusive);
}
export function ClearPageAnonExclusive(k: Kernel, pfn: number): void {
  k.memmap.clear(k.memmap.test(pfn, PG.hugetlb) ? k.memmap.head(pfn) : pfn, PG.anon_exclusive);
}

/** Content of each page of a folio is copied (copy_user_highpage / folio_copy). */
export function folio_copy_content(k: Kernel, dst: number, src: number, nr: number): void {
  for (let i = 0; i < nr; i++) k.memmap.setContent(dst + i, k.memmap.content(src + i));
}

/**
 * include/linux/mm.h: folio_expected_ref_count(): references the folio should
 * have from page cache (one per page), swap cache, PG_private (one) and
 * mappings. Anything above it (plus the caller's own) is an unexpected
 * reference: a pin, a GUP ref, a pipe's vmsplice ref.
 */
export function folio_expected_ref_count(k: Kernel, folio: number): number {
  const order = k.memmap.order(folio);
  let ref = 0;
  if (k.memmap.test(folio, PG.anon)) {
    if (k.memmap.test(folio, PG.swapcache)) ref += 1 << order;
  } else {
    if (k.memmap.mapping(folio) !== 0) ref += 1 << order;
    if (k.memmap.test(folio, PG.private)) ref += 1;
  }
  return ref + folio_mapcount(k, folio);
}
