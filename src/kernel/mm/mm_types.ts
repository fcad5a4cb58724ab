/**
 * mm_struct, vm_area_struct, anon_vma and vm_fault (include/linux/mm_types.h,
 * include/linux/rmap.h): the virtual side of memory. Behaviour lives in the
 * mm/ modules; these are the records they share.
 */
import { PAGE_SIZE } from "../include/mmzone.js";
import { VM_HUGETLB, VM_SHARED, VM_MAYSHARE } from "../include/vm_flags.js";
import { PageTables } from "./pgtable.js";

/** include/linux/mm_types.h: vm_operations_struct, the hooks a file system or driver provides. */
export interface VmOperations {
  /** what the VMA maps: shmem, hugetlb, secretmem, a block-fs file, fsdax, a driver */
  readonly name: "shmem" | "hugetlbfs" | "secretmem" | "file" | "fsdax" | "special";
  /**
   * ->fault(): find or create the page-cache folio for vmf.pgoff. On success
   * returns 0 with vmf.page set to the page (a reference taken for the caller);
   * otherwise VM_FAULT_* error bits.
   */
  fault(vmf: VmFault): number;
  /** ->page_mkwrite(): the file system prepares the folio for writing (blocks, buffers). */
  page_mkwrite?(vmf: VmFault): number;
  /** ->pfn_mkwrite() (fsdax) */
  pfn_mkwrite?(vmf: VmFault): number;
  /** huge page size of the mapping (hugetlbfs), in pages */
  readonly hugePages?: number;
}

/** The open-file side a VMA needs (struct file → f_mapping). */
export interface MappedFile {
  readonly inodeId: number;
  /** mapping_can_writeback(): the backing device writes back dirty pages */
  readonly canWriteback: boolean;
  /** FMODE_WRITE: the file was opened for writing */
  readonly writable: boolean;
}

/**
 * anon_vma: the reverse-map anchor of anonymous pages. A forked VMA is linked
 * into every anon_vma of its parent's chain (anon_vma_fork()), so an rmap walk
 * from a parent's page also finds the child's mappings.
 */
export class AnonVma {
  readonly vmas = new Set<VmArea>();
  constructor(
    readonly id: number,
    readonly parent: AnonVma | null,
  ) {}
}

export class VmArea {
  /** every anon_vma this VMA is linked to (anon_vma_chain) */
  anonVmaChain: AnonVma[] = [];
  constructor(
    public vm_mm: MmStruct,
    public vm_start: number,
    public vm_end: number,
    public vm_flags: number,
    /** page offset into the file, or vm_start >> PAGE_SHIFT for anonymous memory */
    public vm_pgoff: number,
    public vm_file: MappedFile | null,
    public vm_ops: VmOperations | null,
    /** the anon_vma new anonymous pages of this VMA are added to */
    public anon_vma: AnonVma | null = null,
  ) {}

  /** vma_is_anonymous(): no vm_ops. MAP_SHARED|MAP_ANONYMOUS is shmem, not anonymous. */
  isAnonymous(): boolean {
    return this.vm_ops === null;
  }
  isHugetlb(): boolean {
    return (this.vm_flags & VM_HUGETLB) !== 0;
  }
  isShared(): boolean {
    return (this.vm_flags & (VM_SHARED | VM_MAYSHARE)) !== 0;
  }
  pages(): number {
    return (this.vm_end - this.vm_start) / PAGE_SIZE;
  }
  /** linear_page_index() */
  pgoffOf(addr: number): number {
    return (addr - this.vm_start) / PAGE_SIZE + this.vm_pgoff;
  }
  /** The address of file/anon page index idx in this VMA (vma_address()), or -1. */
  addressOf(idx: number): number {
    // page->index is stored modulo 2^32; any VMA is far below 2^32 pages.
    const off = (idx - (this.vm_pgoff >>> 0)) >>> 0;
    if (off >= this.pages()) return -1;
    return this.vm_start + off * PAGE_SIZE;
  }
  contains(addr: number): boolean {
    return addr >= this.vm_start && addr < this.vm_end;
  }
}

/** mm->flags bits (include/linux/mm_types.h, MMF_*) */
export const MMF_HAS_PINNED = 1 << 0;
export const MMF_OOM_SKIP = 1 << 1;

export class MmStruct {
  readonly pgtables = new PageTables();
  /** the VMA tree (maple tree in the kernel), sorted by vm_start */
  vmas: VmArea[] = [];
  /** mm->flags */
  flags = 0;
  /** write_protect_seq: odd while fork() write-protects COW pages (GUP-fast backs off) */
  write_protect_seq = 0;
  /** mm->pinned_vm (pages): VmPin */
  pinned_vm = 0;
  /** mm->locked_vm (pages): VmLck */
  locked_vm = 0;
  /** mm->total_vm (pages) */
  total_vm = 0;
  /** VM_LOCKED default for new mappings after mlockall(MCL_FUTURE) (mm->def_flags) */
  def_flags = 0;
  mm_users = 1;
  /** RSS by kind, in pages (MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES) */
  rss = { file: 0, anon: 0, shmem: 0 };
  constructor(
    readonly id: number,
    /** mmap_base: where top-down get_unmapped_area() starts */
    public mmap_base: number,
  ) {}

  /** find_vma(): the first VMA with vm_end > addr. */
  find_vma(addr: number): VmArea | null {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v[mid].vm_end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo < v.length ? v[lo] : null;
  }

  /** vma_lookup(): the VMA containing addr, or null. */
  vma_lookup(addr: number): VmArea | null {
    const vma = this.find_vma(addr);
    return vma && vma.vm_start <= addr ? vma : null;
  }

  insertVma(vma: VmArea): void {
    const i = this.vmas.findIndex((v) => v.vm_start > vma.vm_start);
    if (i < 0) this.vmas.push(vma);
    else this.vmas.splice(i, 0, vma);
  }

  removeVma(vma: VmArea): void {
    const i = this.vmas.indexOf(vma);
    if (i >= 0) this.vmas.splice(i, 1);
  }

  /** VMAs overlapping [start, end) */
  vmasIn(start: number, end: number): VmArea[] {
    return this.vmas.filter((v) => v.vm_start < end && v.vm_end > start);
  }

  hasPinned(): boolean {
    return (this.flags & MMF_HAS_PINNED) !== 0;
  }
}

/** struct vm_fault */
export interface VmFault {
  vma: VmArea;
  /** faulting address, page aligned */
  address: number;
  /** linear_page_index() of the address */
  pgoff: number;
  /** FAULT_FLAG_* */
  flags: number;
  /** the page the handler found or made (pfn), -1 if none */
  page: number;
  /** the folio the COW copied from, for the fault's tracepoint */
  cowFrom?: number;
}
