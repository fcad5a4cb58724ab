/**
 * hugetlbfs (fs/hugetlbfs/inode.c, and the file side of mm/hugetlb.c): a
 * page cache of huge folios from the hugetlb pool, a reservation map per
 * inode, no write(), no writeback. Shared hugetlb memory of every origin is
 * a hugetlbfs file: files on a hugetlbfs mount, memfd_create(MFD_HUGETLB)
 * and MAP_HUGETLB anonymous mappings (hugetlb_file_setup() on the internal
 * mount of the page size).
 *
 * Page-cache index: since 6.7 hugetlb folios sit in the page cache at their
 * first base-page index (hugetlb_add_to_page_cache(): idx <<= huge_page_order).
 * Like any page-cache folio, the cache holds folio_nr_pages() references.
 *
 * Reservations (inode_resv_map(), region_chg()/region_add()/region_del()):
 * `inode.hugetlb.resv` holds the huge indices that are reserved or have a
 * folio. mmap of a shared mapping reserves the indices not yet there
 * (hugetlb_reserve_pages(), -ENOMEM if the pool cannot cover it, nothing
 * with VM_NORESERVE); a fault on a reserved index consumes the reservation;
 * truncation returns the reservations of indices that never got a folio.
 * Private mappings reserve per VMA in mm/mmap.ts (HPAGE_RESV_OWNER).
 */
import { EINVAL, ENOMEM, ENOSPC, EOPNOTSUPP } from "../include/errno.js";
import { VM_FAULT } from "../include/fault.js";
import { GFP_HIGHUSER_MOVABLE } from "../include/gfp.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { VM_DONTEXPAND, VM_HUGETLB, VM_MAYSHARE, VM_NORESERVE, VM_WRITE } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import {
  __filemap_add_folio,
  __filemap_remove_folio,
  filemap_free_folio,
  page_cache_lookup,
} from "../mm/filemap.js";
import { folio_get, folio_mapped, folio_maybe_dma_pinned, folio_put, folio_ref_count } from "../mm/folio.js";
import { alloc_hugetlb_folio, hugetlb_acct_memory, type HState } from "../mm/hugetlb.js";
import { hugetlb_vma, set_hugetlb_vma } from "../mm/hugetlb_fault.js";
import { zap_page_range } from "../mm/memory.js";
import { NIL } from "../mm/memmap.js";
import type { VmArea, VmFault } from "../mm/mm_types.js";
import { noop_dirty_folio } from "../mm/page_writeback.js";
import { LLONG_MAX } from "../mm/truncate.js";
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from "./falloc.js";
import {
  type AddressSpaceOps,
  type Inode,
  type InodeOps,
  iput_final,
  kern_mount,
  new_inode,
  type ReadResult,
  S_PRIVATE,
  type SuperBlock,
  vma_set_file,
} from "./inode.js";

function hstate_inode(inode: Inode): HState {
  return inode.hugetlb!.h;
}
function pages_per_huge_page(h: HState): number {
  return 1 << h.order;
}

/** hugetlbfs_aops: noop_dirty_folio; folios are created by faults and fallocate only. */
const hugetlbfs_aops: AddressSpaceOps = {
  name: "hugetlbfs_aops",
  read_folio: (k, _m, folio) => k.memmap.setContent(folio, 0),
  dirty_folio: noop_dirty_folio,
};

// --- reservations ------------------------------------------------------------------------

/**
 * hugetlb_reserve_pages() for the inode's reservation map: reserve huge
 * indices [from, to) that hold neither a reservation nor a folio. With
 * VM_NORESERVE nothing is reserved. Private VMAs are reserved by mm/mmap.ts
 * (per-VMA resv map), so only VM_MAYSHARE ones reserve here. Returns 0 or -ENOMEM.
 */
export function hugetlb_reserve_pages(
  k: Kernel,
  inode: Inode,
  from: number,
  to: number,
  vmFlags: number,
): number {
  if (from > to) return -EINVAL;
  if (vmFlags & VM_NORESERVE) return 0;
  if (!(vmFlags & VM_MAYSHARE)) return 0;
  const info = inode.hugetlb!;
  const missing: number[] = [];
  for (let i = from; i < to; i++) if (!info.resv.has(i)) missing.push(i);
  if (!hugetlb_acct_memory(info.h, missing.length)) {
    if (k.trace.enabled)
      k.trace.emit("hugetlb_reserve_fail", "mm/hugetlb.c: hugetlb_reserve_pages()", {
        inode: inode.id,
        from,
        to,
        need: missing.length,
        free: info.h.freeHugePages,
        resv: info.h.resvHugePages,
      });
    return -ENOMEM;
  }
  for (const i of missing) info.resv.add(i); // region_add()
  return 0;
}

/**
 * hugetlb_unreserve_pages(): drop the map entries of huge indices
 * [start, end); of those, `freed` had folios (their reservations were
 * consumed when allocated) — the rest give their reservation back.
 */
export function hugetlb_unreserve_pages(inode: Inode, start: number, end: number, freed: number): void {
  const info = inode.hugetlb!;
  let chg = 0;
  for (const i of [...info.resv])
    if (i >= start && i < end) {
      info.resv.delete(i);
      chg++;
    }
  hugetlb_acct_memory(info.h, -(chg - freed));
}

// --- page cache --------------------------------------------------------------------------

/**
 * hugetlb_add_to_page_cache(): insert at the first base-page index (the
 * cache takes folio_nr_pages() references), mark dirty so that generic code
 * never drops it, and record the index in the reservation map.
 */
export function hugetlb_add_to_page_cache(k: Kernel, inode: Inode, folio: number, hidx: number): number {
  const r = __filemap_add_folio(k, inode.mapping, folio, hidx * pages_per_huge_page(hstate_inode(inode)));
  if (r) return r;
  noop_dirty_folio(k, inode.mapping, folio);
  inode.hugetlb!.resv.add(hidx); // vma_commit_reservation() → region_add()
  return 0;
}

/** A new huge folio for huge index hidx from the pool, zeroed and uptodate (folio_zero_user()). */
export function alloc_file_folio(k: Kernel, inode: Inode, hidx: number): number {
  const h = hstate_inode(inode);
  // vma_needs_reservation() on a shared mapping: the index is in the map
  const folio = alloc_hugetlb_folio(k, h, inode.hugetlb!.resv.has(hidx));
  if (folio === NIL) return NIL;
  for (let p = folio; p < folio + pages_per_huge_page(h); p++) k.memmap.setContent(p, 0);
  k.memmap.set(folio, PG.uptodate);
  return folio;
}

/**
 * ->fault for shared hugetlb mappings (mm/hugetlb.c: hugetlb_no_page(),
 * VM_MAYSHARE case). vmf.pgoff is in base pages; the huge index is
 * pgoff / pages-per-huge-page. Beyond EOF, or with an empty pool: SIGBUS.
 * On success vmf.page is the head pfn with a reference for the caller.
 */
function hugetlbfs_fault(k: Kernel, inode: Inode, vmf: VmFault): number {
  const h = hstate_inode(inode);
  const nr = pages_per_huge_page(h);
  const hidx = Math.floor(vmf.pgoff / nr);
  if (hidx >= Math.floor(inode.i_size / h.sizeBytes)) return VM_FAULT.SIGBUS;
  let folio = page_cache_lookup(inode.mapping, hidx * nr);
  if (folio !== NIL) {
    folio_get(k, folio);
  } else {
    folio = alloc_file_folio(k, inode, hidx);
    if (folio === NIL) {
      k.trace.emit("hugetlb_no_page_sigbus", "mm/hugetlb.c: hugetlb_no_page()", {
        inode: inode.id,
        index: hidx,
        mm: vmf.vma.vm_mm.id,
        addr: vmf.address,
        size: h.name,
      });
      return VM_FAULT.SIGBUS;
    }
    if (hugetlb_add_to_page_cache(k, inode, folio, hidx)) {
      folio_put(k, folio);
      return VM_FAULT.SIGBUS;
    }
  }
  vmf.page = folio;
  return 0;
}

/**
 * hugetlb_vmdelete_list(): zap base-page offsets [start, end) (end 0: to
 * the end) in every VMA of the file — private COW copies included.
 */
function hugetlb_vmdelete_list(k: Kernel, inode: Inode, start: number, end: number): void {
  const last = end === 0 ? LLONG_MAX : end - 1;
  for (const vma of [...inode.mapping.i_mmap]) {
    const vstart = vma.vm_pgoff;
    const vend = vma.vm_pgoff + vma.pages() - 1;
    const zs = Math.max(start, vstart);
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

/**
 * remove_inode_hugepages(): drop the folios of bytes [lstart, lend) from the
 * page cache (hugetlb_delete_from_page_cache(): dirty and uptodate cleared),
 * whoever else holds them: a pinned folio survives as an orphan. Truncation
 * (lend = LLONG_MAX) returns the reservations past lstart; a hole punch
 * only drops the map entries of the folios it removed.
 */
export function remove_inode_hugepages(k: Kernel, inode: Inode, lstart: number, lend: number): void {
  const h = hstate_inode(inode);
  const nr = pages_per_huge_page(h);
  const truncate_op = lend >= LLONG_MAX;
  const first = Math.floor(lstart / PAGE_SIZE);
  const end = truncate_op ? LLONG_MAX : Math.floor(lend / PAGE_SIZE);
  const mapping = inode.mapping;
  let freed = 0;
  const victims = [...mapping.i_pages.entries()]
    .filter(([i]) => i >= first && i < end)
    .sort((a, b) => a[0] - b[0]);
  for (const [index, folio] of victims) {
    const hidx = index / nr;
    folio_get(k, folio);
    if (folio_mapped(k, folio)) hugetlb_vmdelete_list(k, inode, index, index + nr);
    k.memmap.clear(folio, PG.dirty | PG.uptodate);
    __filemap_remove_folio(k, folio);
    filemap_free_folio(k, mapping, folio);
    freed++;
    const others = folio_ref_count(k, folio) - 1;
    if (k.trace.enabled)
      k.trace.emit("truncate_folio", "fs/hugetlbfs/inode.c: remove_inode_single_folio()", {
        pfn: folio,
        inode: inode.id,
        index,
        pinned: folio_maybe_dma_pinned(k, folio),
        orphan: others > 0,
        refcount: others,
      });
    folio_put(k, folio);
    if (!truncate_op) hugetlb_unreserve_pages(inode, hidx, hidx + 1, 1);
  }
  if (truncate_op) hugetlb_unreserve_pages(inode, Math.floor(lstart / h.sizeBytes), LLONG_MAX, freed);
}

// --- file operations ------------------------------------------------------------------------

/**
 * hugetlbfs_file_mmap(): VM_HUGETLB|VM_DONTEXPAND, a huge-aligned offset
 * (-EINVAL otherwise), the reservation of a shared mapping (-ENOMEM), and
 * i_size grown to cover a writable mapping.
 */
export function hugetlbfs_file_mmap(k: Kernel, inode: Inode, vma: VmArea, writable: boolean): number {
  const h = hstate_inode(inode);
  vma.vm_flags |= VM_HUGETLB | VM_DONTEXPAND;
  if (vma.vm_pgoff % pages_per_huge_page(h) !== 0) return -EINVAL;
  const len = vma.vm_end - vma.vm_start + vma.vm_pgoff * PAGE_SIZE;
  let vmFlags = vma.vm_flags;
  if (inode.i_flags & S_PRIVATE) vmFlags |= VM_NORESERVE;
  if (
    hugetlb_reserve_pages(
      k,
      inode,
      vma.vm_pgoff / pages_per_huge_page(h),
      Math.floor(len / h.sizeBytes),
      vmFlags,
    ) < 0
  )
    return -ENOMEM;
  if (vma.vm_flags & VM_WRITE && inode.i_size < len) inode.i_size = len;
  if (!has_hugetlb_vma(vma)) set_hugetlb_vma(vma, { h, resv: null, unmapped: false });
  vma_set_file(vma, inode, writable);
  return 0;
}

function has_hugetlb_vma(vma: VmArea): boolean {
  try {
    hugetlb_vma(vma);
    return true;
  } catch {
    return false;
  }
}

/** hugetlbfs_read_iter(): cached folios are copied, holes read as zero. */
function hugetlbfs_read(k: Kernel, inode: Inode, pos: number, len: number): ReadResult {
  const end = Math.min(pos + len, inode.i_size);
  if (pos >= end) return { bytes: 0, contents: [] };
  const contents: number[] = [];
  for (let index = Math.floor(pos / PAGE_SIZE); index <= Math.floor((end - 1) / PAGE_SIZE); index++) {
    const folio = page_cache_lookup(inode.mapping, index);
    contents.push(folio === NIL ? 0 : k.memmap.content(folio + (index - k.memmap.index(folio))));
  }
  return { bytes: end - pos, contents };
}

/** hugetlbfs_setattr(ATTR_SIZE) → hugetlb_vmtruncate(): the size must be huge-page aligned. */
function hugetlbfs_setsize(k: Kernel, inode: Inode, size: number): number {
  const h = hstate_inode(inode);
  if (size % h.sizeBytes !== 0) return -EINVAL;
  inode.i_size = size;
  hugetlb_vmdelete_list(k, inode, size / PAGE_SIZE, 0);
  remove_inode_hugepages(k, inode, size, LLONG_MAX);
  return 0;
}

/**
 * hugetlbfs_fallocate(): KEEP_SIZE and PUNCH_HOLE only. Allocation fills
 * every huge index of the range from the pool (-ENOSPC when it is empty);
 * a hole punch zeroes the partial huge pages at its ends (the base pages
 * inside the hole) and removes the whole ones.
 */
function hugetlbfs_fallocate(k: Kernel, inode: Inode, mode: number, off: number, len: number): number {
  if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
  const h = hstate_inode(inode);
  const hsize = h.sizeBytes;
  if (mode & FALLOC_FL_PUNCH_HOLE) {
    const holeStart = Math.ceil(off / hsize) * hsize;
    const holeEnd = Math.floor((off + len) / hsize) * hsize;
    // hugetlbfs_zero_partial_page() for the edges
    zero_partial(k, inode, off, Math.min(off + len, holeStart));
    if (holeEnd >= holeStart) zero_partial(k, inode, Math.max(holeEnd, off), off + len);
    if (holeEnd > holeStart) {
      hugetlb_vmdelete_list(k, inode, holeStart / PAGE_SIZE, holeEnd / PAGE_SIZE);
      remove_inode_hugepages(k, inode, holeStart, holeEnd);
    }
    return 0;
  }
  const start = Math.floor(off / hsize);
  const end = Math.ceil((off + len) / hsize);
  for (let hidx = start; hidx < end; hidx++) {
    if (page_cache_lookup(inode.mapping, hidx * pages_per_huge_page(h)) !== NIL) continue;
    const folio = alloc_file_folio(k, inode, hidx);
    if (folio === NIL) return -ENOSPC;
    if (hugetlb_add_to_page_cache(k, inode, folio, hidx)) {
      folio_put(k, folio);
      continue;
    }
    folio_put(k, folio); // the reference from alloc_hugetlb_folio(); the page cache keeps its own
  }
  if (!(mode & FALLOC_FL_KEEP_SIZE) && off + len > inode.i_size) inode.i_size = off + len;
  return 0;
}

/** Zero the base pages wholly inside bytes [from, to) of cached huge folios. */
function zero_partial(k: Kernel, inode: Inode, from: number, to: number): void {
  for (let index = Math.ceil(from / PAGE_SIZE); (index + 1) * PAGE_SIZE <= to; index++) {
    const folio = page_cache_lookup(inode.mapping, index);
    if (folio !== NIL) k.memmap.setContent(folio + (index - k.memmap.index(folio)), 0);
  }
}

const hugetlbfs_file_operations: InodeOps = {
  name: "hugetlbfs_file_operations",
  canDirectIO: false,
  mmap: hugetlbfs_file_mmap,
  read_iter: hugetlbfs_read,
  setsize: hugetlbfs_setsize,
  fallocate: hugetlbfs_fallocate,
  fsync: () => 0, // noop_fsync
  evict(k, inode) {
    // hugetlbfs_evict_inode() → remove_inode_hugepages(inode, 0, LLONG_MAX)
    remove_inode_hugepages(k, inode, 0, LLONG_MAX);
  },
};

/** hugetlbfs_get_inode(): a regular file on a hugetlbfs super block. */
export function hugetlbfs_get_inode(k: Kernel, sb: SuperBlock, mode: number, uid: number): Inode {
  const h = sb.hstate!;
  const inode = new_inode(k, sb, hugetlbfs_file_operations, hugetlbfs_aops, {
    gfp: GFP_HIGHUSER_MOVABLE,
    canWriteback: false,
    mode,
    uid,
  });
  inode.hugetlb = { h, resv: new Set() };
  inode.vm_ops = {
    name: "hugetlbfs",
    hugePages: pages_per_huge_page(h),
    fault: (vmf) => hugetlbfs_fault(k, inode, vmf),
  };
  return inode;
}

/** hugetlbfs_vfsmount[hstate_index]: the internal mount of one page size. */
export function hugetlbfs_kern_mount(k: Kernel, h: HState): SuperBlock {
  return kern_mount(k, `hugetlbfs-${h.name}`, "hugetlbfs", h);
}

/**
 * hugetlb_file_setup() for an unnamed file of `size` bytes on the internal
 * mount of h (memfd_create(MFD_HUGETLB): size 0, VM_NORESERVE).
 */
export function hugetlb_file_create(k: Kernel, h: HState, size: number): Inode {
  const inode = hugetlbfs_get_inode(k, hugetlbfs_kern_mount(k, h), 0o777, k.current?.uid ?? 0);
  inode.i_size = size;
  return inode;
}

/**
 * MAP_HUGETLB anonymous memory (mm/mmap.c: ksys_mmap_pgoff() →
 * hugetlb_file_setup(HUGETLB_ANON_FILE, len, VM_NORESERVE, ...) and then
 * hugetlbfs_file_mmap()): the VMA maps a new unnamed hugetlbfs file of its
 * length from offset 0. A shared mapping reserves its pages in the file's
 * map (-ENOMEM when the pool cannot cover them, none with MAP_NORESERVE); a
 * private one was reserved per VMA by mm/mmap.ts. The VMA's hugetlb state
 * must be set (set_hugetlb_vma()). Returns 0 or -errno.
 */
export function hugetlb_file_setup(k: Kernel, vma: VmArea, h: HState): number {
  const inode = hugetlb_file_create(k, h, vma.vm_end - vma.vm_start);
  inode.path = "anon_hugepage (deleted)";
  vma.vm_pgoff = 0;
  const r = hugetlbfs_file_mmap(k, inode, vma, true);
  if (r < 0) {
    inode.mapping.i_mmap.delete(vma);
    iput_final(k, inode);
  }
  return r;
}

/** is_file_hugepages(): the inode is on hugetlbfs; its huge page size in bytes, else 0. */
export function hugetlbfs_inode_page_size(inode: Inode): number {
  return inode.hugetlb ? inode.hugetlb.h.sizeBytes : 0;
}
