/**
 * Bits of a page-table entry in the model (arch/x86/include/asm/pgtable_types.h names).
 * A PTE/PMD/PUD entry is a pfn plus these bits. A non-present entry with SWP set
 * is a swap-style entry whose kind is in the KIND bits and whose pfn field
 * is the target (migration) or the swap offset.
 */
export const PTE = {
  PRESENT: 1 << 0,
  WRITE: 1 << 1,
  DIRTY: 1 << 2,
  YOUNG: 1 << 3,
  /** _PAGE_SPECIAL: vm_normal_page() returns NULL (zero page, PFNMAP) */
  SPECIAL: 1 << 4,
  /** PROT_NONE / NUMA hinting: present in hardware terms but inaccessible */
  PROTNONE: 1 << 5,
  UFFD_WP: 1 << 6,
  SOFT_DIRTY: 1 << 7,
  /** _PAGE_PSE: a PMD or PUD leaf (huge mapping) */
  LEAF: 1 << 8,
  /** non-present swap-style entry; KIND says which */
  SWP: 1 << 9,
  /** for SWP entries: migration entry (pfn = folio under migration) */
  MIGRATION: 1 << 10,
  /** for migration entries: was writable */
  MIGRATION_WRITE: 1 << 11,
  /** swap/migration entry of an exclusive anon page (pte_swp_exclusive) */
  SWP_EXCLUSIVE: 1 << 12,
  /** PTE marker (e.g. guard region, uffd-wp marker) */
  MARKER: 1 << 13,
} as const;
