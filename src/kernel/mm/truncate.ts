/**
 * Truncation and invalidation of the page cache (mm/truncate.c), with
 * unmap_mapping_range() (mm/memory.c) and filemap_release_folio()
 * (mm/filemap.c).
 *
 * Truncate ignores pins (P8, gup-semantics.md §4.3): every page-table entry
 * mapping the folio is zapped, fs-private data is invalidated, the dirty bit
 * cancelled and the folio removed from the page cache. A folio someone else
 * still references — a pin — survives as an orphan with a NULL mapping; the
 * process faults a fresh folio in at that offset, the device keeps the old.
 *
 * Partial pages: contents are one word per page, so a page only partly
 * inside the truncated range keeps its word (the kernel zeroes its tail).
 */
import { EBUSY, EIO } from "../include/errno.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import type { Kernel } from "../kernel.js";
import { type AddressSpace, folio_file_mapping, type Inode } from "../fs/inode.js";
import { try_to_free_buffers } from "../fs/buffer.js";
import { __filemap_remove_folio, filemap_free_folio, folio_detach_private } from "./filemap.js";
import {
  folio_get,
  folio_mapped,
  folio_maybe_dma_pinned,
  folio_nr_pages,
  folio_put,
  folio_ref_count,
} from "./folio.js";
import { unmap_mapping_pages, zap_page_range } from "./memory.js";
import { folio_cancel_dirty, folio_wait_writeback } from "./page_writeback.js";

/** A byte offset meaning "to the end of the file" (lend = -1 in the kernel). */
export const LLONG_MAX = Number.MAX_SAFE_INTEGER;

/**
 * unmap_mapping_range(): zap the mappings of bytes [holebegin,
 * holebegin + holelen) of the file (holelen 0: to the end) in every VMA.
 * Without even_cows only PTEs of the file's own pages go (hole punch keeps
 * private COW copies); with even_cows private COW copies go too (truncate).
 */
export function unmap_mapping_range(
  k: Kernel,
  mapping: AddressSpace,
  holebegin: number,
  holelen: number,
  even_cows: boolean,
): void {
  const first = Math.floor(holebegin / PAGE_SIZE);
  const last = holelen === 0 ? LLONG_MAX : first + Math.ceil(holelen / PAGE_SIZE) - 1;
  if (!even_cows) {
    unmap_mapping_pages(k, mapping.id, first, last);
    return;
  }
  for (const vma of [...mapping.i_mmap]) {
    const vstart = vma.vm_pgoff;
    const vend = vma.vm_pgoff + vma.pages() - 1;
    const zs = Math.max(first, vstart);
    const ze = Math.min(last, vend);
    if (zs > ze) continue;
    zap_page_range(
      k,
      vma,
      vma.vm_start + (zs - vstart) * PAGE_SIZE,
      vma.vm_start + (ze - vstart + 1) * PAGE_SIZE,
    );
  }
}

/** unmap_mapping_folio(): zap every PTE mapping this page-cache folio. */
export function unmap_mapping_folio(k: Kernel, folio: number): void {
  const first = k.memmap.index(folio);
  unmap_mapping_pages(k, k.memmap.mapping(folio), first, first + folio_nr_pages(k, folio) - 1);
}

/**
 * filemap_release_folio() (mm/filemap.c): ask the file system to drop its
 * private data (->release_folio, else try_to_free_buffers()). A folio under
 * writeback cannot be released. Returns true if no private data is left.
 */
export function filemap_release_folio(k: Kernel, folio: number): boolean {
  if (!k.memmap.test(folio, PG.private)) return true;
  if (k.memmap.test(folio, PG.writeback)) return false;
  const mapping = folio_file_mapping(k, folio);
  if (mapping?.a_ops.release_folio) return mapping.a_ops.release_folio(k, folio);
  return try_to_free_buffers(k, folio);
}

/** truncate_cleanup_folio(): unmap, invalidate private data (->invalidate_folio), cancel dirty. */
function truncate_cleanup_folio(k: Kernel, folio: number): void {
  if (folio_mapped(k, folio)) unmap_mapping_folio(k, folio);
  // folio_invalidate() → block_invalidate_folio(): the buffers go whatever their state
  folio_detach_private(k, folio);
  folio_cancel_dirty(k, folio);
}

/**
 * truncate_inode_folio(): remove one folio from the page cache, whoever
 * else holds it. Returns 0, or -EIO if it no longer belongs to mapping.
 */
export function truncate_inode_folio(k: Kernel, mapping: AddressSpace, folio: number): number {
  if (k.memmap.mapping(folio) !== mapping.id) return -EIO;
  folio_get(k, folio); // the lookup's reference (find_lock_entries())
  const index = k.memmap.index(folio);
  truncate_cleanup_folio(k, folio);
  __filemap_remove_folio(k, folio);
  filemap_free_folio(k, mapping, folio);
  const others = folio_ref_count(k, folio) - 1;
  if (k.trace.enabled)
    k.trace.emit("truncate_folio", "mm/truncate.c: truncate_inode_folio()", {
      pfn: folio,
      inode: mapping.id,
      index,
      pinned: folio_maybe_dma_pinned(k, folio),
      orphan: others > 0,
      refcount: others,
    });
  folio_put(k, folio);
  return 0;
}

/**
 * truncate_inode_pages_range(): remove the page-cache folios wholly inside
 * bytes [lstart, lend] (lend inclusive; LLONG_MAX for the end), waiting for
 * writeback first. Pins do not stop it (P8).
 */
export function truncate_inode_pages_range(
  k: Kernel,
  mapping: AddressSpace,
  lstart: number,
  lend: number,
): void {
  if (mapping.nrpages === 0) return;
  const start = Math.ceil(lstart / PAGE_SIZE);
  const end = lend >= LLONG_MAX ? LLONG_MAX : Math.floor((lend + 1) / PAGE_SIZE); // exclusive
  const victims = [...mapping.i_pages.entries()]
    .filter(([index, folio]) => index >= start && index + folio_nr_pages(k, folio) <= end)
    .sort((a, b) => a[0] - b[0]);
  for (const [, folio] of victims) {
    folio_wait_writeback(k, folio);
    truncate_inode_folio(k, mapping, folio);
  }
}

/** truncate_inode_pages(): everything from lstart on. */
export function truncate_inode_pages(k: Kernel, mapping: AddressSpace, lstart: number): void {
  truncate_inode_pages_range(k, mapping, lstart, LLONG_MAX);
}

/** truncate_inode_pages_final(): the inode is being evicted. */
export function truncate_inode_pages_final(k: Kernel, mapping: AddressSpace): void {
  truncate_inode_pages(k, mapping, 0);
}

/**
 * truncate_pagecache(): after i_size went down to newsize, unmap
 * everything past it — private COW copies included (even_cows) — and drop
 * the page cache. The kernel unmaps twice to catch racing COWs; the model
 * has no race.
 */
export function truncate_pagecache(k: Kernel, inode: Inode, newsize: number): void {
  const holebegin = Math.ceil(newsize / PAGE_SIZE) * PAGE_SIZE;
  unmap_mapping_range(k, inode.mapping, holebegin, 0, true);
  truncate_inode_pages(k, inode.mapping, newsize);
}

/** truncate_setsize(): set i_size, and truncate the page cache if it shrank. */
export function truncate_setsize(k: Kernel, inode: Inode, newsize: number): void {
  const old = inode.i_size;
  inode.i_size = newsize;
  if (newsize < old) truncate_pagecache(k, inode, newsize);
}

/**
 * truncate_pagecache_range(): hole punch of bytes [lstart, lend]: unmap
 * the file's pages only (private COW copies stay, unlike truncate) and drop
 * them from the page cache.
 */
export function truncate_pagecache_range(k: Kernel, inode: Inode, lstart: number, lend: number): void {
  const unmapStart = Math.ceil(lstart / PAGE_SIZE) * PAGE_SIZE;
  const unmapEnd = Math.floor((lend + 1) / PAGE_SIZE) * PAGE_SIZE - 1;
  if (unmapEnd > unmapStart)
    unmap_mapping_range(k, inode.mapping, unmapStart, 1 + unmapEnd - unmapStart, false);
  truncate_inode_pages_range(k, inode.mapping, lstart, lend);
}

/**
 * folio_unmap_invalidate(): drop a folio from the page cache unless it
 * cannot be: private data that will not go (busy buffers, writeback) or a
 * folio dirty again. A pin alone does not stop it. Returns 1 or -EBUSY.
 */
export function folio_unmap_invalidate(k: Kernel, mapping: AddressSpace, folio: number): number {
  if (folio_mapped(k, folio)) unmap_mapping_folio(k, folio);
  if (k.memmap.mapping(folio) !== mapping.id) return -EBUSY;
  if (!filemap_release_folio(k, folio)) return -EBUSY;
  if (k.memmap.test(folio, PG.dirty)) return -EBUSY;
  __filemap_remove_folio(k, folio);
  filemap_free_folio(k, mapping, folio);
  return 1;
}

/**
 * invalidate_inode_pages2_range(): drop page indices [start, end] from the
 * page cache (O_DIRECT coherency). Returns 0, or -EBUSY if some folio could
 * not be invalidated (it stays cached).
 */
export function invalidate_inode_pages2_range(
  k: Kernel,
  mapping: AddressSpace,
  start: number,
  end: number,
): number {
  let ret = 0;
  const victims = [...mapping.i_pages.entries()]
    .filter(([index]) => index >= start && index <= end)
    .sort((a, b) => a[0] - b[0]);
  for (const [index, folio] of victims) {
    folio_get(k, folio);
    folio_wait_writeback(k, folio);
    const r = folio_unmap_invalidate(k, mapping, folio);
    if (r < 0) {
      ret = r;
      if (k.trace.enabled)
        k.trace.emit("invalidate_busy", "mm/truncate.c: folio_unmap_invalidate()", {
          pfn: folio,
          inode: mapping.id,
          index,
          pinned: folio_maybe_dma_pinned(k, folio),
          dirty: k.memmap.test(folio, PG.dirty),
        });
    }
    folio_put(k, folio);
  }
  return ret;
}
