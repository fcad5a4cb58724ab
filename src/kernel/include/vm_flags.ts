/**
 * vm_area_struct flags of Linux 6.18 (include/linux/mm.h), the low 32 bits the model uses.
 * VM_MERGEABLE is bit 31: test it with `!== 0`, never `> 0`.
 */
export const VM = {
  VM_NONE: 0x0,
  VM_READ: 0x1,
  VM_WRITE: 0x2,
  VM_EXEC: 0x4,
  VM_SHARED: 0x8,
  VM_MAYREAD: 0x10,
  VM_MAYWRITE: 0x20,
  VM_MAYEXEC: 0x40,
  VM_MAYSHARE: 0x80,
  VM_GROWSDOWN: 0x100,
  VM_UFFD_MISSING: 0x200,
  VM_PFNMAP: 0x400,
  VM_UFFD_WP: 0x1000,
  VM_LOCKED: 0x2000,
  VM_IO: 0x4000,
  VM_SEQ_READ: 0x8000,
  VM_RAND_READ: 0x10000,
  VM_DONTCOPY: 0x20000,
  VM_DONTEXPAND: 0x40000,
  VM_LOCKONFAULT: 0x80000,
  VM_ACCOUNT: 0x100000,
  VM_NORESERVE: 0x200000,
  VM_HUGETLB: 0x400000,
  VM_SYNC: 0x800000,
  VM_WIPEONFORK: 0x2000000,
  VM_DONTDUMP: 0x4000000,
  VM_MIXEDMAP: 0x10000000,
  VM_HUGEPAGE: 0x20000000,
  VM_NOHUGEPAGE: 0x40000000,
  VM_MERGEABLE: 0x80000000 | 0,
} as const;

export const {
  VM_NONE,
  VM_READ,
  VM_WRITE,
  VM_EXEC,
  VM_SHARED,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_MAYEXEC,
  VM_MAYSHARE,
  VM_GROWSDOWN,
  VM_PFNMAP,
  VM_UFFD_WP,
  VM_LOCKED,
  VM_IO,
  VM_DONTCOPY,
  VM_DONTEXPAND,
  VM_LOCKONFAULT,
  VM_ACCOUNT,
  VM_NORESERVE,
  VM_HUGETLB,
  VM_WIPEONFORK,
  VM_DONTDUMP,
  VM_MIXEDMAP,
  VM_HUGEPAGE,
  VM_NOHUGEPAGE,
  VM_MERGEABLE,
} = VM;

/** include/linux/mm.h: VM_SPECIAL — mappings that are not ordinary RAM */
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

/** include/linux/mm.h: is_cow_mapping(): private and may become writable */
export function is_cow_mapping(flags: number): boolean {
  return (flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
}

export function formatVmFlags(flags: number): string {
  const out: string[] = [];
  for (const [name, bit] of Object.entries(VM)) if (bit && flags & bit) out.push(name.slice(3).toLowerCase());
  return out.join(" ");
}
