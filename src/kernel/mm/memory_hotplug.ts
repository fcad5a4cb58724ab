/**
 * Memory offlining (mm/memory_hotplug.c: offline_pages()): isolate the
 * range, then migrate until nothing is in use. The kernel has no timeout:
 * the loop ends on success, on a signal (-EINTR, "signal backoff") or when
 * isolation finds an unmovable page (-EBUSY). A pinned page is movable to
 * the scanner but never migrates, so offlining a block that holds one never
 * completes; the model bounds the loop by a retry budget the caller sets
 * and reports running out of it as the signal the administrator would send.
 */
import { EBUSY, EINTR, EINVAL } from "../include/errno.js";
import { MIGRATE, pageblock_nr_pages } from "../include/mmzone.js";
import type { Kernel } from "../kernel.js";
import { NIL } from "./memmap.js";
import {
  start_isolate_page_range,
  undo_isolate_page_range,
  used_folios,
  type MigrateFolioFn,
} from "./page_isolation.js";

export interface OfflineResult {
  ret: number;
  /** passes of scan_movable_pages() + do_migrate_range() made */
  passes: number;
  /** folios still in use when it gave up */
  stuck: number[];
  /** true when the retry budget ran out: the kernel would still be looping */
  wouldLoopForever: boolean;
}

export function offline_pages(
  k: Kernel,
  start: number,
  nrPages: number,
  retryBudget: number,
  migrate: MigrateFolioFn,
): OfflineResult {
  const end = start + nrPages;
  const fail = (ret: number, stuck: number[] = [], passes = 0, forever = false): OfflineResult => ({
    ret,
    passes,
    stuck,
    wouldLoopForever: forever,
  });
  // CONFIG_MEMORY_HOTREMOVE depends on CONFIG_MIGRATION; without it offline_pages() is the
  // include/linux/memory_hotplug.h stub returning -EINVAL
  if (!k.config.kconfig.MIGRATION) return fail(-EINVAL);
  if (start % pageblock_nr_pages || nrPages % pageblock_nr_pages || nrPages <= 0 || end > k.memmap.nrPages)
    return fail(-EINVAL);
  // test_pages_in_a_zone(): the range must lie in one zone
  const z = k.pa.zoneOf(start);
  if (!z.contains(end - 1)) return fail(-EINVAL);
  for (let pb = start; pb < end; pb += pageblock_nr_pages)
    if (k.pa.get_pageblock_migratetype(pb) === MIGRATE.CMA) return fail(-EBUSY); // CMA blocks cannot be offlined
  const iso = start_isolate_page_range(k, start, end, "mem_offline");
  if ("err" in iso) {
    k.trace.emit("offline_failed", "mm/memory_hotplug.c: offline_pages()", {
      reason: "unmovable page",
      pfn: iso.blocker,
    });
    return fail(iso.err, [iso.blocker]);
  }
  let passes = 0;
  for (;;) {
    const used = used_folios(k, start, end);
    if (used.length === 0) break;
    if (passes >= retryBudget || k.current?.fatalSignal || k.current?.signalPending) {
      undo_isolate_page_range(k, iso);
      k.trace.emit("offline_failed", "mm/memory_hotplug.c: offline_pages()", {
        reason: "signal backoff",
        passes,
        stuck: used.join(","),
      });
      return fail(-EINTR, used, passes, passes >= retryBudget);
    }
    for (const folio of used) migrate(k, folio);
    passes++;
  }
  // __offline_isolated_pages(): the now free pages leave the allocator
  for (let pfn = start; pfn < end;) {
    if (!k.pa.isFreeBuddy(pfn)) {
      pfn++;
      continue;
    }
    const order = k.pa.takeFreeBlock(pfn);
    pfn += 1 << order;
  }
  z.managedPages -= nrPages;
  k.trace.emit("offline_pages", "mm/memory_hotplug.c: offline_pages()", { start, nr: nrPages, passes });
  void NIL;
  return { ret: 0, passes, stuck: [], wouldLoopForever: false };
}
