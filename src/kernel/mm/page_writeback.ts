/**
 * Dirtying and writeback of page-cache folios (mm/page-writeback.c, the
 * writeback half of mm/filemap.c, and folio_mkclean() of mm/rmap.c).
 *
 * Writeback ignores pins (P9, gup-semantics.md §4.2): a maybe-pinned folio
 * is cleaned, its PTEs are write-protected, its content goes to the storage,
 * and a device writing through the pin afterwards changes a clean folio —
 * the write reaches the storage only if someone marks the folio dirty again
 * (unpin_user_pages_dirty_lock()), which happens without ->page_mkwrite.
 * Every decision is a tracepoint that says whether the folio was
 * maybe-pinned, so detectors can tell the story.
 *
 * I/O: by default a folio's write completes at once (the content word is
 * copied to the storage). With `WritebackControl.async` the I/O stays in
 * flight with PG_writeback set until `writeback_complete()` or a
 * data-integrity wait; the device reads the content when the I/O completes.
 */
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import { VM_SHARED } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import {
  type AddressSpace,
  folio_file_mapping,
  type Inode,
  vfs,
  WB_SYNC_ALL,
  WB_SYNC_NONE,
  type WritebackControl,
} from "../fs/inode.js";
import { folio_mapped, folio_maybe_dma_pinned, folio_nr_pages } from "./folio.js";
import { pte_lookup } from "./memory.js";
import { rmap_walk } from "./rmap.js";

export { WB_SYNC_ALL, WB_SYNC_NONE };

const WHERE_CLEAR_FOR_IO = "mm/page-writeback.c: folio_clear_dirty_for_io()";

function traceArgs(
  k: Kernel,
  folio: number,
): { pfn: number; inode?: number; index?: number; anon?: true; pinned: boolean } {
  const pinned = folio_maybe_dma_pinned(k, folio);
  // an anon folio's mapping is its anon_vma and its index a virtual page number: not a file place
  if (k.memmap.test(folio, PG.anon)) return { pfn: folio, anon: true, pinned };
  return { pfn: folio, inode: k.memmap.mapping(folio), index: k.memmap.index(folio), pinned };
}

// --- dirtying ---------------------------------------------------------------------

/** folio_account_dirtied(): NR_DIRTIED and friends. */
function folio_account_dirtied(k: Kernel, folio: number): void {
  k.vmstat.nr_dirtied += folio_nr_pages(k, folio);
}

/**
 * __folio_mark_dirty(): account a newly dirtied page-cache folio
 * (mm/page-writeback.c). `warn` is set by callers that expect an uptodate
 * folio without fs-private data.
 */
export function __folio_mark_dirty(k: Kernel, mapping: AddressSpace, folio: number, warn: boolean): void {
  if (k.memmap.mapping(folio) !== mapping.id) return; // truncated meanwhile
  if (warn && !k.memmap.test(folio, PG.uptodate))
    k.warn("mm/page-writeback.c: __folio_mark_dirty()", `dirtying non-uptodate folio ${folio}`);
  folio_account_dirtied(k, folio);
}

/** noop_dirty_folio(): set PG_dirty, nothing to account (shmem, hugetlbfs, secretmem, DAX, orphans). */
export function noop_dirty_folio(k: Kernel, _mapping: AddressSpace | null, folio: number): boolean {
  if (k.memmap.test(folio, PG.dirty)) return false;
  k.memmap.set(folio, PG.dirty);
  return true;
}

/** filemap_dirty_folio(): the generic ->dirty_folio of file systems without buffer heads. */
export function filemap_dirty_folio(k: Kernel, mapping: AddressSpace, folio: number): boolean {
  if (k.memmap.test(folio, PG.dirty)) return false;
  k.memmap.set(folio, PG.dirty);
  __folio_mark_dirty(k, mapping, folio, !k.memmap.test(folio, PG.private));
  return true;
}

/**
 * folio_mark_dirty(): mark a folio dirty the way its file system wants
 * (mapping->a_ops->dirty_folio). A folio without a mapping — anon, or a
 * page-cache folio truncated under a pin — just gets PG_dirty
 * (noop_dirty_folio()), which nobody will ever write back.
 * Returns true if the folio was newly dirtied.
 */
export function folio_mark_dirty(k: Kernel, page: number): boolean {
  const folio = k.memmap.head(page);
  const mapping = folio_file_mapping(k, folio);
  const newly = mapping ? mapping.a_ops.dirty_folio(k, mapping, folio) : noop_dirty_folio(k, null, folio);
  if (k.trace.enabled)
    k.trace.emit("folio_mark_dirty", "mm/page-writeback.c: folio_mark_dirty()", {
      ...traceArgs(k, folio),
      newly,
      orphan: mapping === null && !k.memmap.test(folio, PG.anon),
      buffers: k.memmap.test(folio, PG.private),
    });
  return newly;
}

/** folio_clear_dirty(): drop PG_dirty without cleaning the page tables. */
export function folio_clear_dirty(k: Kernel, folio: number): void {
  k.memmap.clear(folio, PG.dirty);
}

/**
 * folio_cancel_dirty(): truncation throws the dirty data away
 * (include/linux/pagemap.h → __folio_cancel_dirty()).
 */
export function folio_cancel_dirty(k: Kernel, folio: number): void {
  if (!k.memmap.test(folio, PG.dirty)) return;
  k.memmap.clear(folio, PG.dirty);
  if (k.trace.enabled)
    k.trace.emit("folio_cancel_dirty", "mm/page-writeback.c: __folio_cancel_dirty()", traceArgs(k, folio));
}

// --- cleaning -----------------------------------------------------------------------

/**
 * folio_mkclean() (mm/rmap.c): write-protect and clean every PTE of a
 * shared VMA that maps the folio (invalid_mkclean_vma() skips private
 * VMAs). Returns how many entries were dirty or writable. Pins are not
 * looked at: a pinned folio is write-protected like any other.
 */
export function folio_mkclean(k: Kernel, folio: number): number {
  if (!folio_mapped(k, folio)) return 0;
  if (!folio_file_mapping(k, folio)) return 0;
  let cleaned = 0;
  rmap_walk(k, folio, (vma, addr, _first, nr) => {
    if (!(vma.vm_flags & VM_SHARED)) return;
    for (let j = 0; j < nr; j++) {
      const a = addr + j * PAGE_SIZE;
      const pte = pte_lookup(vma.vm_mm, a);
      if (!pte) continue;
      const [t, i] = pte;
      const bits = t.bits[i];
      if (!(bits & PTE.PRESENT) || k.memmap.head(t.pfn[i]) !== folio) continue;
      if (!(bits & (PTE.DIRTY | PTE.WRITE))) continue;
      // page_vma_mkclean_one(): ptep_clear_flush, pte_wrprotect, pte_mkclean
      t.bits[i] = bits & ~(PTE.DIRTY | PTE.WRITE);
      cleaned++;
      if (k.trace.enabled)
        k.trace.emit("mkclean_pte", "mm/rmap.c: page_vma_mkclean_one()", {
          mm: vma.vm_mm.id,
          addr: a,
          pfn: folio,
          was_dirty: (bits & PTE.DIRTY) !== 0,
        });
    }
  });
  return cleaned;
}

/**
 * folio_clear_dirty_for_io(): the folio is about to be written. For
 * mappings that write back, first folio_mkclean() — a dirty PTE found there
 * re-dirties the folio, whose dirty bit is then cleared with the PTEs
 * clean and read-only, so the next CPU write faults into ->page_mkwrite.
 * Returns true if the folio was dirty. Pins are ignored (P9).
 */
export function folio_clear_dirty_for_io(k: Kernel, folio: number): boolean {
  const mapping = folio_file_mapping(k, folio);
  if (mapping && mapping.canWriteback) {
    const ptes = folio_mkclean(k, folio);
    if (ptes) folio_mark_dirty(k, folio);
    const was = k.memmap.test(folio, PG.dirty);
    k.memmap.clear(folio, PG.dirty);
    if (k.trace.enabled)
      k.trace.emit("writeback_clean", WHERE_CLEAR_FOR_IO, { ...traceArgs(k, folio), ptes, was_dirty: was });
    return was;
  }
  const was = k.memmap.test(folio, PG.dirty);
  k.memmap.clear(folio, PG.dirty);
  return was;
}

// --- writeback I/O ----------------------------------------------------------------------

/** __folio_start_writeback(): PG_writeback set, the I/O is submitted. */
export function folio_start_writeback(k: Kernel, folio: number): void {
  if (k.memmap.test(folio, PG.writeback)) {
    if (k.config.kconfig.DEBUG_VM)
      k.bug("mm/page-writeback.c: __folio_start_writeback()", `folio ${folio} already under writeback`);
    return;
  }
  k.memmap.set(folio, PG.writeback);
  if (k.trace.enabled)
    k.trace.emit("writeback_start", "mm/page-writeback.c: __folio_start_writeback()", traceArgs(k, folio));
}

/** folio_end_writeback() (mm/filemap.c): PG_writeback cleared, waiters woken. */
export function folio_end_writeback(k: Kernel, folio: number): void {
  if (!k.memmap.test(folio, PG.writeback)) {
    if (k.config.kconfig.DEBUG_VM)
      k.bug("mm/filemap.c: folio_end_writeback()", `folio ${folio} not under writeback`);
    return;
  }
  k.memmap.clear(folio, PG.writeback);
  k.vmstat.nr_written += folio_nr_pages(k, folio);
}

/** The bio of a folio completes: the storage gets the content it has now, then folio_end_writeback(). */
function writeback_io_done(k: Kernel, mapping: AddressSpace, folio: number): void {
  mapping.inflight.delete(folio);
  mapping.a_ops.write_io?.(k, mapping, folio);
  if (k.trace.enabled)
    k.trace.emit("writeback_end", "mm/filemap.c: folio_end_writeback()", {
      ...traceArgs(k, folio),
      content: k.memmap.content(folio),
    });
  folio_end_writeback(k, folio);
}

/**
 * folio_wait_writeback(): wait for a folio's write to finish. The model has
 * no concurrency: waiting is the in-flight I/O completing now.
 */
export function folio_wait_writeback(k: Kernel, folio: number): void {
  if (!k.memmap.test(folio, PG.writeback)) return;
  const mapping = folio_file_mapping(k, folio);
  if (mapping && mapping.inflight.has(folio)) writeback_io_done(k, mapping, folio);
  else folio_end_writeback(k, folio);
}

/**
 * write_cache_pages() / writeback_iter() with the file system's
 * ->writepages checks: for each dirty folio of the range in index order,
 * skip it if under writeback (WB_SYNC_NONE) or wait (WB_SYNC_ALL), let the
 * file system veto it (ext4: no buffers), folio_clear_dirty_for_io(),
 * start writeback and submit. Returns the number of folios submitted.
 */
export function write_cache_pages(k: Kernel, mapping: AddressSpace, wbc: WritebackControl): number {
  const first = Math.floor(wbc.range_start / PAGE_SIZE);
  const last = Math.floor(wbc.range_end / PAGE_SIZE);
  const indices = [...mapping.i_pages.keys()].filter((i) => i >= first && i <= last).sort((a, b) => a - b);
  let written = 0;
  for (const index of indices) {
    const folio = mapping.i_pages.get(index);
    if (folio === undefined || k.memmap.mapping(folio) !== mapping.id) continue;
    // folio_prepare_writeback()
    if (!k.memmap.test(folio, PG.dirty)) continue;
    if (k.memmap.test(folio, PG.writeback)) {
      if (wbc.sync_mode === WB_SYNC_NONE) continue;
      folio_wait_writeback(k, folio);
    }
    const verdict = mapping.a_ops.writepage_prepare?.(k, mapping, folio) ?? "write";
    if (verdict !== "write") continue;
    if (!folio_clear_dirty_for_io(k, folio)) continue;
    if (mapping.a_ops.writepage_fixup && !mapping.a_ops.writepage_fixup(k, mapping, folio)) {
      // folio_redirty_for_writepage()
      filemap_dirty_folio(k, mapping, folio);
      continue;
    }
    folio_start_writeback(k, folio);
    written++;
    if (wbc.async) mapping.inflight.add(folio);
    else writeback_io_done(k, mapping, folio);
  }
  return written;
}

/**
 * do_writepages() / filemap_fdatawrite_wbc(): only mappings that can write
 * back (mapping_can_writeback()) are written; shmem, hugetlbfs and
 * secretmem have nothing to do.
 */
export function do_writepages(k: Kernel, mapping: AddressSpace, wbc: WritebackControl): number {
  if (!mapping.canWriteback) return 0;
  return write_cache_pages(k, mapping, wbc);
}

/** __filemap_fdatawrite_range(): start writeback of [start, end] (bytes, inclusive). */
export function __filemap_fdatawrite_range(
  k: Kernel,
  mapping: AddressSpace,
  start: number,
  end: number,
  sync_mode: number,
  async = false,
): number {
  return do_writepages(k, mapping, { sync_mode, range_start: start, range_end: end, async });
}

/** filemap_fdatawait_range(): wait for (here: complete) every in-flight write in the range. */
export function filemap_fdatawait_range(k: Kernel, mapping: AddressSpace, start: number, end: number): void {
  const first = Math.floor(start / PAGE_SIZE);
  const last = Math.floor(end / PAGE_SIZE);
  for (const folio of [...mapping.inflight]) {
    const idx = k.memmap.index(folio);
    if (idx >= first && idx <= last) writeback_io_done(k, mapping, folio);
  }
}

/**
 * filemap_write_and_wait_range() (mm/filemap.c): data-integrity writeback
 * of [start, end] and wait for it. Returns 0.
 */
export function filemap_write_and_wait_range(
  k: Kernel,
  mapping: AddressSpace,
  start: number,
  end: number,
): number {
  if (end < start) return 0;
  if (mapping.canWriteback) {
    __filemap_fdatawrite_range(k, mapping, start, end, WB_SYNC_ALL);
    filemap_fdatawait_range(k, mapping, start, end);
  }
  return 0;
}

/**
 * The flusher thread writing one inode (fs/fs-writeback.c:
 * writeback_single_inode() → do_writepages()): background writeback
 * (WB_SYNC_NONE) of the whole file. With `async` the I/O stays in flight.
 * Returns the number of folios submitted.
 */
export function writeback_mapping(
  k: Kernel,
  mapping: AddressSpace,
  opts: { sync_mode?: number; async?: boolean } = {},
): number {
  return do_writepages(k, mapping, {
    sync_mode: opts.sync_mode ?? WB_SYNC_NONE,
    range_start: 0,
    range_end: Number.MAX_SAFE_INTEGER,
    async: opts.async ?? false,
  });
}

/** Complete every in-flight writeback I/O (of one mapping, or of all). Returns how many completed. */
export function writeback_complete(k: Kernel, mapping?: AddressSpace): number {
  let n = 0;
  const mappings = mapping ? [mapping] : [...vfs(k).inodes.values()].map((i) => i.mapping);
  for (const m of mappings)
    for (const folio of [...m.inflight]) {
      writeback_io_done(k, m, folio);
      n++;
    }
  return n;
}

/** "kernel: writeback(/data/f)": background writeback of one inode (see writeback_mapping()). */
export function writeback_inode(
  k: Kernel,
  inode: Inode,
  opts: { sync_mode?: number; async?: boolean } = {},
): number {
  return writeback_mapping(k, inode.mapping, opts);
}
