/**
 * The page-cache operations reclaim needs, gathered so vmscan.ts reads like
 * shrink_folio_list(): pageout() of one dirty folio through the file
 * system's writeback, and __remove_mapping() of a clean unmapped one.
 */
import type { Kernel } from "../kernel.js";
import { type AddressSpace, folio_file_mapping } from "../fs/inode.js";
import { filemap_remove_folio } from "./filemap.js";
import { write_cache_pages, WB_SYNC_ALL } from "./page_writeback.js";
import { PAGE_SIZE } from "../include/mmzone.js";

export { folio_file_mapping };

/** pageout(): write this one folio back (->writepages over its index). */
export function folio_writeout(k: Kernel, mapping: AddressSpace, folio: number): void {
  if (!mapping.canWriteback) return;
  const pos = k.memmap.index(folio) * PAGE_SIZE;
  write_cache_pages(k, mapping, {
    sync_mode: WB_SYNC_ALL,
    range_start: pos,
    range_end: pos + PAGE_SIZE - 1,
    async: false,
  });
}

/** __remove_mapping() + free: the folio leaves the page cache and, unreferenced, is freed. */
export function folio_free_from_cache(k: Kernel, folio: number): void {
  filemap_remove_folio(k, folio);
}
