/**
 * The move_pages(2) system call (mm/migrate.c, the CONFIG_NUMA part):
 * kernel_move_pages() → do_pages_move() with a nodes array, do_pages_stat()
 * without one. Migration is the model's migrate_folio_to() with a target
 * node, so a pinned or extra-referenced folio fails the same
 * refcount-expectation check as for long-term pinning, CMA and offlining.
 *
 * What the caller sees for a folio that cannot migrate — a pinned one, say:
 * add_folio_for_migration() isolates it (isolation does not look at pins)
 * and queues it; migrate_pages() fails it with -EAGAIN (try_to_migrate()
 * cannot unmap a maybe-pinned anon-exclusive page: folio_try_share_anon_rmap_pte()
 * is -EBUSY; a file folio fails __folio_migrate_mapping()'s refcount
 * freeze), retries, and counts it as not migrated. migrate_pages() then
 * returns the count of such folios; move_pages_and_store_status() adds the
 * pages not yet attempted and returns that without storing any status for
 * the batch: the status entries of the whole batch — the failed folio's and
 * those of pages that did move with it — keep what the caller put there.
 * The syscall returns that positive count and stops at the batch.
 *
 * The status array belongs to the caller (the model's callers fill it with
 * MOVE_PAGES_STATUS_UNSET, as the oracle's runner does), so an entry the
 * kernel never wrote is visible as such.
 *
 * Not modelled: cpusets (task_nodes is every node with memory, so the
 * -EACCES of a node outside the cpuset cannot happen), compat pointers,
 * faulting user arrays (-EFAULT from get_user()/put_user()), the split and
 * retry of a large folio whose large target cannot be allocated (counted as
 * not migrated, see migrate.ts), ZONE_DEVICE folios other than fsdax.
 */
import { EACCES, EBUSY, EFAULT, EINVAL, ENODEV, ENOENT, ENOMEM, EPERM, ESRCH } from "../include/errno.js";
import { GFP_HIGHUSER_MOVABLE, __GFP_THISNODE } from "../include/gfp.js";
import { MPOL_MF_MOVE, MPOL_MF_MOVE_ALL } from "../include/mempolicy.js";
import { MAX_NUMNODES, NUMA_NO_NODE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import { VM_IO, VM_PFNMAP } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { ptrace_may_access } from "../kernel/ptrace.js";
import { CAP_SYS_NICE, type Task } from "../kernel/task.js";
import { folio_is_fsdax, vma_is_dax } from "../fs/dax.js";
import { folio_mapcount } from "./folio.js";
import { NIL } from "./memmap.js";
import {
  folio_isolate_hugetlb,
  folio_isolate_lru,
  migrate_folio_to,
  putback_movable_pages,
} from "./migrate.js";
import type { MmStruct, VmArea } from "./mm_types.js";
import { LEVEL_NONE, walk_addr } from "./pagewalk.js";
import { rmap_walk } from "./rmap.js";

/** What a status entry holds until the kernel writes it: INT_MIN, as the oracle's runner fills it. */
export const MOVE_PAGES_STATUS_UNSET = -2147483648;

/**
 * kernel_move_pages(): move `pages` of process `pid` (0: the caller) to
 * `nodes[i]`, or with nodes === null report each page's node in `status`
 * (do_pages_stat()). Returns 0, the number of pages not migrated (> 0), or
 * -errno: -EINVAL for flags other than MPOL_MF_MOVE(_ALL), -EPERM for
 * MPOL_MF_MOVE_ALL without CAP_SYS_NICE or a target the caller may not
 * ptrace, -ESRCH for no such process, -EINVAL for one without an mm,
 * -ENODEV for a bad node (pages before it are still moved), -ENOMEM when a
 * target folio cannot be allocated on the node.
 */
export function kernel_move_pages(
  k: Kernel,
  caller: Task,
  pid: number,
  pages: readonly number[],
  nodes: readonly number[] | null,
  status: Int32Array,
  flags: number,
): number {
  if (flags & ~(MPOL_MF_MOVE | MPOL_MF_MOVE_ALL)) return -EINVAL;
  if (flags & MPOL_MF_MOVE_ALL && !caller.capable(CAP_SYS_NICE)) return -EPERM;
  const mm = find_mm_struct(k, caller, pid);
  if (typeof mm === "number") return mm;
  const err = k.asTask(caller, () =>
    nodes
      ? do_pages_move(k, mm, pages.length, pages, nodes, status, flags)
      : do_pages_stat(k, mm, pages.length, pages, status),
  );
  if (k.trace.enabled)
    k.trace.emit("move_pages", nodes ? "mm/migrate.c: do_pages_move()" : "mm/migrate.c: do_pages_stat()", {
      nr_pages: pages.length,
      ret: err,
      status: Array.from(status.subarray(0, pages.length)).join(","),
    });
  return err;
}

/** find_mm_struct(): the target's mm, or -ESRCH / -EPERM / -EINVAL (no mm: it exited). */
function find_mm_struct(k: Kernel, caller: Task, pid: number): MmStruct | number {
  if (pid === 0 || pid === caller.pid) return caller.mm ?? -EINVAL;
  const task = k.tasks.get(pid);
  if (!task) return -ESRCH;
  // ptrace_may_access(PTRACE_MODE_READ_REALCREDS)
  if (!ptrace_may_access(caller, task)) return -EPERM;
  return task.mm ?? -EINVAL;
}

/** store_status() */
function store_status(status: Int32Array, start: number, value: number, nr: number): number {
  while (nr-- > 0) status[start++] = value;
  return 0;
}

/**
 * do_move_pages_to_node(): migrate_pages() of the list to `node`, the
 * targets from alloc_migration_target() with GFP_HIGHUSER_MOVABLE |
 * __GFP_THISNODE (MR_SYSCALL). What failed goes back
 * (putback_movable_pages()). Returns migrate_pages()'s count of folios not
 * migrated, or -ENOMEM.
 */
function do_move_pages_to_node(k: Kernel, pagelist: number[], node: number): number {
  const err = migrate_pages_to_node(k, pagelist, node);
  if (err) putback_movable_pages(k, pagelist);
  return err;
}

/**
 * migrate_pages() as the syscall calls it (MIGRATE_SYNC): hugetlb folios
 * first (migrate_hugetlbs()), then the rest. A folio with unexpected
 * references fails -EAGAIN on every retry and is counted
 * (migrate_pages_batch(): nr_failed += retry), as is a permanent failure
 * (-EBUSY). A small or hugetlb folio without a target ends the call with
 * -ENOMEM; a large one would be split and counted (see the module header).
 * Failed and unattempted folios stay on the list.
 */
function migrate_pages_to_node(k: Kernel, list: number[], node: number): number {
  const isHugetlb = (f: number) => k.memmap.test(f, PG.hugetlb);
  const ordered = [...list.filter(isHugetlb), ...list.filter((f) => !isHugetlb(f))];
  const left: number[] = [];
  let failed = 0;
  let rc = 0;
  for (const folio of ordered) {
    if (rc < 0) {
      left.push(folio);
      continue;
    }
    const gfp = GFP_HIGHUSER_MOVABLE | __GFP_THISNODE;
    const r = migrate_folio_to(k, folio, gfp, "syscall_or_cpuset", 1, NIL, node);
    if (r >= 0) continue;
    left.push(folio);
    if (r === -ENOMEM && (isHugetlb(folio) || k.memmap.order(folio) === 0)) rc = -ENOMEM;
    else failed++;
  }
  list.splice(0, list.length, ...left);
  return rc < 0 ? rc : failed;
}

/**
 * move_pages_and_store_status(): migrate the batch [start, i) queued for
 * `node`. On success every entry of the batch gets `node`; on failure none
 * does, and a positive count grows by the pages not attempted (nr_pages - i).
 */
function move_pages_and_store_status(
  k: Kernel,
  node: number,
  pagelist: number[],
  status: Int32Array,
  start: number,
  i: number,
  nr_pages: number,
): number {
  if (pagelist.length === 0) return 0;
  let err = do_move_pages_to_node(k, pagelist, node);
  if (err) {
    // positive: folios not migrated; the caller aborts and returns the pages not migrated
    if (err > 0) err += nr_pages - i;
    return err;
  }
  return store_status(status, start, node, i - start);
}

/**
 * do_pages_move(): walk the arrays, queueing pages for one target node at a
 * time, and migrate each batch. A change of node, or a page that is not
 * queued (its status is its error, or the node when it is there already),
 * flushes the batch. Page errors are per page; a bad node or a failed batch
 * ends the call.
 */
function do_pages_move(
  k: Kernel,
  mm: MmStruct,
  nr_pages: number,
  pages: readonly number[],
  nodes: readonly number[],
  status: Int32Array,
  flags: number,
): number {
  let current_node = NUMA_NO_NODE;
  const pagelist: number[] = [];
  let start = 0;
  let i = 0;
  let err = 0;
  // lru_cache_disable(): the model has no per-CPU LRU batches to drain
  for (i = start = 0; i < nr_pages; i++) {
    const p = pages[i];
    const node = nodes[i];
    err = -ENODEV;
    if (!Number.isInteger(node) || node < 0 || node >= MAX_NUMNODES) break; // goto out_flush
    if (!k.pa.nodeHasMemory(node)) break; // node_state(node, N_MEMORY)
    // node_isset(node, task_nodes): without cpusets every node with memory is allowed
    if (current_node === NUMA_NO_NODE) {
      current_node = node;
      start = i;
    } else if (node !== current_node) {
      err = move_pages_and_store_status(k, current_node, pagelist, status, start, i, nr_pages);
      if (err) return err; // goto out
      start = i;
      current_node = node;
    }
    // errors in the page lookup or isolation are not fatal: they go to status
    err = add_folio_for_migration(k, mm, p, current_node, pagelist, (flags & MPOL_MF_MOVE_ALL) !== 0);
    if (err > 0) continue; // queued
    // already on the target node (0): the node; otherwise the error
    store_status(status, i, err || current_node, 1);
    err = move_pages_and_store_status(k, current_node, pagelist, status, start, i, nr_pages);
    if (err) {
      if (err > 0) err--; // page i has its status already
      return err;
    }
    current_node = NUMA_NO_NODE;
  }
  // out_flush: do not overwrite an earlier error
  const err1 = move_pages_and_store_status(k, current_node, pagelist, status, start, i, nr_pages);
  if (err >= 0) err = err1;
  return err;
}

/** include/linux/mempolicy.h: vma_migratable() (no hugetlb size or policy_zone limits on x86-64) */
function vma_migratable(vma: VmArea): boolean {
  if (vma.vm_flags & (VM_IO | VM_PFNMAP)) return false;
  // DAX mappings need predictable access latency
  return !vma_is_dax(vma);
}

/**
 * mm/pagewalk.c: folio_walk_start(FW_ZEROPAGE): the folio mapped at addr (the zero page
 * included), or NIL when nothing is present or the entry is special
 * (vm_normal_page() returns NULL).
 */
function folio_walk_start(k: Kernel, mm: MmStruct, addr: number): number {
  const w = walk_addr(mm, addr);
  if (w.level === LEVEL_NONE || !(w.bits & PTE.PRESENT)) return NIL;
  if (is_any_zero_pfn(k, w.pfn)) return w.pfn;
  if (w.bits & PTE.SPECIAL) return NIL;
  return k.memmap.head(w.pfn);
}

/** Is pfn the shared zero page or a page of the huge zero folio (is_zero_folio() || is_huge_zero_folio())? */
function is_any_zero_pfn(k: Kernel, pfn: number): boolean {
  if (pfn === k.zeroPfn) return true;
  return (
    k.hugeZeroPfn !== NIL &&
    pfn >= k.hugeZeroPfn &&
    pfn < k.hugeZeroPfn + (1 << k.memmap.order(k.hugeZeroPfn))
  );
}

/**
 * include/linux/mm.h: folio_maybe_mapped_shared(): true for a small or
 * hugetlb folio mapped more than once, and for a large folio mapped by more
 * than one mm. The kernel tracks a large folio's mms in _mm_ids; the model
 * counts them on the rmap.
 */
export function folio_maybe_mapped_shared(k: Kernel, folio: number): boolean {
  const mapcount = folio_mapcount(k, folio);
  if (k.memmap.order(folio) === 0 || k.memmap.test(folio, PG.hugetlb)) return mapcount > 1;
  if (mapcount <= 1) return false;
  const mms = new Set<MmStruct>();
  rmap_walk(k, folio, (vma) => {
    mms.add(vma.vm_mm);
  });
  return mms.size > 1;
}

/**
 * __add_folio_for_migration(): -EFAULT for the zero page, -ENOENT for a
 * ZONE_DEVICE folio, 0 when it is on `node` already, -EACCES when another
 * process may map it and MPOL_MF_MOVE_ALL was not given, 1 once isolated
 * and queued (a pinned folio too: isolation does not look at pins),
 * -EBUSY when it cannot be isolated.
 */
function __add_folio_for_migration(
  k: Kernel,
  folio: number,
  node: number,
  pagelist: number[],
  migrate_all: boolean,
): number {
  if (is_any_zero_pfn(k, folio)) return -EFAULT;
  if (folio_is_fsdax(k, folio)) return -ENOENT; // folio_is_zone_device()
  if (k.pa.page_to_nid(folio) === node) return 0; // folio_nid()
  if (folio_maybe_mapped_shared(k, folio) && !migrate_all) return -EACCES;
  if (k.memmap.test(folio, PG.hugetlb)) {
    if (folio_isolate_hugetlb(k, folio)) {
      pagelist.push(folio);
      return 1;
    }
  } else if (folio_isolate_lru(k, folio)) {
    pagelist.push(folio);
    return 1;
  }
  return -EBUSY;
}

/**
 * add_folio_for_migration(): the folio at user address p, queued for
 * `node`: 1 queued, 0 already there, or -errno — -EFAULT without a VMA or
 * in a VMA that cannot migrate (VM_IO, VM_PFNMAP, DAX), -ENOENT when
 * nothing is mapped there, and __add_folio_for_migration()'s errors.
 */
function add_folio_for_migration(
  k: Kernel,
  mm: MmStruct,
  p: number,
  node: number,
  pagelist: number[],
  migrate_all: boolean,
): number {
  const vma = mm.vma_lookup(p);
  if (!vma || !vma_migratable(vma)) return -EFAULT;
  const folio = folio_walk_start(k, mm, p);
  if (folio === NIL) return -ENOENT;
  return __add_folio_for_migration(k, folio, node, pagelist, migrate_all);
}

/**
 * do_pages_stat() / do_pages_stat_array(): each page's node, or -EFAULT
 * (no VMA, the zero page), -ENOENT (nothing mapped, ZONE_DEVICE). Unlike
 * moving, any VMA will do. Returns 0.
 */
function do_pages_stat(
  k: Kernel,
  mm: MmStruct,
  nr_pages: number,
  pages: readonly number[],
  status: Int32Array,
): number {
  for (let i = 0; i < nr_pages; i++) {
    const addr = pages[i];
    let err = -EFAULT;
    if (mm.vma_lookup(addr)) {
      const folio = folio_walk_start(k, mm, addr);
      if (folio === NIL) err = -ENOENT;
      else if (is_any_zero_pfn(k, folio)) err = -EFAULT;
      else if (folio_is_fsdax(k, folio)) err = -ENOENT;
      else err = k.pa.page_to_nid(folio);
    }
    status[i] = err;
  }
  return 0;
}
