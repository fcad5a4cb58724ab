/**
 * cpu_dev_divergence — DESIGN.md "Hazards": a live pin no longer refers to
 * the page the pinning process has mapped at that address.
 *
 * Watches: every event — a step without any changed no mapping and is not
 * re-checked; the ones that put another page under an address or take one
 * away (`cow_copy`, `unshare_copy`, `migrate_folio`, `zap_pinned`,
 * `filemap_remove_folio`, `truncate_folio`, `madvise_dontneed`,
 * `mremap_move`, `ksm_merge`, `uffd_move_failed`) name the cause; device
 * accesses (`dma_write`, `dma_read`) through a released pin.
 * Keeps: per live pin, per page, whether the address still maps the pinned
 * page, no longer belongs to the process (munmap, mremap, exit: the process
 * gave it up, nothing diverges) or has been reported.
 * Finds, at the end of each step, each pin page whose address the process
 * still has in a VMA but where:
 *  - a different page is mapped now (COW, unshare, migration, a fresh fault
 *    after MADV_DONTNEED or truncate) — the CPU and the device see different
 *    memory from now on; or
 *  - nothing is mapped and the next access cannot bring the pinned page back
 *    (an anon page zapped by MADV_DONTNEED, a file page no longer in the page
 *    cache) — the next CPU access faults in a different page.
 * A file page that was merely unmapped (MADV_DONTNEED on a shared mapping,
 * reclaim) is still in the page cache and comes back on the next fault: no
 * divergence. A page pinned before fork stays the parent's (P3): nothing is
 * reported for the DESIGN.md io_uring-across-fork example.
 * Also finds a device access through a pin after it was released: the device
 * then reaches memory that is no longer the process's at all.
 * Rule: the kernel function of the event that replaced the page; otherwise
 * P8 — truncate, hole punch, MADV_DONTNEED and munmap ignore pins.
 */
import { pin_table, type PinRecord } from "../kernel/drivers/pin_table.js";
import { PAGE_SIZE } from "../kernel/include/mmzone.js";
import { PG } from "../kernel/include/page_flags.js";
import { PTE } from "../kernel/include/pgtable.js";
import { LEVEL_NONE, LEVEL_PMD, LEVEL_PTE, walk_addr } from "../kernel/mm/pagewalk.js";
import type { TraceEvent } from "../kernel/tracepoint.js";
import type { DetectorContext, HazardDetector } from "./hazard.js";
import { describePin, hexText, pfnText, pinRecord, provenanceOf } from "./provenance.js";

const RULE_DEFAULT =
  "mm/gup.c: a pin holds a page, not an address: COW, unshare, truncate, MADV_DONTNEED and migration may map another page there (P8)";
const RULE_RELEASED = "mm/gup.c: unpin_user_pages(): after the unpin the device must not touch the pages";

/** Events that can explain a divergence, by the argument that names the old page. */
const CAUSES: Record<string, readonly string[]> = {
  cow_copy: ["from"],
  unshare_copy: ["from"],
  migrate_folio: ["from"],
  zap_pinned: ["pfn"],
  filemap_remove_folio: ["pfn"],
  truncate_folio: ["pfn"],
  ksm_merge: ["pfn", "from"],
};
/** Events that explain it without naming the page. */
const CAUSES_BY_RANGE = ["madvise_dontneed", "mremap_move", "uffd_move_failed"];

const PMD_PAGES = 512;
const PUD_PAGES = 512 * 512;

const COHERENT = 0;
/** the process gave the address up (munmap, mremap, exit): nothing to compare */
const DETACHED = 1;
const REPORTED = 2;

/** Pins whose `start` is not a user address of the pinned process. */
const NOT_ADDRESSES = new Set(["memfd_pin_folios", "follow_pfnmap"]);

export function cpu_dev_divergence(): HazardDetector {
  const state = new Map<number, Uint8Array>();
  const stepEvents: TraceEvent[] = [];
  const releasedReported = new Set<number>();
  /** an event happened since the last check: mappings may have changed */
  let changed = true;

  const cause = (ctx: DetectorContext, pfn: number): TraceEvent | undefined => {
    const k = ctx.machine.k;
    const head = k.memmap.head(pfn);
    for (const ev of stepEvents) {
      const keys = CAUSES[ev.name];
      if (!keys) continue;
      for (const key of keys) {
        const v = ev.args[key];
        if (
          typeof v === "number" &&
          v >= 0 &&
          v < k.memmap.nrPages &&
          (v === pfn || k.memmap.head(v) === head)
        )
          return ev;
      }
    }
    return stepEvents.find((ev) => CAUSES_BY_RANGE.includes(ev.name));
  };

  const check = (ctx: DetectorContext, r: PinRecord, st: Uint8Array) => {
    const k = ctx.machine.k;
    const task = k.tasks.get(r.pid);
    const mm = task?.mm;
    if (!mm) {
      st.fill(DETACHED);
      return;
    }
    const base = Math.floor(r.start / PAGE_SIZE) * PAGE_SIZE;
    const found: { i: number; now: number }[] = [];
    for (let i = 0; i < r.pages.length; i++) {
      if (st[i] !== COHERENT) continue;
      const addr = base + i * PAGE_SIZE;
      if (!mm.vma_lookup(addr)) {
        st[i] = DETACHED;
        continue;
      }
      const pinned = r.pages[i];
      const w = walk_addr(mm, addr);
      if (w.level !== LEVEL_NONE && w.bits & PTE.PRESENT) {
        if (w.pfn === pinned) {
          // a PMD/PUD leaf maps the pages after it contiguously: skip those the pin has in a row
          if (w.level !== LEVEL_PTE) {
            const leaf = w.level === LEVEL_PMD ? PMD_PAGES : PUD_PAGES;
            const span = leaf - ((addr / PAGE_SIZE) % leaf);
            let j = 1;
            while (j < span && i + j < r.pages.length && r.pages[i + j] === pinned + j) j++;
            i += j - 1;
          }
          continue;
        }
        found.push({ i, now: w.pfn });
      } else {
        // not mapped: will the next fault bring the pinned page back?
        const folio = k.memmap.head(pinned);
        const inPageCache = !k.memmap.test(folio, PG.anon) && k.memmap.mapping(folio) !== 0;
        if (inPageCache) continue;
        found.push({ i, now: -1 });
      }
      st[i] = REPORTED;
    }
    if (found.length === 0) return;
    const p = provenanceOf(r, ctx);
    const f = found[0];
    const pinned = r.pages[f.i];
    const ev = cause(ctx, pinned);
    const addr = hexText(base + f.i * PAGE_SIZE);
    const now =
      f.now >= 0
        ? `maps ${pfnText(f.now)} at ${addr} now`
        : `no longer maps anything at ${addr} and its next access faults in another page`;
    const more =
      found.length > 1 ? ` (and ${found.length - 1} more page${found.length > 2 ? "s" : ""} of the pin)` : "";
    ctx.report({
      pfns: found.slice(0, 64).map((x) => r.pages[x.i]),
      provenance: [p],
      rule: ev?.where ?? RULE_DEFAULT,
      message:
        `process ${p.process} ${now}${ev ? ` (${ev.name})` : ""}, but the device still reaches ${pfnText(pinned)}${more}: ` +
        `the page was ${describePin(p)}`,
    });
  };

  const afterRelease = (ev: TraceEvent, ctx: DetectorContext) => {
    const k = ctx.machine.k;
    const r = pinRecord(k, ev.args.pin);
    if (!r || !r.released || releasedReported.has(r.id)) return;
    releasedReported.add(r.id);
    const p = provenanceOf(r, ctx);
    const pfn = typeof ev.args.pfn === "number" ? ev.args.pfn : (r.pages[0] ?? -1);
    ctx.report({
      pfns: pfn >= 0 ? [pfn] : [],
      provenance: [p],
      rule: RULE_RELEASED,
      message: `the device ${ev.name === "dma_write" ? "wrote" : "read"} ${pfnText(pfn)} through pin ${r.id} after it was released: the page was ${describePin(p)}; it may belong to anyone now`,
    });
  };

  return {
    hazard: "cpu_dev_divergence",
    // every event: a step without any leaves every mapping as it was, and is not re-checked
    watches: ["*"],
    onEvent(ev, ctx) {
      if (ev.name === "dma_write" || ev.name === "dma_read") {
        afterRelease(ev, ctx);
        return;
      }
      changed = true;
      if (CAUSES[ev.name] || CAUSES_BY_RANGE.includes(ev.name)) stepEvents.push(ev);
    },
    onStepEnd(ctx) {
      if (!changed) return;
      changed = false;
      for (const r of pin_table(ctx.machine.k).live()) {
        if (NOT_ADDRESSES.has(r.api)) continue;
        let st = state.get(r.id);
        if (!st) state.set(r.id, (st = new Uint8Array(r.pages.length)));
        check(ctx, r, st);
      }
      stepEvents.length = 0;
    },
  };
}
