/**
 * /proc/vmstat counters the model keeps (include/linux/vm_event_item.h,
 * include/linux/mmzone.h node_stat_item). Exact, not per-cpu batched.
 */
export class VmStat {
  nr_foll_pin_acquired = 0;
  nr_foll_pin_released = 0;
  pgfault = 0;
  pgmajfault = 0;
  thp_fault_alloc = 0;
  thp_fault_fallback = 0;
  thp_split_pmd = 0;
  thp_split_page = 0;
  thp_split_page_failed = 0;
  thp_collapse_alloc = 0;
  thp_zero_page_alloc = 0;
  pgmigrate_success = 0;
  pgmigrate_fail = 0;
  cow_ksm = 0;
  /** COW copies made by do_wp_page()/wp_page_copy() (not a real vmstat item) */
  cow_copy = 0;
  /** fork-time copies of maybe-pinned anon pages (not a real vmstat item) */
  fork_copy_pinned = 0;
  nr_dirtied = 0;
  nr_written = 0;
  htlb_buddy_alloc_success = 0;
  htlb_buddy_alloc_fail = 0;

  snapshot(): Record<string, number> {
    return Object.fromEntries(Object.entries(this)) as Record<string, number>;
  }
}
