/**
 * Reclaim (mm/vmscan.c: shrink_folio_list(); mm/rmap.c: try_to_unmap();
 * mm/madvise.c: MADV_PAGEOUT → reclaim_pages()). The model has no swap
 * device, so anonymous and shmem memory is never freed; page-cache folios
 * are unmapped, written out if dirty, and freed when nothing else holds
 * them. A pin changes the ending (P7): a maybe-pinned anon folio is kept
 * before a swap slot would even be allocated; a pinned page-cache folio is
 * unmapped from every page table first (the next access faults the same
 * folio back in) and then activated — neither written, freed, nor stripped
 * of its buffers.
 */
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import { try_to_free_buffers } from "../fs/buffer.js";
import { folio_file_mapping, folio_free_from_cache, folio_writeout } from "./reclaim_io.js";
import type { Kernel } from "../kernel.js";
import { folio_expected_ref_count, folio_mapcount, folio_maybe_dma_pinned } from "./folio.js";
import type { MmStruct } from "./mm_types.js";
import { LEVEL_NONE, walk_addr } from "./pagewalk.js";
import { zap_page_range } from "./memory.js";
import { rmap_walk } from "./rmap.js";

export interface ReclaimResult {
  scanned: number;
  freed: number;
  /** kept because maybe pinned */
  keptPinned: number[];
}

/** try_to_unmap(): remove every PTE mapping the (small, file) folio. */
function try_to_unmap(k: Kernel, folio: number): void {
  rmap_walk(k, folio, (vma, addr, _first, nr) => {
    for (let i = 0; i < nr; i++) {
      const a = addr + i * PAGE_SIZE;
      const w = walk_addr(vma.vm_mm, a);
      if (w.level === LEVEL_NONE || !(w.bits & PTE.PRESENT) || k.memmap.head(w.pfn) !== folio) continue;
      zap_page_range(k, vma, a, a + PAGE_SIZE);
    }
  });
}

/** shrink_folio_list() for one folio: true if it was freed. */
export function shrink_folio(k: Kernel, folio: number, res: ReclaimResult): boolean {
  const mm = k.memmap;
  res.scanned++;
  if (
    !mm.test(folio, PG.lru) ||
    mm.test(folio, PG.hugetlb) ||
    mm.refcount(folio) === 0 ||
    mm.order(folio) > 0
  )
    return false;
  const pinned = folio_maybe_dma_pinned(k, folio);
  if (mm.test(folio, PG.anon) || mm.test(folio, PG.swapbacked)) {
    // anon: "if (folio_maybe_dma_pinned(folio)) goto keep_locked" before add_to_swap();
    // without swap space there is nowhere to put it anyway (shmem likewise, after unmapping)
    if (!mm.test(folio, PG.anon)) try_to_unmap(k, folio);
    if (pinned) res.keptPinned.push(folio);
    k.trace.emit(pinned ? "reclaim_keep_pinned" : "reclaim_no_swap", "mm/vmscan.c: shrink_folio_list()", {
      pfn: folio,
      pinned,
    });
    return false;
  }
  const mapping = folio_file_mapping(k, folio);
  if (!mapping) return false;
  // file folios are unmapped whatever their pins
  if (folio_mapcount(k, folio) > 0) try_to_unmap(k, folio);
  if (pinned) {
    // "if (folio_maybe_dma_pinned(folio)) goto activate_locked": not written, not freed,
    // buffers kept
    mm.set(folio, PG.active);
    res.keptPinned.push(folio);
    k.trace.emit("reclaim_activate_pinned", "mm/vmscan.c: shrink_folio_list()", {
      pfn: folio,
      inode: mapping.id,
    });
    return false;
  }
  if (mm.test(folio, PG.dirty)) folio_writeout(k, mapping, folio); // pageout()
  if (mm.test(folio, PG.dirty) || mm.test(folio, PG.writeback)) return false;
  // filemap_release_folio() → try_to_free_buffers(), then __remove_mapping()'s refcount freeze
  if (!try_to_free_buffers(k, folio)) return false;
  if (mm.refcount(folio) !== folio_expected_ref_count(k, folio)) return false;
  folio_free_from_cache(k, folio);
  res.freed++;
  k.trace.emit("reclaim_free", "mm/vmscan.c: __remove_mapping()", { pfn: folio, inode: mapping.id });
  return true;
}

/** MADV_PAGEOUT over [start, end): reclaim what this process maps there. */
export function madvise_pageout(k: Kernel, mm: MmStruct, start: number, end: number): ReclaimResult {
  const res: ReclaimResult = { scanned: 0, freed: 0, keptPinned: [] };
  const seen = new Set<number>();
  for (let a = start; a < end; a += PAGE_SIZE) {
    const w = walk_addr(mm, a);
    if (w.level === LEVEL_NONE || !(w.bits & PTE.PRESENT) || w.bits & PTE.SPECIAL) continue;
    const folio = k.memmap.head(w.pfn);
    if (seen.has(folio)) continue;
    seen.add(folio);
    shrink_folio(k, folio, res);
  }
  return res;
}

/** "kernel: reclaim()": one pass of shrink_folio_list() over every LRU folio. */
export function reclaim_all(k: Kernel): ReclaimResult {
  const res: ReclaimResult = { scanned: 0, freed: 0, keptPinned: [] };
  const folios: number[] = [];
  for (const [base, c] of k.memmap.allocatedChunks())
    for (let i = 0; i < c.flags.length; i++)
      if (c.flags[i] & PG.lru && !(c.flags[i] & PG.tail) && c.refcount[i] > 0) folios.push(base + i);
  for (const f of folios) shrink_folio(k, f, res);
  return res;
}
