/**
 * FOLL_LONGTERM (mm/gup.c, include/linux/sched/mm.h): a long-term pin may
 * not stay on memory that must remain movable (ZONE_MOVABLE, CMA and
 * isolated pageblocks, fsdax). __gup_longterm_locked() pins the range, and
 * if any folio is not longterm-pinnable it unpins *everything*, migrates
 * the offenders to pinnable memory and pins again ([LT-1], [LT-2]), all
 * under memalloc_pin_save() so that every allocation on the way — faults
 * and migration targets — avoids movable memory (§8.3).
 *
 * pofs ("pages or folios", the kernel's word): the same check serves page
 * arrays from GUP and folio arrays from memfd_pin_folios().
 */
import { EAGAIN, ENOMEM } from "../include/errno.js";
import { FOLL_LONGTERM } from "../include/foll_flags.js";
import { GFP_USER, __GFP_NOWARN } from "../include/gfp.js";
import { PG } from "../include/page_flags.js";
import type { Kernel } from "../kernel.js";
import { PF_MEMALLOC_PIN, Task } from "../kernel/task.js";
import {
  folio_is_longterm_pinnable,
  gup_page,
  gup_set_page,
  type GupPages,
  PAGE_NULL,
  unpin_folio,
} from "./gup_refs.js";
import { __get_user_pages_locked, type GupLocked } from "./gup_slow.js";
import { folio_isolate_hugetlb, folio_isolate_lru, migrate_pages, putback_movable_pages } from "./migrate.js";
import type { MmStruct } from "./mm_types.js";

const kthreads = new WeakMap<Kernel, Task>();

/**
 * The kernel thread a driver runs in when a scenario calls GUP with no
 * process current (k.current === null): it has no mm, only task flags, so
 * that PF_MEMALLOC_PIN has somewhere to live.
 */
function kthread(k: Kernel): Task {
  let t = kthreads.get(k);
  if (!t) kthreads.set(k, (t = new Task(0, "kworker", null, 0, [], 0, null)));
  return t;
}

/** Saved state of a memalloc_pin_save() scope. */
export interface MemallocPinScope {
  task: Task;
  /** the task was installed as current for the scope */
  installed: boolean;
  /** PF_MEMALLOC_PIN was already set */
  wasSet: boolean;
}

/**
 * memalloc_pin_save(): set PF_MEMALLOC_PIN on current so that
 * current_gfp_context() strips __GFP_MOVABLE from every allocation and the
 * hugetlb pool skips folios that are not longterm-pinnable.
 */
export function memalloc_pin_save(k: Kernel): MemallocPinScope {
  let task = k.current;
  let installed = false;
  if (!task) {
    task = kthread(k);
    k.current = task;
    installed = true;
  }
  const wasSet = (task.flags & PF_MEMALLOC_PIN) !== 0;
  task.flags |= PF_MEMALLOC_PIN;
  return { task, installed, wasSet };
}

/** memalloc_pin_restore() */
export function memalloc_pin_restore(k: Kernel, s: MemallocPinScope): void {
  if (!s.wasSet) s.task.flags &= ~PF_MEMALLOC_PIN;
  if (s.installed) k.current = null;
}

/** A page array (has_folios false) or a folio array, from `off`, `nr` entries. */
interface Pofs {
  entries: GupPages;
  off: number;
  nr: number;
  has_folios: boolean;
}

function pofs_get_folio(k: Kernel, pofs: Pofs, i: number): number {
  const e = gup_page(pofs.entries, pofs.off + i);
  if (e < 0) return PAGE_NULL;
  return pofs.has_folios ? e : k.memmap.head(e);
}

/**
 * collect_longterm_unpinnable_folios() ([LT-3]): every distinct folio of the
 * array that is not longterm-pinnable is counted; hugetlb folios are
 * isolated onto the list, others taken off the LRU (failure to isolate:
 * counted, not listed — the kernel then retries the whole pin). The LRU
 * drains of the kernel have nothing to do in the model (no per-CPU batches).
 */
function collect_longterm_unpinnable_folios(k: Kernel, list: number[], pofs: Pofs): number {
  let collected = 0;
  const mm = k.memmap;
  let i = 0;
  while (i < pofs.nr) {
    const folio = pofs_get_folio(k, pofs, i);
    // pofs_next_folio(): entries inside the same large folio are visited once
    let next = i + 1;
    if (folio !== PAGE_NULL && !pofs.has_folios && mm.order(folio) > 0) {
      const end = folio + (1 << mm.order(folio));
      while (next < pofs.nr) {
        const p = gup_page(pofs.entries, pofs.off + next);
        if (p < folio || p >= end) break;
        next++;
      }
    }
    if (folio !== PAGE_NULL && !folio_is_longterm_pinnable(k, folio)) {
      collected++;
      if (mm.test(folio, PG.hugetlb)) {
        if (folio_isolate_hugetlb(k, folio)) list.push(folio);
      } else if (folio_isolate_lru(k, folio)) {
        list.push(folio);
      }
    }
    i = next;
  }
  return collected;
}

/**
 * migrate_longterm_unpinnable_folios() ([LT-5], [LT-6]): unpin every entry
 * (one pin each) and clear it, then migrate the list to non-movable memory
 * (GFP_USER, MR_LONGTERM_PIN). Any failure is -ENOMEM (even with plenty
 * of memory: an extra reference is enough); full success is -EAGAIN,
 * "re-pin the range". Device-coherent memory is not modelled.
 */
function migrate_longterm_unpinnable_folios(k: Kernel, list: number[], pofs: Pofs): number {
  for (let i = 0; i < pofs.nr; i++) {
    const folio = pofs_get_folio(k, pofs, i);
    if (folio === PAGE_NULL) continue;
    // migration fails on unexpected references: drop the pin GUP took
    unpin_folio(k, folio);
    gup_set_page(pofs.entries, pofs.off + i, PAGE_NULL); // pofs_clear_entry()
  }
  let ret = -EAGAIN;
  if (list.length) {
    const failed = migrate_pages(k, list, GFP_USER | __GFP_NOWARN, "longterm_pin");
    if (failed) ret = -ENOMEM;
  }
  putback_movable_pages(k, list);
  return ret;
}

/**
 * check_and_migrate_movable_pages_or_folios(): 0 when every folio may stay
 * pinned ([LT-4]); otherwise the result of the migration round: -EAGAIN
 * (all pins dropped, migrated, pin again) or -ENOMEM (pins dropped,
 * migration failed; the caller must not unpin).
 */
function check_and_migrate_movable_pages_or_folios(k: Kernel, pofs: Pofs): number {
  const list: number[] = [];
  const collected = collect_longterm_unpinnable_folios(k, list, pofs);
  if (!collected) return 0;
  if (k.trace.enabled)
    k.trace.emit("longterm_migrate", "mm/gup.c: check_and_migrate_movable_pages_or_folios()", {
      collected,
      isolated: list.length,
      // a long list (a 1 GiB pin of movable memory) is summarised: the first folios, then a count
      folios:
        list.length > 16 ? `${list.slice(0, 16).join(",")},… (+${list.length - 16} more)` : list.join(","),
    });
  return migrate_longterm_unpinnable_folios(k, list, pofs);
}

/** check_and_migrate_movable_pages(): the pofs check on pages[off .. off+nr). */
export function check_and_migrate_movable_pages(k: Kernel, nr: number, pages: GupPages, off = 0): number {
  return check_and_migrate_movable_pages_or_folios(k, { entries: pages, off, nr, has_folios: false });
}

/** check_and_migrate_movable_folios(): the pofs check on a folio array (memfd_pin_folios()). */
export function check_and_migrate_movable_folios(k: Kernel, nr: number, folios: GupPages): number {
  return check_and_migrate_movable_pages_or_folios(k, { entries: folios, off: 0, nr, has_folios: true });
}

/**
 * The kernel loops until the pin sticks; a folio that is collected but can
 * never be isolated makes it spin until the task is killed (§8.2, and the
 * 2025 revert of "mm: gup: fix infinite loop within __get_longterm_locked").
 * The model stops after this many rounds with a WARN naming the livelock.
 */
export const LONGTERM_MODEL_ROUNDS = 16;

/**
 * __gup_longterm_locked() ([LT-1], [LT-2]): without FOLL_LONGTERM a plain
 * __get_user_pages_locked(); with it, pin / check / migrate / re-pin under
 * memalloc_pin_save() until the pinned prefix is all pinnable. Returns the
 * count pinned (possibly short) or -errno; node pin counters see the churn.
 */
export function __gup_longterm_locked(
  k: Kernel,
  mm: MmStruct,
  start: number,
  nr_pages: number,
  pages: GupPages | null,
  off: number,
  locked: GupLocked,
  gup_flags: number,
): number {
  if (!(gup_flags & FOLL_LONGTERM))
    return __get_user_pages_locked(k, mm, start, nr_pages, pages, off, locked, gup_flags);
  const scope = memalloc_pin_save(k);
  try {
    let rc = 0;
    let nr_pinned = 0;
    for (let round = 0; ; round++) {
      nr_pinned = __get_user_pages_locked(k, mm, start, nr_pages, pages, off, locked, gup_flags);
      if (nr_pinned <= 0) {
        rc = nr_pinned;
        break;
      }
      // FOLL_LONGTERM implies FOLL_PIN, so pages is never null here
      rc = check_and_migrate_movable_pages(k, nr_pinned, pages!, off);
      if (rc !== -EAGAIN) break;
      if (round + 1 >= LONGTERM_MODEL_ROUNDS) {
        k.warn(
          "mm/gup.c: __gup_longterm_locked()",
          `model: ${LONGTERM_MODEL_ROUNDS} migrate-and-repin rounds without success at ${start.toString(16)}; ` +
            "the kernel would retry until the task is killed",
        );
        rc = -ENOMEM;
        break;
      }
    }
    return rc ? rc : nr_pinned;
  } finally {
    memalloc_pin_restore(k, scope);
  }
}
