/**
 * The dirty-tracked block file systems: ext4, xfs, btrfs as one model
 * parameterised by name. Each has a page cache over a backing store (the
 * "disk", one content word per 4 KiB block), a BDI that writes back
 * (mapping_can_writeback()), ->page_mkwrite, and buffered and direct I/O.
 *
 * Where they differ, as far as pinning is concerned (gup-semantics.md §4.1):
 *  - ext4 (fs/ext4/inode.c): buffer heads. ->page_mkwrite and ->write_begin
 *    attach them; ext4_dirty_folio() WARNs on a folio without them; and
 *    mpage_prepare_extent_to_map() meets a dirty folio without buffers with
 *    "page %lu does not have buffers attached", cleans it and skips it:
 *    the data is lost.
 *  - xfs (fs/iomap/buffered-io.c, 4 KiB blocks): no per-folio private data;
 *    a dirty folio is written whatever dirtied it.
 *  - btrfs (fs/btrfs/inode.c): PG_private here stands for "the fs was told"
 *    (delalloc/ordered set up by ->page_mkwrite or ->write_begin). A folio
 *    dirtied behind its back meets btrfs_writepage_cow_fixup(): it is
 *    re-dirtied and a fixup worker sets up delalloc, so a later writeback
 *    writes it (the CONFIG_BTRFS_EXPERIMENTAL -EUCLEAN path is not modelled).
 *
 * Simplified: block allocation is delayed (blocks appear in the backing
 * store at writeback, or as zero-filled unwritten extents at fallocate);
 * partial blocks are not zeroed; no journal; collapse/insert range are
 * -EOPNOTSUPP.
 */
import { EOPNOTSUPP } from "../include/errno.js";
import { GFP_HIGHUSER_MOVABLE } from "../include/gfp.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import type { Kernel } from "../kernel.js";
import { filemap_fault, filemap_read, folio_attach_private, generic_perform_write } from "../mm/filemap.js";
import { folio_maybe_dma_pinned } from "../mm/folio.js";
import type { VmFault } from "../mm/mm_types.js";
import {
  filemap_dirty_folio,
  filemap_write_and_wait_range,
  folio_clear_dirty,
  folio_mark_dirty,
} from "../mm/page_writeback.js";
import {
  invalidate_inode_pages2_range,
  truncate_inode_pages_final,
  truncate_pagecache_range,
  truncate_setsize,
} from "../mm/truncate.js";
import {
  block_dirty_folio,
  block_page_mkwrite,
  block_page_mkwrite_return,
  create_empty_buffers,
  mkwrite_check_truncate,
  try_to_free_buffers,
} from "./buffer.js";
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE } from "./falloc.js";
import {
  type AddressSpace,
  type AddressSpaceOps,
  type Inode,
  type InodeOps,
  new_inode,
  type ReadResult,
  type SuperBlock,
  vma_set_file,
} from "./inode.js";

export type BlockFsType = "ext4" | "xfs" | "btrfs";

function traceArgs(k: Kernel, folio: number): { pfn: number; inode: number; index: number; pinned: boolean } {
  return {
    pfn: folio,
    inode: k.memmap.mapping(folio),
    index: k.memmap.index(folio),
    pinned: folio_maybe_dma_pinned(k, folio),
  };
}

// --- address_space_operations -----------------------------------------------------------

/** ->read_folio of all three: the block's content, zero for a hole. */
function block_read_folio(k: Kernel, mapping: AddressSpace, folio: number, index: number): void {
  k.memmap.setContent(folio, mapping.host.backing.get(index) ?? 0);
}

/** The bio completed: the block on disk now holds what the folio holds. */
function block_write_io(k: Kernel, mapping: AddressSpace, folio: number): void {
  mapping.host.backing.set(k.memmap.index(folio), k.memmap.content(folio));
}

/** fs/ext4/inode.c: ext4_dirty_folio() — WARN_ON_ONCE(!folio_buffers(folio)), then block_dirty_folio(). */
function ext4_dirty_folio(k: Kernel, mapping: AddressSpace, folio: number): boolean {
  if (!k.memmap.test(folio, PG.private))
    k.warn(
      "fs/ext4/inode.c: ext4_dirty_folio()",
      `folio ${folio} (index ${k.memmap.index(folio)}) dirtied without buffers`,
    );
  return block_dirty_folio(k, mapping, folio);
}

/**
 * fs/ext4/inode.c: mpage_prepare_extent_to_map(): since 5.18 (cc5095747edf)
 * a dirty folio without buffers is not a BUG_ON any more: ext4_warning_inode()
 * logs "page %lu does not have buffers attached", the folio is cleaned with
 * folio_clear_dirty() (its PTEs stay as they are) and skipped — its data never
 * reaches the disk. The model reports the log line through k.warn().
 */
function ext4_writepage_prepare(k: Kernel, _mapping: AddressSpace, folio: number): "write" | "skip" {
  if (k.memmap.test(folio, PG.private)) return "write";
  const index = k.memmap.index(folio);
  k.warn("fs/ext4/inode.c: mpage_prepare_extent_to_map()", `page ${index} does not have buffers attached`);
  if (k.trace.enabled)
    k.trace.emit("writeback_no_buffers", "fs/ext4/inode.c: mpage_prepare_extent_to_map()", {
      ...traceArgs(k, folio),
      content: k.memmap.content(folio),
    });
  folio_clear_dirty(k, folio);
  return "skip";
}

/**
 * fs/btrfs/inode.c: btrfs_writepage_cow_fixup(): a folio without an
 * ordered extent was dirtied without telling btrfs. Return -EAGAIN (the
 * caller re-dirties it) and queue the fixup worker, which sets up delalloc
 * (modelled as attaching the private state now); the next writeback writes it.
 */
function btrfs_writepage_cow_fixup(k: Kernel, _mapping: AddressSpace, folio: number): boolean {
  if (k.memmap.test(folio, PG.private)) return true;
  if (k.trace.enabled)
    k.trace.emit("btrfs_cow_fixup", "fs/btrfs/inode.c: btrfs_writepage_cow_fixup()", traceArgs(k, folio));
  // btrfs_writepage_fixup_worker(): btrfs_delalloc_reserve_space(), set_folio_extent_mapped()
  folio_attach_private(k, folio);
  return false;
}

/** iomap_release_folio(): no per-folio state with 4 KiB blocks; a dirty folio cannot be released. */
function iomap_release_folio(k: Kernel, folio: number): boolean {
  return !k.memmap.test(folio, PG.dirty);
}

const AOPS: Record<BlockFsType, AddressSpaceOps> = {
  ext4: {
    name: "ext4_da_aops",
    read_folio: block_read_folio,
    dirty_folio: ext4_dirty_folio,
    // ext4_da_write_begin() → __block_write_begin_int() → create_empty_buffers()
    write_begin: (k, _m, folio) => create_empty_buffers(k, folio),
    writepage_prepare: ext4_writepage_prepare,
    write_io: block_write_io,
    release_folio: try_to_free_buffers,
  },
  xfs: {
    name: "xfs_address_space_operations",
    read_folio: block_read_folio,
    // iomap_dirty_folio() → filemap_dirty_folio()
    dirty_folio: filemap_dirty_folio,
    write_io: block_write_io,
    release_folio: iomap_release_folio,
  },
  btrfs: {
    name: "btrfs_aops",
    read_folio: block_read_folio,
    dirty_folio: filemap_dirty_folio,
    // prepare_one_folio() → set_folio_extent_mapped(); btrfs_dirty_folio() sets delalloc
    write_begin: (k, _m, folio) => folio_attach_private(k, folio),
    writepage_fixup: btrfs_writepage_cow_fixup,
    write_io: block_write_io,
    release_folio: try_to_free_buffers,
  },
};

// --- vm_operations_struct ------------------------------------------------------------------

/** iomap_page_mkwrite() (xfs): check truncation, reserve delalloc blocks, dirty the folio. */
function iomap_page_mkwrite(k: Kernel, inode: Inode, vmf: VmFault): number {
  const folio = k.memmap.head(vmf.page);
  const r = mkwrite_check_truncate(k, inode, folio);
  if (r) return block_page_mkwrite_return(r);
  folio_mark_dirty(k, folio);
  return 0;
}

/** btrfs_page_mkwrite(): check truncation, set_folio_extent_mapped(), set delalloc, dirty. */
function btrfs_page_mkwrite(k: Kernel, inode: Inode, vmf: VmFault): number {
  const folio = k.memmap.head(vmf.page);
  const r = mkwrite_check_truncate(k, inode, folio);
  if (r) return block_page_mkwrite_return(r);
  folio_attach_private(k, folio);
  folio_mark_dirty(k, folio);
  return 0;
}

const PAGE_MKWRITE: Record<BlockFsType, (k: Kernel, inode: Inode, vmf: VmFault) => number> = {
  // fs/ext4/inode.c: ext4_page_mkwrite() → block_page_mkwrite()
  ext4: block_page_mkwrite,
  xfs: iomap_page_mkwrite,
  btrfs: btrfs_page_mkwrite,
};

// --- direct I/O ---------------------------------------------------------------------------

/**
 * The block layer side of an O_DIRECT write (fs/iomap/direct-io.c:
 * __iomap_dio_rw()): flush and invalidate the page cache of the range
 * (kiocb_invalidate_pages()); if a folio cannot be invalidated the write
 * falls back to buffered I/O (-ENOTBLK), otherwise the blocks are written
 * and the range invalidated again (kiocb_invalidate_post_direct_write(),
 * whose failure only logs "Page cache invalidation failure on direct I/O").
 * contents[i] goes to block index+i; i_size is the caller's (dio_write_blocks()).
 * Returns the number of blocks written.
 */
export function block_dio_write_blocks(
  k: Kernel,
  inode: Inode,
  index: number,
  contents: readonly number[],
): number {
  const nr = contents.length;
  if (nr === 0) return 0;
  const mapping = inode.mapping;
  const pos = index * PAGE_SIZE;
  const end = (index + nr) * PAGE_SIZE - 1;
  filemap_write_and_wait_range(k, mapping, pos, end);
  if (invalidate_inode_pages2_range(k, mapping, index, index + nr - 1) < 0) {
    if (k.trace.enabled)
      k.trace.emit("dio_fallback_buffered", "fs/iomap/direct-io.c: __iomap_dio_rw()", {
        inode: inode.id,
        index,
        nr,
      });
    for (let i = 0; i < nr; i++)
      generic_perform_write(k, inode, (index + i) * PAGE_SIZE, PAGE_SIZE, contents[i]);
    return nr;
  }
  for (let i = 0; i < nr; i++) inode.backing.set(index + i, contents[i] >>> 0);
  if (k.trace.enabled)
    k.trace.emit("dio_write", "fs/iomap/direct-io.c: __iomap_dio_rw()", { inode: inode.id, index, nr });
  if (
    mapping.nrpages &&
    invalidate_inode_pages2_range(k, mapping, index, index + nr - 1) < 0 &&
    k.trace.enabled
  )
    k.trace.emit("dio_stale_pagecache", "mm/filemap.c: dio_warn_stale_pagecache()", {
      inode: inode.id,
      index,
      nr,
    });
  return nr;
}

/**
 * The block layer side of an O_DIRECT read: write back dirty cached pages
 * of the range (kiocb_write_and_wait()), then read the blocks; a hole reads
 * zero. Stops at EOF. Returns the content word of each block read.
 */
export function block_dio_read_blocks(k: Kernel, inode: Inode, index: number, nr: number): number[] {
  const eofPages = Math.ceil(inode.i_size / PAGE_SIZE);
  const n = Math.max(0, Math.min(nr, eofPages - index));
  if (n === 0) return [];
  filemap_write_and_wait_range(k, inode.mapping, index * PAGE_SIZE, (index + n) * PAGE_SIZE - 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(inode.backing.get(index + i) ?? 0);
  if (k.trace.enabled)
    k.trace.emit("dio_read", "fs/iomap/direct-io.c: __iomap_dio_rw()", { inode: inode.id, index, nr: n });
  return out;
}

// --- size and space ----------------------------------------------------------------------------

/** ext4_truncate() / xfs_itruncate_extents(): free the blocks wholly past size. */
function free_blocks_from(inode: Inode, firstBlock: number, endBlock = Number.MAX_SAFE_INTEGER): void {
  for (const b of [...inode.backing.keys()]) if (b >= firstBlock && b < endBlock) inode.backing.delete(b);
}

/**
 * ext4_setattr(ATTR_SIZE): set i_size; when shrinking, truncate the page
 * cache past it — unmapping private COW copies too, ignoring pins — then
 * free the blocks past EOF.
 */
function blockfs_setsize(k: Kernel, inode: Inode, size: number): number {
  const old = inode.i_size;
  truncate_setsize(k, inode, size);
  // ext4_truncate() runs unless the file grew (it also drops blocks preallocated past EOF)
  if (size <= old) free_blocks_from(inode, Math.ceil(size / PAGE_SIZE));
  return 0;
}

/**
 * ext4_fallocate() / xfs_file_fallocate() / btrfs_fallocate(): allocate
 * (zero-filled unwritten blocks), punch a hole (page cache dropped with
 * truncate_pagecache_range(), blocks freed), or zero a range (page cache
 * dropped, blocks zeroed). Without KEEP_SIZE the file grows to cover the range.
 */
function blockfs_fallocate(k: Kernel, inode: Inode, mode: number, off: number, len: number): number {
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) return -EOPNOTSUPP;
  const end = off + len;
  const firstFull = Math.ceil(off / PAGE_SIZE);
  const endFull = Math.floor(end / PAGE_SIZE);
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    // ext4_punch_hole(): nothing past EOF to punch; a hole reaching past EOF ends at EOF rounded up
    if (off >= inode.i_size) return 0;
    const pend = end > inode.i_size ? Math.ceil(inode.i_size / PAGE_SIZE) * PAGE_SIZE : end;
    truncate_pagecache_range(k, inode, off, pend - 1);
    free_blocks_from(inode, firstFull, Math.floor(pend / PAGE_SIZE));
    return 0;
  }
  if (mode & FALLOC_FL_ZERO_RANGE) {
    // ext4_zero_range(): drop the cached pages, convert the blocks to unwritten (read as zero)
    truncate_pagecache_range(k, inode, off, end - 1);
    for (let b = firstFull; b < endFull; b++) inode.backing.set(b, 0);
  } else {
    for (let b = Math.floor(off / PAGE_SIZE); b < Math.ceil(end / PAGE_SIZE); b++)
      if (!inode.backing.has(b)) inode.backing.set(b, 0);
  }
  if (!(mode & FALLOC_FL_KEEP_SIZE) && end > inode.i_size) inode.i_size = end;
  return 0;
}

function blockfs_ops(type: BlockFsType): InodeOps {
  return {
    name: `${type}_file_operations`,
    canDirectIO: true,
    mmap(_k, inode, vma, writable) {
      // ext4_file_mmap() / xfs_file_mmap() / btrfs_file_mmap(): file_accessed(), vm_ops
      vma_set_file(vma, inode, writable);
      return 0;
    },
    read_iter: (k, inode, pos, len): ReadResult | number => filemap_read(k, inode, pos, len),
    write_iter: (k, inode, pos, len, value) => generic_perform_write(k, inode, pos, len, value),
    dio_read_blocks: block_dio_read_blocks,
    dio_write_blocks: block_dio_write_blocks,
    setsize: blockfs_setsize,
    fallocate: blockfs_fallocate,
    // ext4_sync_file() → file_write_and_wait_range() (+ journal commit)
    fsync: (k, inode, start, end) => filemap_write_and_wait_range(k, inode.mapping, start, end),
    evict(k, inode) {
      // ext4_evict_inode(): truncate_inode_pages_final(), then the blocks are freed
      truncate_inode_pages_final(k, inode.mapping);
      inode.backing.clear();
    },
  };
}

const OPS: Record<BlockFsType, InodeOps> = {
  ext4: blockfs_ops("ext4"),
  xfs: blockfs_ops("xfs"),
  btrfs: blockfs_ops("btrfs"),
};

/**
 * A new regular-file inode of a block file system (ext4_new_inode() and
 * friends): page cache in GFP_HIGHUSER_MOVABLE memory, a BDI that writes
 * back, vm_ops with filemap_fault and the fs's ->page_mkwrite.
 */
export function blockfs_new_inode(k: Kernel, sb: SuperBlock, mode: number, uid: number): Inode {
  const type = sb.type as BlockFsType;
  const inode = new_inode(k, sb, OPS[type], AOPS[type], {
    gfp: GFP_HIGHUSER_MOVABLE,
    canWriteback: true,
    mode,
    uid,
  });
  const mkwrite = PAGE_MKWRITE[type];
  inode.vm_ops = {
    name: "file",
    fault: (vmf) => filemap_fault(k, inode, vmf),
    page_mkwrite: (vmf) => mkwrite(k, inode, vmf),
  };
  return inode;
}

/** Whether a mapping belongs to one of the block file systems. */
export function is_blockfs_type(type: string): type is BlockFsType {
  return type === "ext4" || type === "xfs" || type === "btrfs";
}

/** For tests and detectors: the on-disk content of a block (0 for a hole). */
export function block_read_backing(inode: Inode, index: number): number {
  return inode.backing.get(index) ?? 0;
}
