/**
 * tmpfs / shmem (mm/shmem.c): files whose only storage is the page cache.
 * Folios are swap-backed movable user memory, zero-filled on allocation;
 * there is no writeback (the BDI cannot write back), no ->page_mkwrite and
 * no dirty tracking for pinning's sake — which is why writable long-term
 * pins of tmpfs, memfd and MAP_SHARED|MAP_ANONYMOUS memory are allowed.
 *
 * Users: files on tmpfs mounts, memfd_create() (fs/memfd.ts) and
 * MAP_SHARED|MAP_ANONYMOUS mappings (shmem_zero_setup()), the latter two on
 * the internal shm mount. Not modelled: swap, huge shmem pages (shmem_enabled
 * defaults to never), seals, size limits.
 */
import { EINVAL, ENOENT, EOPNOTSUPP } from "../include/errno.js";
import { VM_FAULT } from "../include/fault.js";
import { GFP_HIGHUSER_MOVABLE } from "../include/gfp.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import type { Kernel } from "../kernel.js";
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from "../fs/falloc.js";
import {
  type AddressSpace,
  type AddressSpaceOps,
  type Inode,
  type InodeOps,
  inode_by_id,
  kern_mount,
  new_inode,
  type ReadResult,
  S_PRIVATE,
  type SuperBlock,
  vma_set_file,
} from "../fs/inode.js";
import { __filemap_get_folio, FGP_CREAT, generic_perform_write, page_cache_lookup } from "./filemap.js";
import { folio_put } from "./folio.js";
import { NIL } from "./memmap.js";
import type { VmArea, VmFault } from "./mm_types.js";
import { noop_dirty_folio } from "./page_writeback.js";
import {
  truncate_inode_pages_final,
  truncate_inode_pages_range,
  unmap_mapping_range,
  LLONG_MAX,
} from "./truncate.js";

/** include/linux/shmem_fs.h: enum sgp_type */
export const SGP_READ = 0;
export const SGP_NOALLOC = 1;
export const SGP_CACHE = 2;
export const SGP_WRITE = 3;
export const SGP_FALLOC = 4;

/**
 * shmem's ->read_folio stand-in for new folios (shmem_alloc_folio() +
 * clear_highpage()): zero-filled and swap-backed.
 */
function shmem_new_folio(k: Kernel, _mapping: AddressSpace, folio: number): void {
  k.memmap.setContent(folio, 0);
  k.memmap.set(folio, PG.swapbacked);
}

/** mm/shmem.c: shmem_aops — noop_dirty_folio, no writeback, no private data. */
const shmem_aops: AddressSpaceOps = {
  name: "shmem_aops",
  read_folio: shmem_new_folio,
  dirty_folio: noop_dirty_folio,
};

/**
 * shmem_get_folio(): the folio at index with a reference. SGP_READ and
 * SGP_NOALLOC do not allocate (a hole is -ENOENT here; the kernel returns a
 * NULL folio); SGP_READ and SGP_CACHE refuse indices at or past EOF
 * (-EINVAL); SGP_WRITE and SGP_FALLOC may go beyond. SGP_FALLOC marks new
 * folios dirty. Returns the folio, or -EINVAL / -ENOENT / -ENOMEM.
 */
export function shmem_get_folio(k: Kernel, inode: Inode, index: number, sgp: number): number {
  if (sgp <= SGP_CACHE && index * PAGE_SIZE >= inode.i_size) return -EINVAL;
  const mapping = inode.mapping;
  if (sgp === SGP_READ || sgp === SGP_NOALLOC) {
    const f = page_cache_lookup(mapping, index);
    if (f === NIL) return -ENOENT;
  }
  const had = page_cache_lookup(mapping, index) !== NIL;
  const folio = __filemap_get_folio(k, mapping, index, FGP_CREAT);
  if (folio < 0) return folio;
  if (!had && sgp === SGP_FALLOC) k.memmap.set(folio, PG.dirty);
  return folio;
}

/** shmem_fault(): a page at or past EOF is SIGBUS; otherwise find or allocate it. */
function shmem_fault(k: Kernel, inode: Inode, vmf: VmFault): number {
  const folio = shmem_get_folio(k, inode, vmf.pgoff, SGP_CACHE);
  if (folio === -EINVAL) return VM_FAULT.SIGBUS; // vmf_error(-EINVAL)
  if (folio < 0) return VM_FAULT.OOM;
  vmf.page = folio;
  if (k.trace.enabled)
    k.trace.emit("shmem_fault", "mm/shmem.c: shmem_fault()", {
      inode: inode.id,
      index: vmf.pgoff,
      pfn: folio,
      mm: vmf.vma.vm_mm.id,
      addr: vmf.address,
    });
  return 0;
}

/** shmem_file_read_iter(): holes read as zero without allocating (SGP_READ). */
function shmem_read(k: Kernel, inode: Inode, pos: number, len: number): ReadResult {
  const end = Math.min(pos + len, inode.i_size);
  if (pos >= end) return { bytes: 0, contents: [] };
  const contents: number[] = [];
  for (let index = Math.floor(pos / PAGE_SIZE); index <= Math.floor((end - 1) / PAGE_SIZE); index++) {
    const f = page_cache_lookup(inode.mapping, index);
    contents.push(f === NIL ? 0 : k.memmap.content(f));
    if (f !== NIL) k.memmap.set(f, PG.referenced);
  }
  return { bytes: end - pos, contents };
}

/** shmem_truncate_range() → shmem_undo_range(): drop the folios of bytes [lstart, lend]. */
export function shmem_truncate_range(k: Kernel, inode: Inode, lstart: number, lend: number): void {
  truncate_inode_pages_range(k, inode.mapping, lstart, lend);
}

/**
 * shmem_setattr(ATTR_SIZE): a shrink unmaps everything past the new EOF,
 * private COW copies included, then drops the folios — pinned ones become
 * orphans (P8).
 */
function shmem_setsize(k: Kernel, inode: Inode, size: number): number {
  const old = inode.i_size;
  inode.i_size = size;
  if (size <= old) {
    const holebegin = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    if (old > holebegin) unmap_mapping_range(k, inode.mapping, holebegin, 0, true);
    shmem_truncate_range(k, inode, size, LLONG_MAX);
  }
  return 0;
}

/**
 * shmem_fallocate(): only KEEP_SIZE and PUNCH_HOLE. A hole punch unmaps the
 * file's pages (not private COW copies) and drops them; allocation fills
 * the range with zeroed folios marked dirty, growing i_size unless KEEP_SIZE.
 */
function shmem_fallocate(k: Kernel, inode: Inode, mode: number, off: number, len: number): number {
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    const unmapStart = Math.ceil(off / PAGE_SIZE) * PAGE_SIZE;
    const unmapEnd = Math.floor((off + len) / PAGE_SIZE) * PAGE_SIZE - 1;
    if (unmapEnd > unmapStart)
      unmap_mapping_range(k, inode.mapping, unmapStart, 1 + unmapEnd - unmapStart, false);
    shmem_truncate_range(k, inode, off, off + len - 1);
    return 0;
  }
  for (let index = Math.floor(off / PAGE_SIZE); index < Math.ceil((off + len) / PAGE_SIZE); index++) {
    const folio = shmem_get_folio(k, inode, index, SGP_FALLOC);
    if (folio < 0) return folio;
    folio_put(k, folio);
  }
  if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > inode.i_size) inode.i_size = off + len;
  return 0;
}

const shmem_file_operations: InodeOps = {
  name: "shmem_file_operations",
  // tmpfs accepts O_DIRECT since 6.6 (FMODE_CAN_ODIRECT); the I/O goes through the page cache
  canDirectIO: true,
  mmap(_k, inode, vma, writable) {
    // shmem_mmap(): file_accessed(), vm_ops = &shmem_vm_ops
    vma_set_file(vma, inode, writable);
    return 0;
  },
  read_iter: shmem_read,
  write_iter: (k, inode, pos, len, value) => generic_perform_write(k, inode, pos, len, value),
  setsize: shmem_setsize,
  fallocate: shmem_fallocate,
  // noop_fsync
  fsync: () => 0,
  evict(k, inode) {
    // shmem_evict_inode() → shmem_truncate_range(inode, 0, (loff_t)-1)
    truncate_inode_pages_final(k, inode.mapping);
  },
};

/** shmem_get_inode(): a tmpfs inode on sb (a tmpfs mount or the internal shm mount). */
export function shmem_get_inode(k: Kernel, sb: SuperBlock, mode: number, uid: number): Inode {
  const inode = new_inode(k, sb, shmem_file_operations, shmem_aops, {
    gfp: GFP_HIGHUSER_MOVABLE,
    canWriteback: false,
    mode,
    uid,
  });
  inode.vm_ops = { name: "shmem", fault: (vmf) => shmem_fault(k, inode, vmf) };
  return inode;
}

/**
 * shmem_file_setup() / shmem_kernel_file_setup(): an unnamed inode of the
 * given size on the internal shm mount (memfd, MAP_SHARED|MAP_ANONYMOUS).
 */
export function shmem_file_setup(k: Kernel, size: number, kernel = false): Inode {
  const inode = shmem_get_inode(k, kern_mount(k, "shm", "tmpfs"), 0o777, k.current?.uid ?? 0);
  inode.i_size = size;
  if (kernel) inode.i_flags |= S_PRIVATE;
  return inode;
}

/**
 * shmem_zero_setup(): MAP_SHARED|MAP_ANONYMOUS memory is a "dev/zero" shmem
 * file sized to the VMA. do_mmap() ignores the offset of shared anonymous
 * mappings (pgoff = 0), so the VMA maps the file from its start. Returns 0.
 */
export function shmem_zero_setup(k: Kernel, vma: VmArea): number {
  const inode = shmem_file_setup(k, vma.vm_end - vma.vm_start, true);
  inode.path = "/dev/zero (deleted)";
  vma.vm_pgoff = 0;
  vma_set_file(vma, inode, true);
  return 0;
}

/** shmem_mapping(): the address_space belongs to tmpfs/shmem. */
export function shmem_mapping(k: Kernel, mappingId: number): boolean {
  return inode_by_id(k, mappingId)?.sb.type === "tmpfs";
}
