/**
 * mremap() (mm/mremap.c): shrink in place, grow in place when the space
 * after is free, or move (MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP).
 * A move carries the page-table entries over unchanged (move_page_tables()):
 * the same pages, pins included, now at the new address.
 */
import { EFAULT, EINVAL, ENOMEM } from "../include/errno.js";
import { MREMAP } from "../include/mman.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PTE } from "../include/pgtable.js";
import { VM_DONTEXPAND, VM_LOCKED } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { __split_huge_pmd } from "./huge_memory.js";
import { set_pte } from "./memory.js";
import { type MmStruct, VmArea } from "./mm_types.js";
import { do_munmap, get_unmapped_area, PAGE_ALIGN, split_vma } from "./mmap.js";
import { PMD_SIZE, pmd_index, pte_index, TASK_SIZE } from "./pgtable.js";

export function do_mremap(
  k: Kernel,
  mm: MmStruct,
  addr: number,
  oldLen: number,
  newLen: number,
  flags: number,
  newAddr: number,
): number {
  if (flags & ~(MREMAP.MREMAP_MAYMOVE | MREMAP.MREMAP_FIXED | MREMAP.MREMAP_DONTUNMAP)) return -EINVAL;
  if (flags & MREMAP.MREMAP_FIXED && !(flags & MREMAP.MREMAP_MAYMOVE)) return -EINVAL;
  if (flags & MREMAP.MREMAP_DONTUNMAP && (!(flags & MREMAP.MREMAP_MAYMOVE) || oldLen !== newLen))
    return -EINVAL;
  if (addr % PAGE_SIZE !== 0) return -EINVAL;
  oldLen = PAGE_ALIGN(oldLen);
  newLen = PAGE_ALIGN(newLen);
  if (!newLen) return -EINVAL;
  const vma = mm.vma_lookup(addr);
  if (!vma || vma.vm_start > addr) return -EFAULT;
  if (vma.isHugetlb()) return -EINVAL;
  if (addr + oldLen > vma.vm_end) return -EFAULT;
  if (!(flags & MREMAP.MREMAP_FIXED)) {
    if (newLen <= oldLen) {
      if (newLen < oldLen) do_munmap(k, mm, addr + newLen, oldLen - newLen);
      return addr;
    }
    // grow in place: the range must end the VMA and the space after must be free
    if (addr + oldLen === vma.vm_end && !(vma.vm_flags & VM_DONTEXPAND)) {
      const next = mm.find_vma(vma.vm_end);
      if ((!next || next.vm_start >= addr + newLen) && addr + newLen <= TASK_SIZE) {
        const grow = (addr + newLen - vma.vm_end) / PAGE_SIZE;
        vma.vm_end = addr + newLen;
        mm.total_vm += grow;
        if (vma.vm_flags & VM_LOCKED) mm.locked_vm += grow;
        return addr;
      }
    }
    if (!(flags & MREMAP.MREMAP_MAYMOVE)) return -ENOMEM;
    newAddr = get_unmapped_area(mm, newLen, PAGE_SIZE);
    if (newAddr < 0) return newAddr;
  } else {
    if (newAddr % PAGE_SIZE !== 0 || newAddr + newLen > TASK_SIZE) return -EINVAL;
    if (newAddr < addr + oldLen && addr < newAddr + newLen) return -EINVAL;
    do_munmap(k, mm, newAddr, newLen);
  }
  return move_vma(k, mm, vma, addr, oldLen, newLen, newAddr, (flags & MREMAP.MREMAP_DONTUNMAP) !== 0);
}

/** move_vma(): a new VMA at newAddr receives the old range's page-table entries. */
function move_vma(
  k: Kernel,
  mm: MmStruct,
  vma: VmArea,
  addr: number,
  oldLen: number,
  newLen: number,
  newAddr: number,
  dontUnmap: boolean,
): number {
  let src = vma;
  if (src.vm_start < addr) src = split_vma(k, src, addr);
  if (src.vm_end > addr + oldLen) split_vma(k, src, addr + oldLen);
  const nv = new VmArea(
    mm,
    newAddr,
    newAddr + newLen,
    src.vm_flags,
    src.vm_pgoff,
    src.vm_file,
    src.vm_ops,
    src.anon_vma,
  );
  nv.anonVmaChain = [...src.anonVmaChain];
  for (const av of nv.anonVmaChain) av.vmas.add(nv);
  if (src.vm_file) k.mappings.get(src.vm_file.inodeId)?.i_mmap.add(nv);
  mm.insertVma(nv);
  mm.total_vm += nv.pages();
  if (nv.vm_flags & VM_LOCKED) mm.locked_vm += nv.pages();
  move_page_tables(k, src, nv, addr, newAddr, Math.min(oldLen, newLen));
  k.trace.emit("mremap_move", "mm/mremap.c: move_vma()", { mm: mm.id, from: addr, to: newAddr, len: newLen });
  if (dontUnmap) {
    // MREMAP_DONTUNMAP: the old range stays mapped, empty, and no longer locked
    if (src.vm_flags & VM_LOCKED) mm.locked_vm -= src.pages();
    src.vm_flags &= ~VM_LOCKED;
  } else do_munmap(k, mm, addr, oldLen);
  return newAddr;
}

function move_page_tables(
  k: Kernel,
  from: VmArea,
  to: VmArea,
  oldAddr: number,
  newAddr: number,
  len: number,
): void {
  const mm = from.vm_mm;
  for (let off = 0; off < len; off += PAGE_SIZE) {
    const a = oldAddr + off;
    const pmd = mm.pgtables.pmdTable(a, false);
    if (!pmd) continue;
    if (pmd.bits[pmd_index(a)] & PTE.LEAF) __split_huge_pmd(k, from, Math.floor(a / PMD_SIZE) * PMD_SIZE);
    const t = pmd.pte[pmd_index(a)];
    if (!t) continue;
    const i = pte_index(a);
    if (t.bits[i] === 0) continue;
    const dt = mm.pgtables.pteTable(newAddr + off, true)!;
    set_pte(dt, pte_index(newAddr + off), t.pfn[i], t.bits[i]);
    set_pte(t, i, 0, 0);
  }
  void to;
}
