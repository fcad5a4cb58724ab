/**
 * lost_write — DESIGN.md "Hazards": a device write through a pin never
 * reaches the file.
 *
 * Watches: `dma_write` (what the device wrote, where), the page cache
 * (`filemap_remove_folio`, `truncate_folio`), dirtying and writeback
 * (`folio_mark_dirty`, `writeback_end`, `writeback_no_buffers`) and pin
 * releases (`pin_release`, `io_uring_unregister`).
 * Keeps: per page-cache folio of a file that writes back (ext4, xfs, btrfs),
 * the last device write into it that has not reached the storage yet, and
 * whether the folio has been marked dirty since; the folios that left the
 * page cache while still pinned (orphans).
 * Finds, when the loss becomes certain:
 *  - a device write into an orphan (truncated, hole-punched or invalidated
 *    while pinned, P8): the file no longer has that page;
 *  - a pin released without dirtying (unpin_user_pages(), not
 *    unpin_user_pages_dirty_lock()) while a page the device wrote is clean —
 *    writeback cleaned it before the device wrote (P9), nothing will ever
 *    write it again;
 *  - a device-written clean folio dropped from the page cache (invalidation);
 *  - ext4 skipping a folio dirtied without buffers (its data is discarded);
 *  - at the end of the scenario, a device-written folio that is clean and
 *    holds data the storage does not have.
 * A truncate that discards device data is the file's semantics, not a lost
 * write; memory without writeback (anon, tmpfs, memfd, hugetlbfs) holds the
 * data itself and is not tracked.
 * Rule: mm/page-writeback.c: folio_clear_dirty_for_io() ignores pins (P9);
 * mm/truncate.c: truncate_inode_folio() ignores pins (P8).
 */
import { folio_file_mapping, vfs } from "../kernel/fs/inode.js";
import { PG } from "../kernel/include/page_flags.js";
import type { Kernel } from "../kernel/kernel.js";
import type { DetectorContext, HazardDetector } from "./hazard.js";
import {
  describePin,
  holders,
  num,
  pfnText,
  pinRecord,
  provenanceOf,
  provenanceOfAll,
} from "./provenance.js";

const RULE_CLEAN =
  "mm/page-writeback.c: folio_clear_dirty_for_io(): writeback cleans a pinned folio; only the pinner dirties it again at release — unpin_user_pages_dirty_lock(), set_page_dirty_lock() (P9)";
const RULE_ORPHAN =
  "mm/truncate.c: truncate_inode_folio(): a pinned folio leaves the page cache as an orphan the file never sees again (P8)";
const RULE_INVALIDATE =
  "mm/truncate.c: folio_unmap_invalidate(): a clean folio is dropped from the page cache, pinned or not";

/** A device write into a page-cache folio that the storage does not have yet. */
interface Pending {
  pin: number;
  step: number;
  value: number;
  inode: number;
  index: number;
  /** folio_mark_dirty() since the write: writeback will carry it */
  dirtied: boolean;
}

/** "page 3 of /data/f" */
function fileText(k: Kernel, inode: number, index: number): string {
  const ino = vfs(k).inodes.get(inode);
  return `page ${index} of ${ino?.path ?? `inode ${inode}`}`;
}

export function lost_write(): HazardDetector {
  const pending = new Map<number, Pending>();
  /** folio → where it was in the page cache, for folios removed while someone held them */
  const orphans = new Map<number, { inode: number; index: number; step: number }>();
  /** pending folios removed from the page cache in this step: lost unless a truncate did it */
  const dropped = new Map<number, Pending>();
  const orphanReported = new Set<string>();

  /** One finding per pin for the lost pages it wrote (in page order), told by the first. */
  const report = (ctx: DetectorContext, lost: readonly [number, Pending][], rule: string, why: string) => {
    const k = ctx.machine.k;
    const byPin = new Map<number, [number, Pending][]>();
    for (const e of lost) byPin.set(e[1].pin, [...(byPin.get(e[1].pin) ?? []), e]);
    for (const group of byPin.values()) {
      const [folio, p] = group[0];
      const r = pinRecord(k, p.pin);
      const prov = r ? [provenanceOf(r, ctx)] : [];
      const more = group.length > 1 ? ` and ${group.length - 1} more page${group.length > 2 ? "s" : ""}` : "";
      const at = ctx.lineOf(p.step) !== undefined ? ` at line ${ctx.lineOf(p.step)}` : ` at step ${p.step}`;
      ctx.report({
        pfns: group.slice(0, 64).map((e) => e[0]),
        provenance: prov,
        rule,
        message:
          `the device's write of 0x${p.value.toString(16)} into ${pfnText(folio)} (${fileText(k, p.inode, p.index)})${more}` +
          `${at} never reaches the file: ${why}` +
          (prov.length ? `; the page was ${describePin(prov[0])}` : ""),
      });
    }
  };

  const released = (ctx: DetectorContext, pin: number, how: string) => {
    const lost: [number, Pending][] = [];
    for (const [folio, p] of pending) {
      if (p.pin !== pin || p.dirtied) continue;
      pending.delete(folio);
      lost.push([folio, p]);
    }
    report(
      ctx,
      lost,
      RULE_CLEAN,
      `writeback had cleaned the page and ${how} did not dirty it again, so nothing will write it back`,
    );
  };

  return {
    hazard: "lost_write",
    watches: [
      "dma_write",
      "folio_mark_dirty",
      "writeback_end",
      "writeback_no_buffers",
      "filemap_remove_folio",
      "truncate_folio",
      "pin_release",
      "io_uring_unregister",
    ],
    onEvent(ev, ctx) {
      const k = ctx.machine.k;
      const pfn = num(ev.args.pfn);
      switch (ev.name) {
        case "dma_write": {
          const r = pinRecord(k, ev.args.pin);
          if (!r) return;
          const value = num(ev.args.value, 0);
          const first = Math.max(0, num(ev.args.first, 0));
          const end = Math.min(r.pages.length, first + num(ev.args.nr, 0));
          const lost: number[] = [];
          for (let i = first; i < end; i++) {
            const folio = k.memmap.head(r.pages[i]);
            if (k.memmap.test(folio, PG.anon)) continue;
            const mapping = folio_file_mapping(k, folio);
            if (!mapping) {
              const o = orphans.get(folio);
              const key = `${r.id}:${folio}`;
              if (o && k.memmap.mapping(folio) === 0 && !orphanReported.has(key) && !lost.includes(folio)) {
                orphanReported.add(key);
                lost.push(folio);
              }
              continue;
            }
            if (!mapping.canWriteback) continue;
            pending.set(folio, {
              pin: r.id,
              step: ctx.step.step,
              value,
              inode: mapping.id,
              index: k.memmap.index(folio),
              dirtied: k.memmap.test(folio, PG.dirty),
            });
          }
          if (lost.length === 0) return;
          const o = orphans.get(lost[0])!;
          const p = provenanceOf(r, ctx);
          const removedAt =
            ctx.lineOf(o.step) !== undefined ? `line ${ctx.lineOf(o.step)}` : `step ${o.step}`;
          ctx.report({
            pfns: lost,
            provenance: [p],
            rule: RULE_ORPHAN,
            message:
              `the device wrote 0x${value.toString(16)} into ${pfnText(lost[0])}${lost.length > 1 ? ` and ${lost.length - 1} more` : ""}, ` +
              `which left the page cache of the file (${fileText(k, o.inode, o.index)}) at ${removedAt}: ` +
              `the write can never reach the file; the page is ${describePin(p)}`,
          });
          return;
        }
        case "folio_mark_dirty": {
          const p = pending.get(pfn);
          if (p) p.dirtied = true;
          return;
        }
        case "writeback_end":
          pending.delete(pfn);
          return;
        case "writeback_no_buffers": {
          const p = pending.get(pfn);
          pending.delete(pfn);
          const prov = provenanceOfAll(holders(k, pfn), ctx);
          const idx = num(ev.args.index, 0);
          const ino = num(ev.args.inode, 0);
          ctx.report({
            pfns: [pfn],
            provenance: p && prov.length === 0 ? [provenanceOf(pinRecord(k, p.pin)!, ctx)] : prov,
            rule: ev.where,
            message:
              `ext4 found ${pfnText(pfn)} (${fileText(k, ino, idx)}) dirty without buffers — dirtied through a pin after writeback ` +
              `freed them — and cleaned it without writing: its data 0x${num(ev.args.content, 0).toString(16)} never reaches the file`,
          });
          return;
        }
        case "filemap_remove_folio": {
          orphans.set(pfn, {
            inode: num(ev.args.inode, 0),
            index: num(ev.args.index, 0),
            step: ctx.step.step,
          });
          const p = pending.get(pfn);
          pending.delete(pfn);
          if (p && !p.dirtied) dropped.set(pfn, p);
          return;
        }
        case "truncate_folio":
          // truncation and hole punching discard the data with the range: not a lost write
          dropped.delete(pfn);
          pending.delete(pfn);
          return;
        case "pin_release": {
          const how =
            pinRecord(k, ev.args.pin)?.kind === "ref"
              ? "put_page()"
              : ev.args.dirty === true
                ? "the unpin"
                : "unpin_user_pages()";
          released(ctx, num(ev.args.pin), how);
          return;
        }
        case "io_uring_unregister":
          released(ctx, num(ev.args.pin), "io_uring's unregistration (io_release_ubuf())");
          return;
      }
    },
    onStepEnd(ctx) {
      if (dropped.size === 0) return;
      report(
        ctx,
        [...dropped],
        RULE_INVALIDATE,
        "the clean page was dropped from the page cache before anything wrote it back",
      );
      dropped.clear();
    },
    onEnd(ctx) {
      const k = ctx.machine.k;
      const lost: [number, Pending][] = [];
      for (const [folio, p] of pending) {
        if (p.dirtied || k.memmap.test(folio, PG.dirty) || k.memmap.test(folio, PG.writeback)) continue;
        const ino = vfs(k).inodes.get(p.inode);
        if (!ino || k.memmap.mapping(folio) !== p.inode) continue;
        if ((ino.backing.get(p.index) ?? 0) === k.memmap.content(folio)) continue;
        lost.push([folio, p]);
      }
      lost.sort((a, b) => a[1].index - b[1].index);
      report(
        ctx,
        lost,
        RULE_CLEAN,
        "the scenario ends with the page clean, so writeback will never write it, and the storage holding older data",
      );
    },
  };
}
