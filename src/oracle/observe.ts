/**
 * What the live kernel lets us observe, and how each scenario observer is
 * compared between the model and the kernel (docs/oracle.md "Observations").
 *
 * The model's observers read its struct pages directly; the live kernel is
 * seen from user space through /proc/PID/pagemap, /proc/kpageflags,
 * /proc/kpagecount, /proc/PID/status and /proc/PID/mem (the runner's
 * `pagemap`, `peek` and `status` ops). Some observers mean the same thing on
 * both sides and are compared literally; some can only be compared through
 * a projection both sides can compute; the rest are model-only (they are
 * not failures, they are reported as "not compared").
 */
import type { ObserverName } from "../scenario/calls.js";

/**
 * exact: the values are compared literally.
 * identity: page frame numbers are never compared literally (the live
 *   machine places pages where its allocator likes), only the pattern of
 *   equalities among the pfns one assert observes.
 * exclusive: compared as "mapped exactly once" (see OBSERVER_COMPARISON).
 * mapcount: compared as the page's precise mapcount (kpagecount).
 * order: the folio order, derived on the kernel side from kpageflags.
 * movable: only whether the page is in ZONE_MOVABLE.
 * model-only: not observable from user space; not compared.
 */
export type Comparison = "exact" | "identity" | "exclusive" | "mapcount" | "order" | "movable" | "model-only";

export interface ObserverComparison {
  how: Comparison;
  /** why it is compared this way (printed by `pinlab oracle` next to a skipped or projected value) */
  why: string;
}

/** Every observer of the language, and how the oracle compares it. */
export const OBSERVER_COMPARISON: { readonly [N in ObserverName]: ObserverComparison } = {
  load: {
    how: "exact",
    why: "the content word at the start of the page, read through /proc/PID/mem without faulting (FOLL_GET: never unshares); secretmem is unreadable there",
  },
  pfn: {
    how: "identity",
    why: "pfn values depend on the live allocator (mm/page_alloc.c); only which observed pages are the same page is compared",
  },
  mapped: { how: "exact", why: "pagemap bit 63 (PM_PRESENT)" },
  anon: { how: "exact", why: "/proc/kpageflags KPF_ANON" },
  hugetlb: { how: "exact", why: "/proc/kpageflags KPF_HUGE" },
  zero_page: {
    how: "exact",
    why: "/proc/kpageflags KPF_ZERO_PAGE (the shared zero page and the huge zero folio)",
  },
  anon_exclusive: {
    how: "exclusive",
    // fs/proc/task_mmu.c: pte_to_pagemap_entry() → __folio_page_mapped_exclusively():
    // with CONFIG_PAGE_MAPCOUNT=y (this kernel) folio_precise_page_mapcount() == 1.
    why: "PageAnonExclusive is not visible from user space; pagemap bit 56 (PM_MMAP_EXCLUSIVE) means 'mapped exactly once' (folio_precise_page_mapcount() == 1), so both sides are compared on that",
  },
  mapcount: {
    how: "mapcount",
    // fs/proc/page.c: get_kpage_count() → folio_precise_page_mapcount(): PTE mappings of
    // the page plus the folio's entire (PMD/PUD) mappings; the model's observer gives a large
    // folio's total mapcount, so the model side is projected onto the page's.
    why: "/proc/kpagecount is the page's precise mapcount (PTE mappings of the page + entire mappings of its folio); the model's folio mapcount is projected onto the page",
  },
  order: {
    how: "order",
    // fs/proc/page.c: stable_page_flags(): KPF_THP for a large anon (or LRU) folio, KPF_HUGE
    // for hugetlb; the hugetlb order comes from the VMA's KernelPageSize (smaps). Only the
    // PMD size is enabled among the anon THP sizes here (checked at start), so KPF_THP on an
    // anon page means order 9; a large page-cache folio's order is not visible (order > 0 only).
    why: "derived from KPF_THP/KPF_HUGE and the VMA's KernelPageSize (anon THP: order 9, the only THP size enabled; a large file folio: order > 0)",
  },
  zone: {
    how: "movable",
    why: "only ZONE_MOVABLE membership is comparable (the live machine's zone layout differs from the modelled memory size); other zones are not compared",
  },
  node: {
    how: "exact",
    why: "move_pages(2) with nodes == NULL on the page (mm/migrate.c: do_pages_stat())",
  },
  move_status: {
    how: "exact",
    why: "the status array move_pages(2) filled; both sides start it at INT_MIN, so an entry the kernel did not write compares equal",
  },
  vmpin: { how: "exact", why: "/proc/PID/status VmPin (mm->pinned_vm)" },
  vmlck: {
    how: "exact",
    why: "/proc/PID/status VmLck (mm->locked_vm); not compared after mlockall(), which also locks the runner's own code and buffers",
  },
  foll_pins: {
    how: "exact",
    why: "/proc/vmstat nr_foll_pin_acquired − nr_foll_pin_released, counted from the start of the run (which waits until the machine has no pin outstanding)",
  },
  exited: { how: "exact", why: "the process has exited (its worker reported the exit)" },
  rss: {
    how: "model-only",
    why: "VmRSS includes the runner's own code, heap and buffers in every process",
  },
  refcount: { how: "model-only", why: "a page's refcount is not visible from user space" },
  pincount: { how: "model-only", why: "a folio's pincount is not visible from user space" },
  maybe_pinned: { how: "model-only", why: "folio_maybe_dma_pinned() is not visible from user space" },
  dirty: {
    how: "model-only",
    why: "PG_dirty moves lazily from the PTE dirty bit to the folio (at unmap, writeback, reclaim): not comparable at a step boundary",
  },
  under_writeback: { how: "model-only", why: "PG_writeback is transient on the live kernel" },
  writable: { how: "model-only", why: "pagemap does not report whether a PTE is writable" },
  migratetype: { how: "model-only", why: "pageblock migratetypes are not visible per page from user space" },
  pinned: { how: "model-only", why: "pins held by one handle are not visible from user space" },
  referenced: { how: "model-only", why: "references held by one handle are not visible from user space" },
};

/** One page as the runner's `pagemap` op reports it (the fields the oracle uses). */
export interface KernelPage {
  present: boolean;
  exclusive: boolean;
  pfn?: number;
  anon?: boolean;
  thp?: boolean;
  hugetlb?: boolean;
  ksm?: boolean;
  zero?: boolean;
  mapcount?: number;
}
