/**
 * Buffer heads (fs/buffer.c): the block file system's private data on a
 * page-cache folio. The model keeps one bit for "buffers attached"
 * (PG_private, folio_buffers() != NULL) together with the folio reference
 * folio_attach_private() takes. Buffers are dirty exactly when the folio is.
 *
 * The 2018 race (gup-semantics.md §4.1) lives here: reclaim or invalidation
 * may free the buffers of a clean folio that a device still writes through a
 * pin; the later folio_mark_dirty() then finds a dirty folio without
 * buffers, which ext4 warns about and drops at writeback.
 */
import { PG } from "../include/page_flags.js";
import { VM_FAULT } from "../include/fault.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import type { Kernel } from "../kernel.js";
import { folio_attach_private, folio_detach_private } from "../mm/filemap.js";
import { folio_maybe_dma_pinned } from "../mm/folio.js";
import type { VmFault } from "../mm/mm_types.js";
import { __folio_mark_dirty, folio_mark_dirty } from "../mm/page_writeback.js";
import type { AddressSpace, Inode } from "./inode.js";

/** create_empty_buffers() / folio_create_buffers(): attach buffers if the folio has none. */
export function create_empty_buffers(k: Kernel, folio: number): void {
  if (k.memmap.test(folio, PG.private)) return;
  folio_attach_private(k, folio);
  if (k.trace.enabled)
    k.trace.emit("buffers_attached", "fs/buffer.c: folio_create_buffers()", {
      pfn: folio,
      inode: k.memmap.mapping(folio),
      index: k.memmap.index(folio),
    });
}

/**
 * try_to_free_buffers(): drop the buffers of a folio that is not under
 * writeback and whose buffers are clean (drop_buffers(): a dirty buffer is
 * busy). Used by reclaim (filemap_release_folio()) and invalidation. Pins
 * are not looked at here — vmscan's folio_maybe_dma_pinned() check before
 * it is what protects pinned folios from reclaim (P7). Returns true if the
 * folio has no buffers afterwards.
 */
export function try_to_free_buffers(k: Kernel, folio: number): boolean {
  const mm = k.memmap;
  if (mm.test(folio, PG.writeback)) return false;
  if (!mm.test(folio, PG.private)) return true;
  // drop_buffers(): buffer_busy() — the model's buffers are dirty exactly when the folio is
  if (mm.test(folio, PG.dirty)) return false;
  const pinned = folio_maybe_dma_pinned(k, folio);
  folio_detach_private(k, folio);
  if (k.trace.enabled)
    k.trace.emit("buffers_freed", "fs/buffer.c: try_to_free_buffers()", {
      pfn: folio,
      inode: mm.mapping(folio),
      index: mm.index(folio),
      pinned,
    });
  return true;
}

/** block_invalidate_folio(): truncation discards the buffers whatever their state. */
export function block_invalidate_folio(k: Kernel, folio: number): void {
  folio_detach_private(k, folio);
}

/** block_dirty_folio(): dirty the buffers and the folio. */
export function block_dirty_folio(k: Kernel, mapping: AddressSpace, folio: number): boolean {
  if (k.memmap.test(folio, PG.dirty)) return false;
  k.memmap.set(folio, PG.dirty);
  __folio_mark_dirty(k, mapping, folio, false);
  return true;
}

/** block_page_mkwrite_return(): the errno of a ->page_mkwrite helper as VM_FAULT bits. */
export function block_page_mkwrite_return(err: number): number {
  if (err === 0) return 0;
  if (err === -14 /* EFAULT: truncated */ || err === -11 /* EAGAIN */) return VM_FAULT.NOPAGE;
  if (err === -12 /* ENOMEM */) return VM_FAULT.OOM;
  return VM_FAULT.SIGBUS;
}

/**
 * folio_mkwrite_check_truncate() as block_page_mkwrite() does it: the folio
 * must still belong to the inode and start below EOF. Returns 0 or -EFAULT.
 */
export function mkwrite_check_truncate(k: Kernel, inode: Inode, folio: number): number {
  if (k.memmap.mapping(folio) !== inode.id) return -14;
  if (k.memmap.index(folio) * PAGE_SIZE >= inode.i_size) return -14;
  return 0;
}

/**
 * block_page_mkwrite() (ext4_page_mkwrite()'s delalloc path): a shared
 * writable mapping is about to write a clean folio. Blocks are reserved,
 * buffers attached and the folio marked dirty. Returns 0 or VM_FAULT_*.
 */
export function block_page_mkwrite(k: Kernel, inode: Inode, vmf: VmFault): number {
  const folio = k.memmap.head(vmf.page);
  const r = mkwrite_check_truncate(k, inode, folio);
  if (r) return block_page_mkwrite_return(r);
  create_empty_buffers(k, folio);
  folio_mark_dirty(k, folio);
  return 0;
}
