/**
 * FS-DAX (fs/dax.c; ext4 mounted -o dax on persistent memory): no page
 * cache — every file block is a page of the pmem device, mapped straight
 * into user space and read and written in place. There is nothing to write
 * back, so what truncation does with a pinned page matters more: instead of
 * orphaning it, dax_break_layout() waits until no one but the page tables
 * references the page (dax_page_is_idle()). That is why long-term pins of
 * FS-DAX mappings are refused (-EOPNOTSUPP, vma_is_fsdax() in GUP).
 *
 * The model's device: pages carved from ZONE_NORMAL (GFP_KERNEL, unmovable,
 * never on the LRU) the first time a block is allocated, never returned to
 * the buddy allocator, reused through a free pool. Each device page keeps
 * one reference held by the device itself (the kernel counts an idle DAX
 * page as refcount 0; here idle is refcount 1), so a page is busy when
 * refcount - mapcount - 1 > 0.
 *
 * Simplified: read faults on holes allocate the block (the kernel maps the
 * zero page); PMD-sized DAX mappings are not modelled (PTEs only); a busy
 * page makes the truncating call return -EINTR — the kernel sleeps
 * interruptibly in dax_break_layout() until the pin is dropped, and a signal
 * is the only way out while the pin is held.
 */
import { EINTR, ENOSPC, EOPNOTSUPP } from "../include/errno.js";
import { VM_FAULT } from "../include/fault.js";
import { GFP_KERNEL } from "../include/gfp.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { VM_HUGEPAGE } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { i_size_pages } from "../mm/filemap.js";
import { folio_get, folio_mapcount, folio_maybe_dma_pinned, folio_ref_count } from "../mm/folio.js";
import { NIL } from "../mm/memmap.js";
import { unmap_mapping_pages } from "../mm/memory.js";
import type { VmArea, VmFault } from "../mm/mm_types.js";
import { folio_mkclean, noop_dirty_folio } from "../mm/page_writeback.js";
import { LLONG_MAX, truncate_pagecache, unmap_mapping_range } from "../mm/truncate.js";
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE } from "./falloc.js";
import {
  type AddressSpaceOps,
  type Inode,
  type InodeOps,
  new_inode,
  type ReadResult,
  type SuperBlock,
  vfs,
  vma_set_file,
} from "./inode.js";

/** include/linux/memremap.h: folio_is_fsdax() — the page belongs to an FS-DAX device. */
export function folio_is_fsdax(k: Kernel, pfn: number): boolean {
  return vfs(k).daxPages.has(k.memmap.head(pfn));
}

/** include/linux/fs.h: vma_is_fsdax() — a VMA mapping an FS-DAX file. */
export function vma_is_fsdax(vma: VmArea): boolean {
  return vma.vm_ops?.name === "fsdax";
}

/** vma_is_dax() (no device-DAX in the model: the same as vma_is_fsdax()). */
export function vma_is_dax(vma: VmArea): boolean {
  return vma_is_fsdax(vma);
}

// --- the device --------------------------------------------------------------------------

/** A free device page: from the pool if one is idle, else carved from memory. NIL if none. */
function dax_device_alloc(k: Kernel): number {
  const v = vfs(k);
  for (let i = 0; i < v.daxFree.length; i++) {
    const pfn = v.daxFree[i];
    if (folio_ref_count(k, pfn) === 1 && folio_mapcount(k, pfn) === 0) {
      v.daxFree.splice(i, 1);
      return pfn;
    }
  }
  const pfn = k.pa.alloc_pages(GFP_KERNEL, 0);
  if (pfn === NIL) return NIL;
  v.daxPages.add(pfn); // refcount 1: the device's own reference
  return pfn;
}

/**
 * The device page of block index, allocating a zeroed block if asked
 * (ext4 zeroes new DAX blocks: EXT4_GET_BLOCKS_ZERO). NIL for a hole
 * without alloc, -ENOSPC when the device is full.
 */
function dax_block(k: Kernel, inode: Inode, index: number, alloc: boolean): number {
  const map = inode.dax!;
  const have = map.get(index);
  if (have !== undefined) return have;
  if (!alloc) return NIL;
  const pfn = dax_device_alloc(k);
  if (pfn === NIL) return -ENOSPC;
  k.memmap.setContent(pfn, 0);
  // dax_associate_entry(): folio->mapping, folio->index
  k.memmap.setMapping(pfn, inode.id);
  k.memmap.setIndex(pfn, index);
  map.set(index, pfn);
  return pfn;
}

/** Free the block: the page goes back to the device pool, disassociated (dax_disassociate_entry()). */
function dax_free_block(k: Kernel, inode: Inode, index: number): void {
  const pfn = inode.dax!.get(index);
  if (pfn === undefined) return;
  inode.dax!.delete(index);
  k.memmap.setMapping(pfn, 0);
  k.memmap.clear(pfn, PG.dirty);
  vfs(k).daxFree.push(pfn);
}

// --- layouts -------------------------------------------------------------------------------

/**
 * dax_layout_busy_page_range(): unmap page offsets [first, last] from every
 * mapping of the file, then find a page someone still references (a pin):
 * refcount beyond its mappings and the device's own. NIL if none.
 */
export function dax_layout_busy_page_range(k: Kernel, inode: Inode, first: number, last: number): number {
  unmap_mapping_pages(k, inode.id, first, last);
  for (const [index, pfn] of inode.dax!) {
    if (index < first || index > last) continue;
    if (folio_ref_count(k, pfn) - folio_mapcount(k, pfn) - 1 > 0) return pfn;
  }
  return NIL;
}

/**
 * dax_break_layout_inode() as ext4_break_layouts() calls it (whole file):
 * 0 when no page is busy, else the caller would sleep until the pin goes —
 * reported as -EINTR with a "dax_break_layout_busy" tracepoint.
 */
export function dax_break_layout(k: Kernel, inode: Inode): number {
  const busy = dax_layout_busy_page_range(k, inode, 0, LLONG_MAX);
  if (busy === NIL) return 0;
  k.trace.emit("dax_break_layout_busy", "fs/dax.c: dax_break_layout()", {
    inode: inode.id,
    pfn: busy,
    index: k.memmap.index(busy),
    pinned: folio_maybe_dma_pinned(k, busy),
    refcount: folio_ref_count(k, busy),
  });
  return -EINTR;
}

// --- faults --------------------------------------------------------------------------------

/** dax_iomap_pte_fault(): map the block's device page (allocated if needed); SIGBUS past EOF or on ENOSPC. */
function dax_fault(k: Kernel, inode: Inode, vmf: VmFault): number {
  if (vmf.pgoff >= i_size_pages(inode)) return VM_FAULT.SIGBUS;
  const pfn = dax_block(k, inode, vmf.pgoff, true);
  if (pfn < 0 || pfn === NIL) return VM_FAULT.SIGBUS;
  folio_get(k, pfn);
  vmf.page = pfn;
  if (k.trace.enabled)
    k.trace.emit("dax_fault", "fs/dax.c: dax_iomap_pte_fault()", {
      inode: inode.id,
      index: vmf.pgoff,
      pfn,
      mm: vmf.vma.vm_mm.id,
      addr: vmf.address,
    });
  return 0;
}

/** ext4_dax_fault() as ->page_mkwrite: the block must still be the file's. */
function dax_page_mkwrite(k: Kernel, inode: Inode, vmf: VmFault): number {
  const pfn = k.memmap.head(vmf.page);
  if (k.memmap.mapping(pfn) !== inode.id || inode.dax!.get(k.memmap.index(pfn)) !== pfn)
    return VM_FAULT.NOPAGE;
  return 0;
}

// --- file operations ---------------------------------------------------------------------------

/** dax_iomap_rw() read: blocks in place, holes as zero. */
function dax_read(k: Kernel, inode: Inode, pos: number, len: number): ReadResult {
  const end = Math.min(pos + len, inode.i_size);
  if (pos >= end) return { bytes: 0, contents: [] };
  const contents: number[] = [];
  for (let index = Math.floor(pos / PAGE_SIZE); index <= Math.floor((end - 1) / PAGE_SIZE); index++) {
    const pfn = dax_block(k, inode, index, false);
    contents.push(pfn === NIL ? 0 : k.memmap.content(pfn));
  }
  return { bytes: end - pos, contents };
}

/** dax_iomap_rw() write: allocate blocks and write them in place (no dirtying, nothing to write back). */
function dax_write(k: Kernel, inode: Inode, pos: number, len: number, value: number): number {
  if (len <= 0) return 0;
  const first = Math.floor(pos / PAGE_SIZE);
  const last = Math.floor((pos + len - 1) / PAGE_SIZE);
  let written = len;
  for (let index = first; index <= last; index++) {
    const pfn = dax_block(k, inode, index, true);
    if (pfn < 0 || pfn === NIL) {
      if (index === first) return -ENOSPC;
      written = index * PAGE_SIZE - pos;
      break;
    }
    k.memmap.setContent(pfn, value);
  }
  if (pos + written > inode.i_size) inode.i_size = pos + written;
  return written;
}

/** ext4_setattr(ATTR_SIZE) on DAX: break layouts first (whole file), then truncate and free blocks. */
function dax_setsize(k: Kernel, inode: Inode, size: number): number {
  const r = dax_break_layout(k, inode);
  if (r) return r;
  const shrink = size < inode.i_size;
  inode.i_size = size;
  if (shrink) {
    truncate_pagecache(k, inode, size);
    const from = Math.ceil(size / PAGE_SIZE);
    for (const index of [...inode.dax!.keys()]) if (index >= from) dax_free_block(k, inode, index);
  }
  return 0;
}

/** ext4_fallocate() on DAX: punch and zero break layouts (whole file); allocation does not. */
function dax_fallocate(k: Kernel, inode: Inode, mode: number, off: number, len: number): number {
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) return -EOPNOTSUPP;
  const end = off + len;
  const firstFull = Math.ceil(off / PAGE_SIZE);
  const endFull = Math.floor(end / PAGE_SIZE);
  if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
    const r = dax_break_layout(k, inode);
    if (r) return r;
  }
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    if (off >= inode.i_size) return 0;
    const pend = end > inode.i_size ? Math.ceil(inode.i_size / PAGE_SIZE) * PAGE_SIZE : end;
    unmap_mapping_range(k, inode.mapping, firstFull * PAGE_SIZE, pend - firstFull * PAGE_SIZE, false);
    for (let b = firstFull; b < Math.floor(pend / PAGE_SIZE); b++) dax_free_block(k, inode, b);
    return 0;
  }
  if (mode & FALLOC_FL_ZERO_RANGE) {
    for (let b = firstFull; b < endFull; b++) {
      const pfn = dax_block(k, inode, b, false);
      if (pfn !== NIL) k.memmap.setContent(pfn, 0);
      else if (dax_block(k, inode, b, true) < 0) return -ENOSPC;
    }
  } else {
    for (let b = Math.floor(off / PAGE_SIZE); b < Math.ceil(end / PAGE_SIZE); b++)
      if (dax_block(k, inode, b, true) < 0) return -ENOSPC;
  }
  if (!(mode & FALLOC_FL_KEEP_SIZE) && end > inode.i_size) inode.i_size = end;
  return 0;
}

/**
 * dax_writeback_mapping_range() (fsync): nothing to copy, but dirty
 * entries are cleaned — their PTEs write-protected (dax_entry_mkclean()) —
 * so the next store faults and is tracked again.
 */
function dax_fsync(k: Kernel, inode: Inode): number {
  for (const pfn of inode.dax!.values()) {
    if (!k.memmap.test(pfn, PG.dirty)) continue;
    folio_mkclean(k, pfn);
    k.memmap.clear(pfn, PG.dirty);
  }
  return 0;
}

/** ext4_dax_aops: noop_dirty_folio; there is no page cache to read into. */
const dax_aops: AddressSpaceOps = {
  name: "ext4_dax_aops",
  read_folio: (k, _m, folio) => k.memmap.setContent(folio, 0),
  dirty_folio: noop_dirty_folio,
};

const dax_file_operations: InodeOps = {
  name: "ext4_file_operations (dax)",
  canDirectIO: true,
  mmap(_k, inode, vma, writable) {
    // ext4_file_mmap(): IS_DAX → ext4_dax_vm_ops, VM_HUGEPAGE
    vma.vm_flags |= VM_HUGEPAGE;
    vma_set_file(vma, inode, writable);
    return 0;
  },
  read_iter: dax_read,
  write_iter: dax_write,
  // O_DIRECT on a DAX file is the same dax_iomap_rw()
  dio_read_blocks: (k, inode, index, nr) => dax_read(k, inode, index * PAGE_SIZE, nr * PAGE_SIZE).contents,
  dio_write_blocks(k, inode, index, contents) {
    for (let i = 0; i < contents.length; i++) {
      const pfn = dax_block(k, inode, index + i, true);
      if (pfn < 0) return i > 0 ? i : pfn;
      k.memmap.setContent(pfn, contents[i]);
    }
    return contents.length;
  },
  setsize: dax_setsize,
  fallocate: dax_fallocate,
  fsync: (k, inode) => dax_fsync(k, inode),
  evict(k, inode) {
    // ext4_evict_inode() → dax_break_layout_final() (waits uninterruptibly for busy pages)
    const busy = dax_layout_busy_page_range(k, inode, 0, LLONG_MAX);
    if (busy !== NIL)
      k.trace.emit("dax_break_layout_busy", "fs/dax.c: dax_break_layout_final()", {
        inode: inode.id,
        pfn: busy,
        index: k.memmap.index(busy),
        pinned: folio_maybe_dma_pinned(k, busy),
        refcount: folio_ref_count(k, busy),
      });
    for (const index of [...inode.dax!.keys()]) dax_free_block(k, inode, index);
  },
};

/** A regular file on an FS-DAX mount. */
export function dax_new_inode(k: Kernel, sb: SuperBlock, mode: number, uid: number): Inode {
  const inode = new_inode(k, sb, dax_file_operations, dax_aops, {
    gfp: GFP_KERNEL,
    // the pmem block device's BDI writes back; DAX mappings are dirty-tracked through ->page_mkwrite
    canWriteback: true,
    mode,
    uid,
  });
  inode.dax = new Map();
  inode.vm_ops = {
    name: "fsdax",
    fault: (vmf) => dax_fault(k, inode, vmf),
    page_mkwrite: (vmf) => dax_page_mkwrite(k, inode, vmf),
    pfn_mkwrite: (vmf) => dax_page_mkwrite(k, inode, vmf),
  };
  return inode;
}
