/**
 * The CMA allocator (mm/cma.c: cma_alloc() → cma_range_alloc()): find a
 * free stretch of the area's bitmap, try alloc_contig_range() on it, and on
 * -EBUSY (a page that could not be migrated — a pin) try the next candidate
 * stretch; any other error stops at once. The result names every folio that
 * blocked an attempt, so a failure can be explained by its pinner.
 */
import { EBUSY, ENOMEM } from "../include/errno.js";
import type { Kernel } from "../kernel.js";
import { NIL } from "./memmap.js";
import { alloc_contig_range, type MigrateFolioFn } from "./page_isolation.js";

export interface CmaArea {
  base: number;
  count: number;
  /** one entry per page: allocated by cma_alloc */
  readonly bitmap: Uint8Array;
  alloc_pages_success: number;
  alloc_pages_fail: number;
}

const areas = new WeakMap<Kernel, CmaArea>();

/** The default CMA area (cma=), or null. */
export function default_cma(k: Kernel): CmaArea | null {
  let a = areas.get(k);
  if (!a && k.cmaRange) {
    const [base, end] = k.cmaRange;
    a = {
      base,
      count: end - base,
      bitmap: new Uint8Array(end - base),
      alloc_pages_success: 0,
      alloc_pages_fail: 0,
    };
    areas.set(k, a);
  }
  return a ?? null;
}

export interface CmaAllocResult {
  /** first pfn of the allocation, or NIL */
  pfn: number;
  /** 0, or the error of the last attempt (-EBUSY, -ENOMEM) */
  ret: number;
  /** folios that blocked attempts, in order */
  blockers: number[];
}

/**
 * cma_alloc(cma, count, align): count pages aligned to 2^align pages.
 * Returns the allocation or NIL with the reason.
 */
export function cma_alloc(k: Kernel, count: number, align: number, migrate: MigrateFolioFn): CmaAllocResult {
  const cma = default_cma(k);
  if (!cma || count <= 0 || count > cma.count) return { pfn: NIL, ret: -ENOMEM, blockers: [] };
  const mask = (1 << align) - 1;
  const blockers: number[] = [];
  let ret = -ENOMEM;
  let start = 0;
  for (;;) {
    const bitmapNo = findZeroArea(cma, start, count, mask);
    if (bitmapNo < 0) break;
    cma.bitmap.fill(1, bitmapNo, bitmapNo + count);
    const pfn = cma.base + bitmapNo;
    const r = alloc_contig_range(k, pfn, pfn + count, "cma_alloc", migrate);
    if (r.ret === 0) {
      cma.alloc_pages_success += count;
      k.trace.emit("cma_alloc", "mm/cma.c: cma_range_alloc()", { pfn, count });
      return { pfn, ret: 0, blockers };
    }
    cma.bitmap.fill(0, bitmapNo, bitmapNo + count);
    ret = r.ret;
    if (r.blocker !== NIL) blockers.push(r.blocker);
    if (r.ret !== -EBUSY) break;
    k.trace.emit("cma_alloc_busy_retry", "mm/cma.c: cma_range_alloc()", { pfn, count, blocker: r.blocker });
    start = bitmapNo + mask + 1;
  }
  cma.alloc_pages_fail += count;
  k.trace.emit("cma_alloc_failed", "mm/cma.c: cma_alloc()", { count, ret, blockers: blockers.join(",") });
  return { pfn: NIL, ret, blockers };
}

/** cma_release(): give an allocation back. */
export function cma_release(k: Kernel, pfn: number, count: number): boolean {
  const cma = default_cma(k);
  if (!cma || pfn < cma.base || pfn + count > cma.base + cma.count) return false;
  for (let p = pfn; p < pfn + count; p++) {
    k.memmap.setRefcount(p, 0);
    k.pa.__free_pages(p, 0);
  }
  cma.bitmap.fill(0, pfn - cma.base, pfn - cma.base + count);
  return true;
}

/** bitmap_find_next_zero_area_off() */
function findZeroArea(cma: CmaArea, start: number, count: number, mask: number): number {
  for (let i = (start + mask) & ~mask; i + count <= cma.count; i = ((i + 1 + mask) & ~mask) >>> 0) {
    let ok = true;
    for (let j = i; j < i + count; j++)
      if (cma.bitmap[j]) {
        ok = false;
        break;
      }
    if (ok) return i;
  }
  return -1;
}
