/**
 * Address-space layout: mmap(), munmap(), mprotect(), VMA split, and the
 * top-down unmapped-area search (mm/mmap.c, mm/vma.c, mm/mprotect.c,
 * mm/util.c: vm_mmap_pgoff(), mm/util.c: __vm_enough_memory()).
 */
import { EACCES, EBADF, EEXIST, EINVAL, ENODEV, ENOMEM } from "../include/errno.js";
import {
  MAP,
  MAP_HUGE_MASK,
  MAP_HUGE_SHIFT,
  MAP_TYPE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from "../include/mman.js";
import { HPAGE_PMD_SIZE, PAGE_SIZE } from "../include/mmzone.js";
import { PTE } from "../include/pgtable.js";
import { PG } from "../include/page_flags.js";
import {
  VM_ACCOUNT,
  VM_EXEC,
  VM_HUGETLB,
  VM_LOCKED,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_NORESERVE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  VM_DONTEXPAND,
  VM_GROWSDOWN,
} from "../include/vm_flags.js";
import type { OpenFile } from "../fs/file.js";
import type { Kernel } from "../kernel.js";
import type { Task } from "../kernel/task.js";
import { hstateForSize, hugetlb_acct_memory } from "./hugetlb.js";
import { huge_pte_offset, hugetlb_private_anon_ops, hugetlb_vma, set_hugetlb_vma } from "./hugetlb_fault.js";
import { zap_page_range } from "./memory.js";
import { __split_huge_pmd } from "./huge_memory.js";
import { type MmStruct, VmArea } from "./mm_types.js";
import { TASK_SIZE } from "./pgtable.js";
import { populate_vma_page_range } from "./populate.js";

/** Everything mmap needs from the fs layer, provided at boot (avoids an mm → fs import cycle). */
export interface MmapFsHooks {
  shmem_zero_setup(k: Kernel, vma: VmArea): number;
  /** a hugetlbfs file for MAP_SHARED|MAP_HUGETLB anonymous memory; 0 or -errno */
  hugetlb_anon_shared_setup(k: Kernel, vma: VmArea): number;
  /** remove the VMA from its file's i_mmap (->close) */
  vma_close(k: Kernel, vma: VmArea): void;
  /** the file is on hugetlbfs: its huge page size in bytes, else 0 */
  hugetlbfs_page_size(file: OpenFile): number;
}

let fsHooks: MmapFsHooks | null = null;
export function register_mmap_fs_hooks(h: MmapFsHooks): void {
  fsHooks = h;
}
function hooks(): MmapFsHooks {
  if (!fsHooks) throw new Error("fs layer not registered");
  return fsHooks;
}

export function PAGE_ALIGN(len: number): number {
  return Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
}

/** include/linux/mman.h: calc_vm_prot_bits() */
export function calc_vm_prot_bits(prot: number): number {
  return (
    (prot & PROT_READ ? VM_READ : 0) | (prot & PROT_WRITE ? VM_WRITE : 0) | (prot & PROT_EXEC ? VM_EXEC : 0)
  );
}

/** mm/util.c: __vm_enough_memory() with the heuristic overcommit of OVERCOMMIT_GUESS. */
function vm_enough_memory(k: Kernel, pages: number): boolean {
  if (k.config.overcommitMemory === 1) return true;
  return pages <= k.memmap.nrPages;
}

/**
 * get_unmapped_area(): top-down below mmap_base. Anonymous mappings whose
 * length is a multiple of 2 MiB are 2 MiB aligned (thp_get_unmapped_area),
 * hugetlb mappings are aligned to their page size.
 */
export function get_unmapped_area(mm: MmStruct, len: number, align: number): number {
  let top = mm.mmap_base;
  for (let i = mm.vmas.length - 1; i >= -1; i--) {
    const v = i >= 0 ? mm.vmas[i] : null;
    if (v && v.vm_start >= top) continue;
    const floor = v ? v.vm_end : PAGE_SIZE * 16;
    const start = Math.floor((top - len) / align) * align;
    if (start >= floor) return start;
    if (v) top = Math.min(top, v.vm_start);
  }
  return -ENOMEM;
}

/**
 * split_vma(): cut vma at addr, returning the new upper part. A PMD-mapped
 * THP straddling the cut is split into PTEs first (vma_adjust_trans_huge()).
 * Callers check hugetlb alignment (hugetlb_vm_op_split()) beforehand.
 */
export function split_vma(k: Kernel, vma: VmArea, addr: number): VmArea {
  const mm = vma.vm_mm;
  if (addr % HPAGE_PMD_SIZE !== 0 && !vma.isHugetlb())
    __split_huge_pmd(k, vma, Math.floor(addr / HPAGE_PMD_SIZE) * HPAGE_PMD_SIZE);
  const upper = new VmArea(
    mm,
    addr,
    vma.vm_end,
    vma.vm_flags,
    vma.vm_pgoff + (addr - vma.vm_start) / PAGE_SIZE,
    vma.vm_file,
    vma.vm_ops,
    vma.anon_vma,
  );
  upper.anonVmaChain = [...vma.anonVmaChain];
  for (const av of upper.anonVmaChain) av.vmas.add(upper);
  vma.vm_end = addr;
  if (vma.isHugetlb()) {
    const hv = hugetlb_vma(vma);
    const size = hv.h.sizeBytes;
    const cut = (addr - vma.vm_start) / size;
    let upperResv: Set<number> | null = null;
    if (hv.resv) {
      upperResv = new Set<number>();
      for (const idx of [...hv.resv])
        if (idx >= cut) {
          hv.resv.delete(idx);
          upperResv.add(idx - cut);
        }
    }
    set_hugetlb_vma(upper, { h: hv.h, resv: upperResv, unmapped: hv.unmapped });
  }
  if (vma.vm_file) {
    const as = k.mappings.get(vma.vm_file.inodeId);
    as?.i_mmap.add(upper);
  }
  mm.insertVma(upper);
  return upper;
}

/**
 * -EINVAL if [start, end) would split a hugetlb VMA inside a huge page
 * (hugetlb_vm_op_split()), else 0.
 */
export function check_hugetlb_split(mm: MmStruct, start: number, end: number): number {
  for (const v of mm.vmasIn(start, end)) {
    if (!v.isHugetlb()) continue;
    const size = hugetlb_vma(v).h.sizeBytes;
    if ((v.vm_start < start && start % size) || (v.vm_end > end && end % size)) return -EINVAL;
  }
  return 0;
}

/** The VMAs exactly covering [start, end), split at the edges (check_hugetlb_split() first). */
export function vmas_covering(k: Kernel, mm: MmStruct, start: number, end: number): VmArea[] {
  const first = mm.find_vma(start);
  if (first && first.vm_start < start && first.vm_end > start) split_vma(k, first, start);
  const last = mm.find_vma(end - 1);
  if (last && last.vm_start < end && last.vm_end > end) split_vma(k, last, end);
  return mm.vmasIn(start, end);
}

/** Drop a VMA entirely: zap its pages, unlink it from rmap and its file. */
export function remove_vma(k: Kernel, vma: VmArea): void {
  const mm = vma.vm_mm;
  zap_page_range(k, vma, vma.vm_start, vma.vm_end);
  if (vma.isHugetlb()) {
    const hv = hugetlb_vma(vma);
    if (hv.resv && hv.resv.size) hugetlb_acct_memory(hv.h, -hv.resv.size);
  }
  for (const av of vma.anonVmaChain) av.vmas.delete(vma);
  if (vma.vm_file) hooks().vma_close(k, vma);
  if (vma.vm_flags & VM_LOCKED) mm.locked_vm -= vma.pages();
  mm.total_vm -= vma.pages();
  mm.removeVma(vma);
}

/** do_vmi_munmap(): unmap [start, start+len). */
export function do_munmap(k: Kernel, mm: MmStruct, start: number, len: number): number {
  if (start % PAGE_SIZE !== 0 || len <= 0 || start > TASK_SIZE || len > TASK_SIZE - start) return -EINVAL;
  const end = start + PAGE_ALIGN(len);
  for (const v of mm.vmasIn(start, end)) {
    if (v.isHugetlb()) {
      // hugetlb VMAs split only at huge page boundaries (hugetlb_vm_op_split)
      const size = hugetlb_vma(v).h.sizeBytes;
      if (Math.max(start, v.vm_start) % size !== 0 || Math.min(end, v.vm_end) % size !== 0) return -EINVAL;
    }
  }
  for (const v of vmas_covering(k, mm, start, end)) remove_vma(k, v);
  k.trace.emit("munmap", "mm/vma.c: do_vmi_munmap()", { mm: mm.id, start, len: end - start });
  return 0;
}

/**
 * do_mmap() and ksys_mmap_pgoff(): validate, pick an address, create the
 * VMA (calc_vm_prot_bits, VM_MAY*), let the file or shmem/hugetlb attach
 * its vm_ops, account, and populate for MAP_POPULATE/MAP_LOCKED.
 * Returns the address or -errno.
 */
export function do_mmap(
  k: Kernel,
  task: Task,
  addr: number,
  len: number,
  prot: number,
  flags: number,
  file: OpenFile | null,
  off: number,
): number {
  const mm = task.mm!;
  if (!Number.isFinite(len) || len < 0 || !Number.isFinite(addr) || addr < 0) return -EINVAL;
  if (off % PAGE_SIZE !== 0 || off < 0) return -EINVAL; // ksys_mmap_pgoff(): offset_in_page(off)
  if (!len) return -EINVAL;
  if (flags & MAP.MAP_FIXED_NOREPLACE) flags |= MAP.MAP_FIXED;
  const type = flags & MAP_TYPE;
  if (!(flags & MAP.MAP_ANONYMOUS) && !file) return -EBADF;
  if (flags & MAP.MAP_ANONYMOUS) file = null;
  let hugeSize = 0;
  if (flags & MAP.MAP_HUGETLB && !file) {
    // ksys_mmap_pgoff(): MAP_HUGETLB anonymous memory lives in an internal hugetlbfs file
    const log2 = (flags >>> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
    hugeSize = log2 ? 2 ** log2 : HPAGE_PMD_SIZE;
    if (!hstateForSize(k, hugeSize)) return -EINVAL;
  } else if (file) {
    hugeSize = hooks().hugetlbfs_page_size(file);
  }
  let alen = PAGE_ALIGN(len);
  if (hugeSize) alen = Math.ceil(len / hugeSize) * hugeSize;
  if (alen > TASK_SIZE) return -ENOMEM;
  const pgoff = off / PAGE_SIZE;
  let vmFlags = calc_vm_prot_bits(prot) | mm.def_flags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (flags & MAP.MAP_LOCKED) vmFlags |= VM_LOCKED;
  if (flags & MAP.MAP_GROWSDOWN) vmFlags |= VM_GROWSDOWN;
  if (file) {
    if (!file.readable) return -EACCES;
    switch (type) {
      case MAP.MAP_SHARED:
      case MAP.MAP_SHARED_VALIDATE:
        if (prot & PROT_WRITE && !file.writable) return -EACCES;
        vmFlags |= VM_SHARED | VM_MAYSHARE;
        if (!file.writable) vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
        break;
      case MAP.MAP_PRIVATE:
        break;
      default:
        return -EINVAL;
    }
  } else {
    switch (type) {
      case MAP.MAP_SHARED:
        vmFlags |= VM_SHARED | VM_MAYSHARE;
        break;
      case MAP.MAP_PRIVATE:
        break;
      default:
        return -EINVAL;
    }
  }
  if (flags & MAP.MAP_NORESERVE && k.config.overcommitMemory !== 2) vmFlags |= VM_NORESERVE;
  if (hugeSize) vmFlags |= VM_HUGETLB | VM_DONTEXPAND;
  if (vmFlags & VM_LOCKED && !mlock_future_ok(task, mm, alen)) return -11; // -EAGAIN
  // address
  let start: number;
  if (flags & MAP.MAP_FIXED) {
    if (addr % (hugeSize || PAGE_SIZE) !== 0) return -EINVAL;
    if (addr + alen > TASK_SIZE) return -ENOMEM;
    start = addr;
    if (flags & MAP.MAP_FIXED_NOREPLACE && mm.vmasIn(start, start + alen).length) return -EEXIST;
  } else {
    const align = hugeSize || (!file && alen % HPAGE_PMD_SIZE === 0 ? HPAGE_PMD_SIZE : PAGE_SIZE);
    start = get_unmapped_area(mm, alen, align);
    if (start < 0) return start;
  }
  // accounting: private writable memory is committed (VM_ACCOUNT) unless NORESERVE
  if (!(vmFlags & (VM_SHARED | VM_NORESERVE)) && vmFlags & VM_WRITE && !hugeSize) {
    if (!vm_enough_memory(k, alen / PAGE_SIZE)) return -ENOMEM;
    vmFlags |= VM_ACCOUNT;
  }
  if (flags & MAP.MAP_FIXED) do_munmap(k, mm, start, alen);
  if (!file && !(vmFlags & VM_SHARED) && !hugeSize) {
    const merged = vma_merge_new_anon(mm, start, start + alen, vmFlags);
    if (merged) return mmap_region_done(k, mm, merged, start, alen, flags);
  }
  // MAP_SHARED|MAP_ANONYMOUS is shmem at offset 0; private anonymous memory is indexed by address
  const vmPgoff = file ? pgoff : vmFlags & VM_SHARED ? 0 : start / PAGE_SIZE;
  const vma = new VmArea(mm, start, start + alen, vmFlags, vmPgoff, null, null);
  if (hugeSize) {
    const h = hstateForSize(k, hugeSize)!;
    const nHuge = alen / hugeSize;
    const isShared = (vmFlags & VM_MAYSHARE) !== 0;
    let resv: Set<number> | null = null;
    if (!isShared && !(vmFlags & VM_NORESERVE)) {
      // hugetlb_reserve_pages(): a private mapping reserves every page at mmap time
      if (!hugetlb_acct_memory(h, nHuge)) return -ENOMEM;
      resv = new Set(Array.from({ length: nHuge }, (_, i) => i));
    }
    set_hugetlb_vma(vma, { h, resv, unmapped: false });
  }
  let r = 0;
  if (file) r = file.mmap(k, vma);
  else if (hugeSize && vmFlags & VM_SHARED) r = hooks().hugetlb_anon_shared_setup(k, vma);
  else if (hugeSize) vma.vm_ops = hugetlb_private_anon_ops;
  else if (vmFlags & VM_SHARED) r = hooks().shmem_zero_setup(k, vma);
  if (r < 0) {
    if (hugeSize) {
      const hv = hugetlb_vma(vma);
      if (hv.resv) hugetlb_acct_memory(hv.h, -hv.resv.size);
    }
    return r === -ENODEV ? -ENODEV : r;
  }
  mm.insertVma(vma);
  return mmap_region_done(k, mm, vma, start, alen, flags);
}

/** The end of __mmap_region() and do_mmap() for [start, start+len) now mapped by vma. */
function mmap_region_done(
  k: Kernel,
  mm: MmStruct,
  vma: VmArea,
  start: number,
  len: number,
  flags: number,
): number {
  mm.total_vm += len / PAGE_SIZE;
  // __mmap_region() accounts what ->mmap left in vm_flags (secretmem sets VM_LOCKED itself)
  if (vma.vm_flags & VM_LOCKED) mm.locked_vm += len / PAGE_SIZE;
  k.trace.emit("mmap", "mm/mmap.c: do_mmap()", { mm: mm.id, start, len, vm_flags: vma.vm_flags });
  if (vma.vm_flags & VM_LOCKED || (flags & (MAP.MAP_POPULATE | MAP.MAP_NONBLOCK)) === MAP.MAP_POPULATE) {
    // mm_populate() ignores errors
    populate_vma_page_range(k, vma, start, start + len);
  }
  return start;
}

/**
 * mm/vma.c: vma_merge_new_range(): a new private anonymous range adjacent to
 * an anonymous VMA with the same flags (is_mergeable_vma(): only VM_SOFTDIRTY
 * may differ, which the model does not have) and a contiguous vm_pgoff
 * (can_vma_merge_before/after()) extends that VMA instead of making a new
 * one — and shares its anon_vma, so the new range's zero-page PTEs are
 * copied at fork like the rest (mm/memory.c: vma_needs_copy()). Prev and
 * next are joined when their anon_vmas are compatible
 * (is_mergeable_anon_vma(): the same, or one of them none).
 */
function vma_merge_new_anon(mm: MmStruct, start: number, end: number, vmFlags: number): VmArea | null {
  const ok = (v: VmArea | undefined): v is VmArea =>
    !!v &&
    v.vm_file === null &&
    v.vm_ops === null &&
    v.vm_flags === vmFlags &&
    v.vm_pgoff === v.vm_start / PAGE_SIZE;
  const prev = mm.vmas.find((v) => v.vm_end === start);
  const next = mm.vmas.find((v) => v.vm_start === end);
  const canPrev = ok(prev);
  const canNext = ok(next);
  if (canPrev && canNext && (!prev.anon_vma || !next.anon_vma || prev.anon_vma === next.anon_vma)) {
    // vma_expand() of prev over the new range and next; next's anon_vma links move to prev
    prev.vm_end = next.vm_end;
    if (!prev.anon_vma && next.anon_vma) {
      prev.anon_vma = next.anon_vma;
      prev.anonVmaChain = next.anonVmaChain;
      for (const a of prev.anonVmaChain) a.vmas.add(prev);
    }
    for (const a of next.anonVmaChain) a.vmas.delete(next);
    mm.removeVma(next);
    return prev;
  }
  if (canPrev) {
    prev.vm_end = end;
    return prev;
  }
  if (canNext) {
    next.vm_start = start;
    next.vm_pgoff = start / PAGE_SIZE;
    return next;
  }
  return null;
}

/** mm/mlock.c: mlock_future_ok() — RLIMIT_MEMLOCK unless CAP_IPC_LOCK. */
export function mlock_future_ok(task: Task, mm: MmStruct, bytes: number): boolean {
  if (task.capable(14 /* CAP_IPC_LOCK */)) return true;
  return mm.locked_vm * PAGE_SIZE + bytes <= task.rlimitMemlock;
}

/**
 * mprotect() → mprotect_fixup() / change_protection(): new VM_READ/WRITE/EXEC
 * bits within VM_MAY*; removing write permission write-protects every PTE.
 * Adding it makes PTEs of exclusive anon pages writable again
 * (can_change_pte_writable()); everything else takes a write fault.
 */
export function do_mprotect(k: Kernel, mm: MmStruct, start: number, len: number, prot: number): number {
  if (start % PAGE_SIZE !== 0) return -EINVAL;
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) return -EINVAL;
  if (len === 0) return 0;
  const end = start + PAGE_ALIGN(len);
  if (end <= start || end > TASK_SIZE) return -ENOMEM;
  // the whole range must be mapped
  let cursor = start;
  for (const v of mm.vmasIn(start, end)) {
    if (v.vm_start > cursor) return -ENOMEM;
    cursor = v.vm_end;
  }
  if (cursor < end) return -ENOMEM;
  const newbits = calc_vm_prot_bits(prot);
  const hs = check_hugetlb_split(mm, start, end);
  if (hs) return hs;
  for (const v of mm.vmasIn(start, end)) {
    if (newbits & VM_WRITE && !(v.vm_flags & VM_MAYWRITE)) return -EACCES;
    if (newbits & VM_READ && !(v.vm_flags & VM_MAYREAD)) return -EACCES;
    if (newbits & VM_EXEC && !(v.vm_flags & VM_MAYEXEC)) return -EACCES;
  }
  for (const v of vmas_covering(k, mm, start, end)) {
    const old = v.vm_flags;
    // a private mapping becoming writable for the first time is accounted (VM_ACCOUNT)
    v.vm_flags = (old & ~(VM_READ | VM_WRITE | VM_EXEC)) | newbits;
    change_protection(k, v, old);
  }
  k.trace.emit("mprotect", "mm/mprotect.c: mprotect_fixup()", { mm: mm.id, start, len: end - start, prot });
  return 0;
}

function change_protection(k: Kernel, vma: VmArea, oldFlags: number): void {
  const mm = vma.vm_mm;
  const losingWrite = oldFlags & VM_WRITE && !(vma.vm_flags & VM_WRITE);
  const gainingWrite = !(oldFlags & VM_WRITE) && vma.vm_flags & VM_WRITE;
  if (!losingWrite && !gainingWrite) return;
  if (vma.isHugetlb()) {
    // hugetlb_change_protection()
    const size = hugetlb_vma(vma).h.sizeBytes;
    for (let a = vma.vm_start; a < vma.vm_end; a += size) {
      const e = huge_pte_offset(vma, a, false);
      if (e && losingWrite) e.bits[e.i] &= ~PTE.WRITE;
    }
    return;
  }
  for (let addr = vma.vm_start; addr < vma.vm_end;) {
    const pmd = mm.pgtables.pmdTable(addr, false);
    const next = Math.min(vma.vm_end, (Math.floor(addr / HPAGE_PMD_SIZE) + 1) * HPAGE_PMD_SIZE);
    if (pmd) {
      const pi = Math.floor(addr / HPAGE_PMD_SIZE) % 512;
      if (pmd.bits[pi] & PTE.LEAF) {
        if (losingWrite) pmd.bits[pi] &= ~PTE.WRITE;
        else if (can_change_writable(k, vma, pmd.pfn[pi], pmd.bits[pi])) pmd.bits[pi] |= PTE.WRITE;
      } else {
        const t = pmd.pte[pi];
        if (t)
          for (let a = addr; a < next; a += PAGE_SIZE) {
            const i = Math.floor(a / PAGE_SIZE) % 512;
            if (!(t.bits[i] & PTE.PRESENT)) continue;
            if (losingWrite) t.bits[i] &= ~PTE.WRITE;
            else if (can_change_writable(k, vma, t.pfn[i], t.bits[i])) t.bits[i] |= PTE.WRITE;
          }
      }
    }
    addr = next;
  }
}

/** mm/mprotect.c: can_change_pte_writable() */
function can_change_writable(k: Kernel, vma: VmArea, pfn: number, bits: number): boolean {
  if (bits & (PTE.SPECIAL | PTE.UFFD_WP)) return false;
  if (!(vma.vm_flags & VM_SHARED))
    return k.memmap.test(pfn, PG.anon_exclusive) && k.memmap.test(pfn, PG.anon);
  return (bits & PTE.DIRTY) !== 0 && !(vma.vm_ops?.page_mkwrite || vma.vm_file?.canWriteback);
}
