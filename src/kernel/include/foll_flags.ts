/**
 * FOLL_* flags of Linux 6.18 with the kernel's values.
 * Public flags: include/linux/mm_types.h (anonymous enum).
 * Internal flags: mm/internal.h; callers may never pass them (is_valid_gup_args()).
 * Gone in 6.18 and deliberately absent: FOLL_COW, FOLL_NUMA, FOLL_MLOCK,
 * FOLL_POPULATE, FOLL_SPLIT, FOLL_MIGRATION, FOLL_LRU (gup-api.md §2.1).
 */
export const FOLL_PUBLIC = {
  /** the caller will write; require (or fault in) a writable entry */
  FOLL_WRITE: 0x1,
  /** take a folio reference per page, released with put_page() */
  FOLL_GET: 0x2,
  /** core dump: error instead of faulting holes or returning zero pages */
  FOLL_DUMP: 0x4,
  /** ignore missing VM_READ/VM_WRITE (VM_MAY* suffice); writes only in COW mappings */
  FOLL_FORCE: 0x8,
  /** start I/O for a sleeping fault and return without waiting */
  FOLL_NOWAIT: 0x10,
  /** never fault; a missing page is -EFAULT */
  FOLL_NOFAULT: 0x20,
  /** report poisoned memory as -EHWPOISON rather than -EFAULT */
  FOLL_HWPOISON: 0x40,
  /** refuse non-anonymous VMAs */
  FOLL_ANON: 0x80,
  /** the pin is held indefinitely (RDMA, vfio, io_uring); needs FOLL_PIN */
  FOLL_LONGTERM: 0x100,
  /** split a PMD-mapped THP mapping into PTEs first */
  FOLL_SPLIT_PMD: 0x200,
  /** allow PCI peer-to-peer DMA pages */
  FOLL_PCI_P2PDMA: 0x400,
  /** non-fatal signals may interrupt fault retries */
  FOLL_INTERRUPTIBLE: 0x800,
  /** honour PROT_NONE NUMA-hinting entries (trigger the hinting fault) */
  FOLL_HONOR_NUMA_FAULT: 0x1000,
} as const;

export const FOLL_INTERNAL = {
  /** mark the page accessed; with FOLL_WRITE also dirty */
  FOLL_TOUCH: 0x10000,
  /** retry after VM_FAULT_RETRY; sets FAULT_FLAG_TRIED */
  FOLL_TRIED: 0x20000,
  /** a foreign mm: FAULT_FLAG_REMOTE, no pkey checks */
  FOLL_REMOTE: 0x40000,
  /** pin accounting; release with unpin_user_page*() only */
  FOLL_PIN: 0x80000,
  /** GUP-fast only, no slow-path fallback */
  FOLL_FAST_ONLY: 0x100000,
  /** GUP may drop and retake mmap_lock */
  FOLL_UNLOCKABLE: 0x200000,
  /** MADV_POPULATE_* VMA lookup and error reporting */
  FOLL_MADV_POPULATE: 0x400000,
} as const;

export const FOLL = { ...FOLL_PUBLIC, ...FOLL_INTERNAL } as const;
export type FollName = keyof typeof FOLL;

export const {
  FOLL_WRITE,
  FOLL_GET,
  FOLL_DUMP,
  FOLL_FORCE,
  FOLL_NOWAIT,
  FOLL_NOFAULT,
  FOLL_HWPOISON,
  FOLL_ANON,
  FOLL_LONGTERM,
  FOLL_SPLIT_PMD,
  FOLL_PCI_P2PDMA,
  FOLL_INTERRUPTIBLE,
  FOLL_HONOR_NUMA_FAULT,
} = FOLL_PUBLIC;

export const {
  FOLL_TOUCH,
  FOLL_TRIED,
  FOLL_REMOTE,
  FOLL_PIN,
  FOLL_FAST_ONLY,
  FOLL_UNLOCKABLE,
  FOLL_MADV_POPULATE,
} = FOLL_INTERNAL;

/** mm/internal.h: INTERNAL_GUP_FLAGS = 0x7F0000 */
export const INTERNAL_GUP_FLAGS =
  FOLL_TOUCH | FOLL_TRIED | FOLL_REMOTE | FOLL_PIN | FOLL_FAST_ONLY | FOLL_UNLOCKABLE | FOLL_MADV_POPULATE;

/** "FOLL_WRITE|FOLL_LONGTERM" for a flag word; unknown bits as hex. */
export function formatFoll(flags: number): string {
  const names: string[] = [];
  let rest = flags;
  for (const [name, bit] of Object.entries(FOLL)) {
    if (flags & bit) {
      names.push(name);
      rest &= ~bit;
    }
  }
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names.length ? names.join("|") : "0";
}
