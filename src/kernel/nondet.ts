/**
 * Where the kernel's outcome is not a function of what user space did: a
 * choice the model names instead of deciding by chance. A run takes the
 * usual outcome at every choice unless told to take the other one at a
 * given occurrence ("name#n", counted from 0 per name); the oracle
 * (src/oracle/differential.ts) re-runs the model with other outcomes when
 * the live kernel took them. Each point cites the kernel code behind it.
 */
export interface NondetPoint {
  name: string;
  /** the kernel source, and what the unusual outcome does */
  why: string;
}

export const NONDET = {
  hugetlbPudTableLooksShared: {
    name: "hugetlb_pud_table_looks_shared",
    // mm/hugetlb.c: copy_hugetlb_page_range() skips a page table that is shared
    // (ptdesc_pmd_is_shared(virt_to_ptdesc(dst_pte))). For a 1G page dst_pte lies in a PUD
    // table, which nothing initialises as a shared PMD table: its pt_share_count aliases the
    // page->index its struct page kept from an earlier use (include/linux/mm_types.h:
    // struct ptdesc), so by chance the child's fresh PUD table "looks shared".
    why: "fork skipped the child's 1G hugetlb entries: copy_hugetlb_page_range() read the fresh PUD table's pt_share_count (the stale page->index of its struct page) as nonzero",
  },
} as const satisfies Record<string, NondetPoint>;

/** The choices of one run: which occurrences take the unusual outcome, and which were met. */
export class NondetChoices {
  /** every occurrence met, in order ("name#n") */
  readonly seen: string[] = [];
  private readonly counts = new Map<string, number>();

  constructor(private readonly unusual: ReadonlySet<string> = new Set()) {}

  /** Meet a choice point: true when this occurrence takes the unusual outcome. */
  take(p: NondetPoint): boolean {
    const n = this.counts.get(p.name) ?? 0;
    this.counts.set(p.name, n + 1);
    const key = `${p.name}#${n}`;
    this.seen.push(key);
    return this.unusual.has(key);
  }
}
