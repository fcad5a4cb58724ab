/**
 * The spec's rule identifiers with one line each, for `pinlab explain`:
 * `[SLOW-7]`-style rules of gup-api.md (the GUP/PUP API and core algorithm)
 * and the compact rules P0–P10 of gup-semantics.md §8 (what memory
 * management does with pinned folios), plus gup-api.md §13, the errno
 * summary. A snapshot of the spec the model was written from (Linux 6.18.2);
 * the model's comments and tests cite these identifiers.
 */

export interface SpecRule {
  /** the rule, shortened to its first sentence */
  text: string;
  /** the spec file and section */
  where: string;
}

export const SPEC_RULES: Readonly<Record<string, SpecRule>> = {
  P0: {
    text: 'granularity: everything below that says "pinned" really tests folio_maybe_dma_pinned(folio) on the whole folio, so a model must propagate a pin on any subpage to all subpages of a large folio (fork copies *all* of them, split refuses, etc.).',
    where: "gup-semantics.md §0. State the simulator must carry (minimum needed for the rules below)",
  },
  P1: {
    text: 'A pin on any subpage makes the whole folio "maybe pinned"; small folios also become "maybe pinned" at ≥ 1024 plain refs.',
    where: "gup-semantics.md §8. Rules in compact form (for the simulator)",
  },
  P2: {
    text: "Only exclusive anon pages can be pinned; a R/O pin on a non-exclusive anon page (or, for LONGTERM in a COW mapping, on a pagecache/zero page) first unshares it, giving the pinning mm a private exclusive R/O-mapped copy.",
    where: "gup-semantics.md §8. Rules in compact form (for the simulator)",
  },
  P3: {
    text: "Exclusive + maybe-pinned anon pages cannot lose exclusivity: fork copies them for the child (parent untouched), KSM/swap/migration back off (-EBUSY internally).",
    where: "gup-semantics.md §8. Rules in compact form (for the simulator)",
  },
  P4: {
    text: "MMF_HAS_PINNED gates P3-fork; set at first pin attempt on that mm; never cleared.",
    where: "gup-semantics.md §8. Rules in compact form (for the simulator)",
  },
  P5: {
    text: "LONGTERM pins must end in non-movable, non-CMA, non-isolated, non-device-coherent, non-FSDAX memory: migrate-unpin-repin loop; errors -ENOMEM (migration), -EBUSY (device coherent), -EOPNOTSUPP (FSDAX VMA), -EFAULT (writable dirty-tracked file, secretmem).",
    where: "gup-semantics.md §8. Rules in compact form (for the simulator)",
  },
  P6: {
    text: "Anything that needs refcount == expected (migration, compaction, split, collapse, KSM, UFFDIO_MOVE, CMA, offlining) fails on pinned folios; offlining retries forever, CMA tries other ranges, the rest return EBUSY/EAGAIN or silently skip.",
    where: "gup-semantics.md §8. Rules in compact form (for the simulator)",
  },
  P7: {
    text: "Reclaim never frees, swaps, or strips private data of a pinned folio, but may unmap a pinned pagecache folio from page tables.",
    where: "gup-semantics.md §8. Rules in compact form (for the simulator)",
  },
  P8: {
    text: "Truncate/hole-punch/MADV_DONTNEED/munmap ignore pins: mapping and pinned folio diverge; the pin keeps the folio alive as an orphan.",
    where: "gup-semantics.md §8. Rules in compact form (for the simulator)",
  },
  P9: {
    text: "Writeback ignores pins: pinned pagecache folios are cleaned and write-protected; re-dirtying on unpin goes through folio_mark_dirty() without page_mkwrite.",
    where: "gup-semantics.md §8. Rules in compact form (for the simulator)",
  },
  P10: {
    text: "FOLL_GET references get none of P2/P3/P7's name-based protections; hugetlb COW reuse is mapcount-based, so FOLL_GET observers can leak across fork on hugetlb.",
    where: "gup-semantics.md §8. Rules in compact form (for the simulator)",
  },
  "ACCT-1": {
    text: "Folio with a pincount field: each pin adds 1 to refcount and 1 to _pincount.",
    where: "gup-api.md §9.2 Representation of a pin",
  },
  "ACCT-2": {
    text: "Folio without one (small folios): each pin adds 1024 to refcount.",
    where: "gup-api.md §9.2 Representation of a pin",
  },
  "ACCT-3": {
    text: "FOLL_GET: each reference adds 1 to refcount.",
    where: "gup-api.md §9.2 Representation of a pin",
  },
  "ACCT-4": {
    text: "Pins are per *returned page*: pinning k subpages of one large folio adds k to both refcount and _pincount; NR_FOLL_PIN_ACQUIRED increases by k.",
    where: "gup-api.md §9.2 Representation of a pin",
  },
  "ACCT-5": {
    text: "folio_maybe_dma_pinned(folio): large → _pincount > 0 (exact); small → (unsigned)refcount >= 1024 (fuzzy: ≥ 1024 ordinary references are a false positive; false negatives are impossible; the unsigned comparison keeps it true even if the signed refcount …",
    where: "gup-api.md §9.2 Representation of a pin",
  },
  "ACCT-6": {
    text: "folio_needs_cow_for_dma(vma, folio): false unless the MM has MMF_HAS_PINNED; then folio_maybe_dma_pinned.",
    where: "gup-api.md §9.2 Representation of a pin",
  },
  "ACCT-7": {
    text: "nr_foll_pin_acquired / nr_foll_pin_released (include/linux/mmzone.h, mm/vmstat.c) are per-node counters summed globally.",
    where: "gup-api.md §9.6 Node counters and MMF_HAS_PINNED",
  },
  "ACCT-8": {
    text: "GUP-fast counts transient pins: it takes the pin first and drops it again if a later check fails (§11.3, §11.4), so a failed fast attempt moves both counters by the same amount.",
    where: "gup-api.md §9.6 Node counters and MMF_HAS_PINNED",
  },
  "ACCT-9": {
    text: "folio_add_pin adds a pin without incrementing NR_FOLL_PIN_ACQUIRED; the later unpin increments NR_FOLL_PIN_RELEASED.",
    where: "gup-api.md §9.6 Node counters and MMF_HAS_PINNED",
  },
  "ACCT-10": {
    text: "MMF_HAS_PINNED is set on the target MM by every FOLL_PIN slow-path call (__get_user_pages_locked, once the lock is held) and every FOLL_PIN fast call (gup_fast_fallback, after flag validation) — before anything is pinned, even if nothing ends up pinned — and …",
    where: "gup-api.md §9.6 Node counters and MMF_HAS_PINNED",
  },
  "ARG-1": {
    text: "Caller flags contain any of INTERNAL_GUP_FLAGS → invalid (warning).",
    where: "gup-api.md §3.1 is_valid_gup_args(pages, locked, &gup_flags, to_set) (mm/gup.c)",
  },
  "ARG-2": {
    text: "If locked != NULL: *locked must equal 1, else invalid (warning).",
    where: "gup-api.md §3.1 is_valid_gup_args(pages, locked, &gup_flags, to_set) (mm/gup.c)",
  },
  "ARG-3": {
    text: "FOLL_GET and FOLL_PIN both set → invalid (warning).",
    where: "gup-api.md §3.1 is_valid_gup_args(pages, locked, &gup_flags, to_set) (mm/gup.c)",
  },
  "ARG-4": {
    text: "FOLL_LONGTERM without FOLL_PIN → invalid (warning).",
    where: "gup-api.md §3.1 is_valid_gup_args(pages, locked, &gup_flags, to_set) (mm/gup.c)",
  },
  "ARG-5": {
    text: "FOLL_GET or FOLL_PIN set and pages == NULL → invalid (warning).",
    where: "gup-api.md §3.1 is_valid_gup_args(pages, locked, &gup_flags, to_set) (mm/gup.c)",
  },
  "ARG-6": {
    text: "FOLL_LONGTERM together with FOLL_PCI_P2PDMA → invalid (warning).",
    where: "gup-api.md §3.1 is_valid_gup_args(pages, locked, &gup_flags, to_set) (mm/gup.c)",
  },
  "ARG-7": {
    text: "What an entry point returns on invalid arguments differs: get_user_pages, get_user_pages_remote, get_user_pages_unlocked, get_user_pages_fast, get_user_pages_fast_only and pin_user_pages_fast return -EINVAL; pin_user_pages, pin_user_pages_remote and pin_user_pages_unlocked return 0.",
    where: "gup-api.md §3.1 is_valid_gup_args(pages, locked, &gup_flags, to_set) (mm/gup.c)",
  },
  "ARG-8": {
    text: "After is_valid_gup_args, gup_fast_fallback warns and returns -EINVAL if any flag outside this set is present: FOLL_WRITE, FOLL_LONGTERM, FOLL_FORCE, FOLL_PIN, FOLL_GET, FOLL_FAST_ONLY, FOLL_NOFAULT, FOLL_PCI_P2PDMA, FOLL_HONOR_NUMA_FAULT.",
    where: "gup-api.md §3.2 GUP-fast flag whitelist (gup_fast_fallback)",
  },
  "ARG-9": {
    text: "get_user_page_vma_remote() (inline, include/linux/mm.h) warns and returns ERR_PTR(-EINVAL) if FOLL_NOWAIT is passed.",
    where: "gup-api.md §3.3 Other argument checks",
  },
  "ARG-10": {
    text: "gup_fast_fallback: start is untagged and rounded down to a page boundary; len = nr_pages << PAGE_SHIFT; if start + len overflows → -EOVERFLOW; if the end is above TASK_SIZE_MAX → -EFAULT.",
    where: "gup-api.md §3.3 Other argument checks",
  },
  "ARG-11": {
    text: "Zero count: the slow-path functions return 0 immediately when nr_pages == 0 (__get_user_pages, __get_user_pages_locked).",
    where: "gup-api.md §3.3 Other argument checks",
  },
  "ARG-12": {
    text: "Slow path: start is untagged (untagged_addr_remote) but not aligned; the offset inside the page is kept, and page i of the result is the page containing start + i*PAGE_SIZE.",
    where: "gup-api.md §3.3 Other argument checks",
  },
  "ARG-13": {
    text: "__get_user_pages warns (debug builds only, VM_WARN_ON_ONCE) if pages is given without GET/PIN or vice versa, and if GET and PIN are both set.",
    where: "gup-api.md §3.3 Other argument checks",
  },
  "EXP-2": { text: ".", where: "gup-api.md §9.4 Zero page versus huge zero folio" },
  "EXP-3": {
    text: "2 MiB → 512 pins, 5 subpages → 5 pins.",
    where: "gup-api.md §12. THP, PUD and hugetlb specifics",
  },
  "EXP-4": {
    text: "pinning 2 MiB backed by the huge zero folio counted 512 acquired and 512 released.",
    where: "gup-api.md §9.4 Zero page versus huge zero folio",
  },
  "EXP-5": {
    text: "(So /proc/<pid>/mem can read PROT_NONE and write-only mappings,.)",
    where: "gup-api.md §6.3 check_vma_flags — permission rules",
  },
  "EXP-6": { text: ".", where: "gup-api.md §4.3 Populate / prefault helpers" },
  "EXP-7": { text: "Verified.", where: "gup-api.md §6.3 check_vma_flags — permission rules" },
  "EXP-8": {
    text: "process_vm_writev into PROT_READ memory fails with EFAULT;",
    where: "gup-api.md §10.4 Worked semantics (all verified against source; [EXP] where observed)",
  },
  "EXP-10": {
    text: "without a pin the parent's write caused a COW copy.",
    where: "gup-api.md §10.5 Interaction with fork (context for the model)",
  },
  "FAST-1": {
    text: "FOLL_PIN → set MMF_HAS_PINNED.",
    where: "gup-api.md §11.1 gup_fast_fallback(start, nr_pages, flags, pages)",
  },
  "FAST-2": {
    text: "If nr == nr_pages or FOLL_FAST_ONLY → return nr.",
    where: "gup-api.md §11.1 gup_fast_fallback(start, nr_pages, flags, pages)",
  },
  "FAST-3": {
    text: "Otherwise run the slow path for the rest only: __gup_longterm_locked( current->mm, start + nr pages, nr_pages - nr, pages + nr, &locked (= 0), flags | FOLL_TOUCH | FOLL_UNLOCKABLE).",
    where: "gup-api.md §11.1 gup_fast_fallback(start, nr_pages, flags, pages)",
  },
  "FAST-4": {
    text: "Slow result < 0: return nr if nr > 0 (the caller must release them), else the error.",
    where: "gup-api.md §11.1 gup_fast_fallback(start, nr_pages, flags, pages)",
  },
  "FAST-5": {
    text: "FOLL_PIN: if write_protect_seq is odd (a fork is copying page tables right now) → return 0 (full fallback).",
    where: "gup-api.md §11.2 gup_fast(start, end, flags, pages)",
  },
  "FAST-6": {
    text: "FOLL_PIN: after the walk, if write_protect_seq changed, unpin every page pinned by this walk and return 0.",
    where: "gup-api.md §11.2 gup_fast(start, end, flags, pages)",
  },
  "FAST-7": {
    text: 'PROT_NONE (always, regardless of FOLL_HONOR_NUMA_FAULT — this is why the fast-only API "always honours NUMA faults");',
    where: "gup-api.md §11.3 Walker rules",
  },
  "FAST-8": {
    text: "FOLL_LONGTERM and !folio_is_longterm_pinnable → drop the refs, NULL; convert the refs into pins (large: _pincount += refs; small: refcount += refs * 1023 so the total becomes refs * 1024); memory barrier (pairs with the exclusivity clearing in …",
    where: "gup-api.md §11.4 try_grab_folio_fast(page, refs, flags)",
  },
  "FAST-9": { text: "gup_fast_folio_allowed false → release;", where: "gup-api.md §11.3 Walker rules" },
  "FLT-1": {
    text: "FOLL_NOFAULT → -EFAULT without calling the fault handler.",
    where: "gup-api.md §6.4 faultin_page — fault flags and result mapping",
  },
  "FLT-2": {
    text: "VM_FAULT_COMPLETED (fault finished with the lock already released): *locked = 0, return -EAGAIN (warning if RETRY_NOWAIT was set — cannot happen).",
    where: "gup-api.md §6.4 faultin_page — fault flags and result mapping",
  },
  "FLT-3": {
    text: "VM_FAULT_ERROR bits → vm_fault_to_errno(ret, flags) (include/linux/mm.h): VM_FAULT_OOM → -ENOMEM; VM_FAULT_HWPOISON[_LARGE] → -EHWPOISON if FOLL_HWPOISON, else -EFAULT; VM_FAULT_SIGBUS / VM_FAULT_SIGSEGV → -EFAULT.",
    where: "gup-api.md §6.4 faultin_page — fault flags and result mapping",
  },
  "FLT-4": {
    text: "VM_FAULT_RETRY: if RETRY_NOWAIT was *not* requested, the handler released the lock → *locked = 0; return -EBUSY either way.",
    where: "gup-api.md §6.4 faultin_page — fault flags and result mapping",
  },
  "FLT-5": {
    text: "sanitize_fault_flags: UNSHARE with WRITE → warning + VM_FAULT_SIGSEGV; UNSHARE on a non-COW mapping is silently dropped (becomes a read fault).",
    where: "gup-api.md §6.5 What the fault handler does for GUP (the parts that matter)",
  },
  "GRAB-1": {
    text: "refcount <= 0 → warning, -ENOMEM (covers freed folios and a refcount that has overflowed into the sign bit).",
    where: "gup-api.md §9.3 try_grab_folio(folio, refs, flags) — slow path (folio already stable)",
  },
  "GRAB-2": {
    text: "PCI P2PDMA folio and no FOLL_PCI_P2PDMA → -EREMOTEIO.",
    where: "gup-api.md §9.3 try_grab_folio(folio, refs, flags) — slow path (folio already stable)",
  },
  "HUGE-1": {
    text: "PMD-mapped THP: one slow-path follow yields up to 512 consecutive subpages (page_increm, [SLOW-10]); a fast walk records all subpages of the leaf that fall in the range.",
    where: "gup-api.md §12. THP, PUD and hugetlb specifics",
  },
  "HUGE-2": {
    text: "PTE-mapped large folios (mTHP, split PMDs): per-PTE processing; counts still land in the folio's _pincount; exclusivity is per subpage.",
    where: "gup-api.md §12. THP, PUD and hugetlb specifics",
  },
  "HUGE-3": {
    text: "FOLL_SPLIT_PMD: only acts on THP PMD leaves (pmd_trans_huge); splits the PMD mapping into PTEs and continues at PTE level ([WALK-5]); hugetlb VMAs → -EOPNOTSUPP ([VMA-4]); rejected by the fast path ([ARG-8]).",
    where: "gup-api.md §12. THP, PUD and hugetlb specifics",
  },
  "HUGE-4": {
    text: "Huge zero folio: read faults on THP-enabled private anon memory map it (special PMD since 6.18).",
    where: "gup-api.md §12. THP, PUD and hugetlb specifics",
  },
  "HUGE-5": {
    text: "hugetlb: folios are always large (exact _pincount).",
    where: "gup-api.md §12. THP, PUD and hugetlb specifics",
  },
  "HUGE-6": {
    text: "PUD leaves do not implement soft-dirty/uffd-wp write checks, FOLL_DUMP, PROT_NONE or FOLL_TOUCH handling in the slow path.",
    where: "gup-api.md §12. THP, PUD and hugetlb specifics",
  },
  "HUGE-7": {
    text: "FOLL_TOUCH on a PMD leaf marks the PMD young/dirty (touch_pmd), not the folio; on a PTE it marks the folio accessed/dirty ([PTE-8]).",
    where: "gup-api.md §12. THP, PUD and hugetlb specifics",
  },
  "LOCK-1": {
    text: "nr_pages == 0 → return 0.",
    where: "gup-api.md §5. Slow path: lock handling and retry — __get_user_pages_locked",
  },
  "LOCK-2": {
    text: "If *locked == 0: take mmap_read_lock_killable; on failure return -EAGAIN (not -EINTR); remember must_unlock = true; set *locked = 1.",
    where: "gup-api.md §5. Slow path: lock handling and retry — __get_user_pages_locked",
  },
  "LOCK-3": {
    text: "If FOLL_PIN: set MMF_HAS_PINNED on the MM (sticky, never cleared).",
    where: "gup-api.md §5. Slow path: lock handling and retry — __get_user_pages_locked",
  },
  "LOCK-4": {
    text: "If pages != NULL and FOLL_PIN is not set, add FOLL_GET.",
    where: "gup-api.md §5. Slow path: lock handling and retry — __get_user_pages_locked",
  },
  "LOCK-5": {
    text: "If FOLL_UNLOCKABLE is not set: the result is final (pages_done = ret).",
    where: "gup-api.md §5. Slow path: lock handling and retry — __get_user_pages_locked",
  },
  "LOCK-6": {
    text: "If *locked is still 1 (no retry happened, or it was a FOLL_NOWAIT retry): stop; if nothing was done yet, pages_done = ret (an error or 0).",
    where: "gup-api.md §5. Slow path: lock handling and retry — __get_user_pages_locked",
  },
  "LOCK-7": {
    text: "The lock was dropped by the fault handler (VM_FAULT_RETRY or VM_FAULT_COMPLETED): advance pages and start by ret, set must_unlock = true, then loop on the single faulting page: * [LOCK-8] if a fatal signal is pending — or, with FOLL_INTERRUPTIBLE, any signal …",
    where: "gup-api.md §5. Slow path: lock handling and retry — __get_user_pages_locked",
  },
  "LOCK-8": {
    text: "if a fatal signal is pending — or, with FOLL_INTERRUPTIBLE, any signal (gup_signal_pending) — stop with -EINTR if nothing was done yet;",
    where: "gup-api.md §5. Slow path: lock handling and retry — __get_user_pages_locked",
  },
  "LOCK-9": {
    text: "On exit, if must_unlock and the lock is held: release it and set *locked = 0.",
    where: "gup-api.md §5. Slow path: lock handling and retry — __get_user_pages_locked",
  },
  "LOCK-10": {
    text: "If pages_done == 0 and FOLL_NOWAIT is not set → warning and -EFAULT.",
    where: "gup-api.md §5. Slow path: lock handling and retry — __get_user_pages_locked",
  },
  "LT-1": {
    text: "Without FOLL_LONGTERM it is a plain call of __get_user_pages_locked.",
    where: "gup-api.md §8.1 __gup_longterm_locked",
  },
  "LT-2": {
    text: "With it, inside a memalloc_pin_save() scope: do: n = __get_user_pages_locked(mm, start, nr_pages, pages, locked, flags) if n <= 0: rc = n; break rc = check_and_migrate_movable_pages(n, pages) # only the n pages actually pinned while rc == -EAGAIN return rc if …",
    where: "gup-api.md §8.1 __gup_longterm_locked",
  },
  "LT-3": {
    text: "Collect: walk distinct folios of the result (consecutive entries belonging to the same large folio are visited once).",
    where:
      "gup-api.md §8.2 Which folios may stay long-term pinned — folio_is_longterm_pinnable (include/linux/mm.h)",
  },
  "LT-4": {
    text: "Nothing collected → return 0: all pins stay.",
    where:
      "gup-api.md §8.2 Which folios may stay long-term pinned — folio_is_longterm_pinnable (include/linux/mm.h)",
  },
  "LT-5": {
    text: "Otherwise, for every entry (pinnable or not): device-coherent folio → convert the pin into a plain reference and migrate it with migrate_device_coherent_folio (failure → -EBUSY); any other entry → unpin_folio (one pin per entry) and clear the entry.",
    where:
      "gup-api.md §8.2 Which folios may stay long-term pinned — folio_is_longterm_pinnable (include/linux/mm.h)",
  },
  "LT-6": {
    text: "Error path: unpin all entries not yet cleared, put back the list, return the error (-EBUSY / -ENOMEM).",
    where:
      "gup-api.md §8.2 Which folios may stay long-term pinned — folio_is_longterm_pinnable (include/linux/mm.h)",
  },
  "MEMFD-1": {
    text: "-EINVAL if start < 0, start > end, max_folios == 0, memfd == NULL, the file is neither shmem nor hugetlbfs, or end >= i_size.",
    where: "gup-api.md §4.5 memfd_pin_folios",
  },
  "MEMFD-2": {
    text: "Index computation: for shmem the page-cache index of a byte offset is off >> PAGE_SHIFT.",
    where: "gup-api.md §4.5 memfd_pin_folios",
  },
  "MEMFD-3": {
    text: "Under memalloc_pin_save() (§8.3), repeat: 1.",
    where: "gup-api.md §4.5 memfd_pin_folios",
  },
  "MEMFD-4": {
    text: "Returns the number of folios pinned (may be less than max_folios), or -errno.",
    where: "gup-api.md §4.5 memfd_pin_folios",
  },
  "PMD-1": {
    text: "FOLL_WRITE and !can_follow_write_pmd → NULL.",
    where: "gup-api.md §7.5 follow_huge_pmd (PMD leaf: THP, hugetlb 2 MiB, DAX)",
  },
  "PMD-2": {
    text: "FOLL_DUMP and the entry maps the huge zero folio → -EFAULT.",
    where: "gup-api.md §7.5 follow_huge_pmd (PMD leaf: THP, hugetlb 2 MiB, DAX)",
  },
  "PMD-3": {
    text: "Not writable and gup_must_unshare(vma, flags, head page) → -EMLINK.",
    where: "gup-api.md §7.5 follow_huge_pmd (PMD leaf: THP, hugetlb 2 MiB, DAX)",
  },
  "PMD-4": {
    text: "try_grab_folio(folio, 1, flags); error → that error.",
    where: "gup-api.md §7.5 follow_huge_pmd (PMD leaf: THP, hugetlb 2 MiB, DAX)",
  },
  "PMD-5": {
    text: "For THP entries with FOLL_TOUCH: touch_pmd sets the PMD young (and dirty if FOLL_WRITE).",
    where: "gup-api.md §7.5 follow_huge_pmd (PMD leaf: THP, hugetlb 2 MiB, DAX)",
  },
  "POP-1": {
    text: "VMA with VM_LOCKONFAULT → return the page count without doing anything.",
    where: "gup-api.md §4.3 Populate / prefault helpers",
  },
  "POP-2": {
    text: "VMA not accessible (no READ/WRITE/EXEC, i.e. PROT_NONE) → -EFAULT.",
    where: "gup-api.md §4.3 Populate / prefault helpers",
  },
  "POP-3": {
    text: "Flags: FOLL_TOUCH; plus FOLL_WRITE when the VMA is writable and private ((vm_flags & (VM_WRITE|VM_SHARED)) == VM_WRITE, to break COW up front); otherwise FOLL_FORCE (so write-only or exec-only mappings can be read-faulted).",
    where: "gup-api.md §4.3 Populate / prefault helpers",
  },
  "PTE-1": {
    text: "PTE not present (swap, migration, device-private, uffd-wp marker, …): if pte_none → no_page_table; otherwise NULL (fault).",
    where: "gup-api.md §7.3 follow_page_pte — decision list",
  },
  "PTE-2": {
    text: "PROT_NONE (pte_protnone) and !gup_can_follow_protnone(vma, flags) → as above (fault).",
    where: "gup-api.md §7.3 follow_page_pte — decision list",
  },
  "PTE-3": {
    text: "FOLL_WRITE and !can_follow_write_pte(pte, page, vma, flags) → NULL (write fault needed).",
    where: "gup-api.md §7.3 follow_page_pte — decision list",
  },
  "PTE-4": {
    text: "No struct page: FOLL_DUMP → -EFAULT; the zero pfn → use the zero page; any other pfn → follow_pfn_pte returns -EEXIST (and, with FOLL_TOUCH, sets the PTE young, plus dirty if FOLL_WRITE).",
    where: "gup-api.md §7.3 follow_page_pte — decision list",
  },
  "PTE-5": {
    text: "PTE not writable and gup_must_unshare(vma, flags, page) → -EMLINK (§10.1).",
    where: "gup-api.md §7.3 follow_page_pte — decision list",
  },
  "PTE-6": {
    text: "try_grab_folio(folio, 1, flags) (§9.3); error → that error.",
    where: "gup-api.md §7.3 follow_page_pte — decision list",
  },
  "PTE-7": {
    text: "FOLL_PIN → arch_make_folio_accessible(folio) (s390 secure guests; no-op elsewhere); failure → unpin and return the error.",
    where: "gup-api.md §7.3 follow_page_pte — decision list",
  },
  "PTE-8": {
    text: "FOLL_TOUCH: if FOLL_WRITE, the PTE is not dirty and the folio is not dirty → folio_mark_dirty; always folio_mark_accessed.",
    where: "gup-api.md §7.3 follow_page_pte — decision list",
  },
  "SEM-1": {
    text: "R/O short-term pin of an exclusive anon page (e.g. process_vm_readv source): PTE present; gup_must_unshare false because exclusive → pinned directly.",
    where: "gup-api.md §10.4 Worked semantics (all verified against source; [EXP] where observed)",
  },
  "SEM-2": {
    text: "R/O short-term pin of untouched private anon memory: read fault maps the zero page → pin is a no-op on the zero page; the caller receives the zero page.",
    where: "gup-api.md §10.4 Worked semantics (all verified against source; [EXP] where observed)",
  },
  "SEM-3": {
    text: "R/O long-term pin of untouched private anon memory: first the read fault maps the zero page; then [UNSH-3] → -EMLINK → UNSHARE fault → do_wp_page finds no normal page → wp_page_copy maps a new zeroed exclusive page read-only → pinned.",
    where: "gup-api.md §10.4 Worked semantics (all verified against source; [EXP] where observed)",
  },
  "SEM-4": {
    text: "R/O pin of an anon page shared with a child after fork: not exclusive → UNSHARE.",
    where: "gup-api.md §10.4 Worked semantics (all verified against source; [EXP] where observed)",
  },
  "SEM-5": {
    text: "W pin (any) of an anon page shared after fork: entry not writable → can_follow_write_pte false (VMA has VM_WRITE) → write fault → COW copy or reuse.",
    where: "gup-api.md §10.4 Worked semantics (all verified against source; [EXP] where observed)",
  },
  "SEM-6": {
    text: "FOLL_FORCE | FOLL_WRITE on a read-only private mapping (/proc/<pid>/mem write, ptrace POKE, uprobes): check_vma_flags passes ([VMA-7], COW mapping).",
    where: "gup-api.md §10.4 Worked semantics (all verified against source; [EXP] where observed)",
  },
  "SEM-7": {
    text: "FOLL_FORCE | FOLL_WRITE on a read-only shared mapping → -EFAULT from [VMA-7] (/proc/<pid>/mem reports EIO) [EXP-5d,5f].",
    where: "gup-api.md §10.4 Worked semantics (all verified against source; [EXP] where observed)",
  },
  "SEM-8": {
    text: "FOLL_FORCE read of PROT_NONE (VM_MAYREAD set) → allowed; NUMA-hint semantics do not apply in inaccessible VMAs [EXP-5c].",
    where: "gup-api.md §10.4 Worked semantics (all verified against source; [EXP] where observed)",
  },
  "SEM-9": {
    text: "Write without FOLL_FORCE to a read-only VMA → -EFAULT ([VMA-7]); e.g. process_vm_writev into PROT_READ memory fails with EFAULT [EXP-8]; MADV_POPULATE_WRITE on PROT_READ → EINVAL (because of [SLOW-3]) [EXP-6a].",
    where: "gup-api.md §10.4 Worked semantics (all verified against source; [EXP] where observed)",
  },
  "SEM-10": {
    text: "Pin of a shadow-stack VMA for writing requires FOLL_FORCE (treated as not writable, [VMA-7]).",
    where: "gup-api.md §10.4 Worked semantics (all verified against source; [EXP] where observed)",
  },
  "SLOW-1": {
    text: "Returns the number of pages processed if > 0, otherwise the error (or 0) — partial success always wins over the error that stopped the loop.",
    where: "gup-api.md §6. Slow path: the page loop — __get_user_pages",
  },
  "SLOW-2": {
    text: "Normal case: gup_vma_lookup(mm, start): the VMA containing start, else none.",
    where: "gup-api.md §6.2 VMA step",
  },
  "SLOW-3": {
    text: "FOLL_MADV_POPULATE: vma_lookup; none → -ENOMEM; check_vma_flags failure → -EINVAL; gate area not considered.",
    where: "gup-api.md §6.2 VMA step",
  },
  "SLOW-4": {
    text: "A fatal signal pending in the page loop ends it with -EINTR (unless pages were already done).",
    where: "gup-api.md §6.1 Loop",
  },
  "SLOW-5": {
    text: 'No VMA but in_gate_area(mm, start) (x86-64: the vsyscall page): use get_gate_page — FOLL_WRITE → -EFAULT; page-table walk must find a present PTE (else -EFAULT); a "special" pfn is accepted only if it is the zero pfn and FOLL_DUMP is not set; the page is …',
    where: "gup-api.md §6.2 VMA step",
  },
  "SLOW-6": { text: "No VMA, not gate → -EFAULT.", where: "gup-api.md §6.2 VMA step" },
  "SLOW-7": {
    text: "Rule identifiers in square brackets (for example ) are for citing rules from",
    where: "gup-api.md §GUP / PUP behavioural specification — API surface and core algorithm (Linux 6.18)",
  },
  "SLOW-10": {
    text: "A huge-page leaf advances the page loop by page_increm = 1 + (~(start >> PAGE_SHIFT) & page_mask) pages, capped at nr_pages: one follow yields up to 512 consecutive subpages.",
    where: "gup-api.md §6.1 Loop",
  },
  "UNPIN-1": {
    text: "unpin_user_pages(pages, n): warns and does nothing if n looks like a negative errno (IS_ERR_VALUE); skips NULL entries; groups runs of consecutive entries belonging to the same folio and releases each run with one gup_put_folio(folio, runlength)",
    where: "gup-api.md §9.5 Releasing — gup_put_folio(folio, refs, flags) and the unpin API",
  },
  "UNPIN-2": {
    text: "unpin_user_pages_dirty_lock(pages, n, make_dirty): make_dirty == false → exactly unpin_user_pages.",
    where: "gup-api.md §9.5 Releasing — gup_put_folio(folio, refs, flags) and the unpin API",
  },
  "UNPIN-3": {
    text: "The unpin functions do not know how the pages were pinned; unpinning pages that were obtained with FOLL_GET corrupts counts (small folio: subtracting 1024 from a refcount of e.g. 2).",
    where: "gup-api.md §9.5 Releasing — gup_put_folio(folio, refs, flags) and the unpin API",
  },
  "UNSH-1": {
    text: 'Unless the request is "pin and not write" (FOLL_PIN set, FOLL_WRITE clear) → false.',
    where: "gup-api.md §10.1 gup_must_unshare(vma, flags, page) (mm/internal.h)",
  },
  "UNSH-2": {
    text: "Anonymous page → true iff the page is not PageAnonExclusive.",
    where: "gup-api.md §10.1 gup_must_unshare(vma, flags, page) (mm/internal.h)",
  },
  "UNSH-3": {
    text: "Non-anonymous page (page cache, shmem, zero page, huge zero folio): * not FOLL_LONGTERM → false (short-term R/O pins of shared/file pages are fine); * long-term and vma == NULL (GUP-fast) → true (i.e. fall back to the slow path); * long-term with a VMA → true …",
    where: "gup-api.md §10.1 gup_must_unshare(vma, flags, page) (mm/internal.h)",
  },
  "UNSH-4": {
    text: "* Consequence :",
    where: "gup-api.md §10.2 Exclusivity lifecycle (what sets and clears PageAnonExclusive)",
  },
  "VMA-1": {
    text: "VM_IO or VM_PFNMAP → -EFAULT.",
    where: "gup-api.md §6.3 check_vma_flags — permission rules",
  },
  "VMA-2": {
    text: "FOLL_ANON and the VMA is not anonymous (vm_ops != NULL) → -EFAULT.",
    where: "gup-api.md §6.3 check_vma_flags — permission rules",
  },
  "VMA-3": {
    text: "FOLL_LONGTERM and the VMA is filesystem DAX (vma_is_fsdax) → -EOPNOTSUPP.",
    where: "gup-api.md §6.3 check_vma_flags — permission rules",
  },
  "VMA-4": {
    text: "FOLL_SPLIT_PMD and the VMA is hugetlb → -EOPNOTSUPP.",
    where: "gup-api.md §6.3 check_vma_flags — permission rules",
  },
  "VMA-5": {
    text: "secretmem VMA (vma_is_secretmem) → -EFAULT (reads too).",
    where: "gup-api.md §6.3 check_vma_flags — permission rules",
  },
  "VMA-6": {
    text: "non-anonymous VMA and writable_file_mapping_allowed() is false → -EFAULT.",
    where: "gup-api.md §6.3 check_vma_flags — permission rules",
  },
  "VMA-7": {
    text: "VMA lacks VM_WRITE (or is a shadow stack, VM_SHADOW_STACK): without FOLL_FORCE → -EFAULT; with FOLL_FORCE the VMA must be a COW mapping (VM_MAYWRITE set, VM_SHARED clear), else -EFAULT.",
    where: "gup-api.md §6.3 check_vma_flags — permission rules",
  },
  "VMA-8": {
    text: "VMA lacks VM_READ: without FOLL_FORCE → -EFAULT; with FOLL_FORCE, VM_MAYREAD must be set, else -EFAULT.",
    where: "gup-api.md §6.3 check_vma_flags — permission rules",
  },
  "VMA-9": {
    text: "arch_vma_access_permitted(vma, write, execute = false, foreign = FOLL_REMOTE) false → -EFAULT.",
    where: "gup-api.md §6.3 check_vma_flags — permission rules",
  },
  "WALK-1": {
    text: "Used whenever a level is empty/absent.",
    where: "gup-api.md §7.1 no_page_table(vma, flags, address)",
  },
  "WALK-2": { text: "PGD none or bad → no_page_table.", where: "gup-api.md §7.2 Level walk" },
  "WALK-3": { text: "PUD not present → no_page_table.", where: "gup-api.md §7.2 Level walk" },
  "WALK-4": {
    text: "PMD (follow_pmd_mask), read locklessly: none → no_page_table; not present (migration/swap PMD) → no_page_table; not a leaf → follow_page_pte.",
    where: "gup-api.md §7.2 Level walk",
  },
  "WALK-5": {
    text: "leaf is a THP mapping (pmd_trans_huge) and FOLL_SPLIT_PMD: drop the lock, split_huge_pmd (splits the *mapping*, not necessarily the folio), allocate a page table if the PMD was left empty (-ENOMEM on failure), then follow_page_pte.",
    where: "gup-api.md §7.2 Level walk",
  },
  "WR-1": {
    text: "Writable entry → yes.",
    where: "gup-api.md §7.4 can_follow_write_pte / _pmd / _pud — may a write reference be handed out?",
  },
  "WR-2": {
    text: "Otherwise (can_follow_write_common), all of the following must hold:",
    where: "gup-api.md §7.4 can_follow_write_pte / _pmd / _pud — may a write reference be handed out?",
  },
  "WR-3": {
    text: "PTE and PMD levels additionally require that no write fault is needed for other reasons: soft-dirty tracking is active for the VMA (VM_SOFTDIRTY clear, CONFIG_MEM_SOFT_DIRTY) and the entry is not soft-dirty → no; userfaultfd write-protect bit set → no.",
    where: "gup-api.md §7.4 can_follow_write_pte / _pmd / _pud — may a write reference be handed out?",
  },
  "ZERO-1": {
    text: "The shared zero page(s) (is_zero_page / is_zero_folio, i.e. is_zero_pfn) are never pinned: grabbing with FOLL_PIN is a no-op, unpinning is a no-op, and neither updates the node counters.",
    where: "gup-api.md §9.4 Zero page versus huge zero folio",
  },
  "ZERO-2": {
    text: "The huge zero folio (THP read fault with use_zero_page) is *not* is_zero_folio.",
    where: "gup-api.md §9.4 Zero page versus huge zero folio",
  },
  "ZERO-3": {
    text: "GUP-fast never returns either: zero-page PTEs are special on x86, and since 6.18 huge-zero PMDs are special too (set_huge_zero_folio uses pmd_mkspecial), so the fast walker falls back to the slow path for them.",
    where: "gup-api.md §9.4 Zero page versus huge zero folio",
  },
};

/** gup-api.md §13 "Error code summary": which GUP paths produce each errno. */
export const SPEC_ERRNOS: Readonly<Record<string, string>> = {
  EINVAL:
    "is_valid_gup_args for get_* and pin_user_pages_fast ([ARG-7]); fast-path flag whitelist ([ARG-8]); FOLL_MADV_POPULATE VMA check failure ([SLOW-3]); memfd_pin_folios argument checks and grab failure; get_user_page_vma_remote with FOLL_NOWAIT",
  EFAULT:
    "no VMA ([SLOW-6]), check_vma_flags ([VMA-1,2,5,6,7,8,9]), FOLL_NOFAULT fault needed ([FLT-1]), SIGBUS/SIGSEGV faults, hwpoison without FOLL_HWPOISON, gate-page write, FOLL_DUMP holes/special pages, failure of the extra huge-page grab, end beyond TASK_SIZE_MAX (fast), populate_vma_page_range on PROT_NONE, [LOCK-10]",
  ENOMEM:
    "OOM during fault, try_grab_folio on a dead/overflowed folio, page-table allocation in FOLL_SPLIT_PMD, long-term migration failure ([LT-5]), no VMA with FOLL_MADV_POPULATE",
  EHWPOISON: "poisoned page with FOLL_HWPOISON (MADV_POPULATE always sets it)",
  EINTR:
    "fatal signal in the page loop ([SLOW-4]); signal before re-locking in the retry loop ([LOCK-8]); mmap_read_lock_killable failing during a retry",
  EAGAIN: "mmap_read_lock_killable failing at entry when GUP takes the lock itself ([LOCK-2])",
  EOPNOTSUPP: "FOLL_LONGTERM on fsdax, FOLL_SPLIT_PMD on hugetlb",
  EEXIST:
    "pfn mapping without struct page when pages != NULL (only VM_MIXEDMAP-style VMAs reach it; VM_PFNMAP is already -EFAULT)",
  EREMOTEIO: "P2PDMA page without FOLL_PCI_P2PDMA (slow path)",
  EBUSY: "device-coherent migration failure during long-term pinning",
  EOVERFLOW: "fast path range overflow",
};
