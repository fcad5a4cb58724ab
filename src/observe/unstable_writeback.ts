/**
 * unstable_writeback — DESIGN.md "Hazards": a page under writeback is
 * written through a pin.
 *
 * Watches: `dma_write` (drivers/device.ts: the device writing through a pin).
 * Keeps: nothing.
 * Finds: each device write that lands on a folio with PG_writeback set: the
 * I/O is reading the page while the device changes it, so the storage may
 * get a torn mix, and checksumming or RAID parity computed before the write
 * no longer matches. The kernel keeps pages stable during writeback only
 * against CPU writes: the PTEs are write-protected (folio_mkclean()) and
 * page_mkwrite() waits in folio_wait_stable(); a pin bypasses both.
 * Rule: mm/page-writeback.c: folio_wait_stable() — writes through a pin are
 * not held off (P9).
 */
import { PG } from "../kernel/include/page_flags.js";
import type { HazardDetector } from "./hazard.js";
import { describePin, num, pfnText, pinRecord, provenanceOf } from "./provenance.js";

const RULE =
  "mm/page-writeback.c: folio_wait_stable(): only CPU writes through page_mkwrite() wait for writeback; a pin bypasses it (P9)";

export function unstable_writeback(): HazardDetector {
  return {
    hazard: "unstable_writeback",
    watches: ["dma_write"],
    onEvent(ev, ctx) {
      const k = ctx.machine.k;
      const r = pinRecord(k, ev.args.pin);
      if (!r) return;
      const first = num(ev.args.first, 0);
      const nr = num(ev.args.nr, 0);
      const folios: number[] = [];
      for (let i = Math.max(0, first); i < Math.min(r.pages.length, first + nr); i++) {
        const head = k.memmap.head(r.pages[i]);
        if (k.memmap.test(head, PG.writeback) && !folios.includes(head)) folios.push(head);
      }
      if (folios.length === 0) return;
      const p = provenanceOf(r, ctx);
      ctx.report({
        pfns: folios,
        provenance: [p],
        rule: RULE,
        message: `the device wrote 0x${num(ev.args.value, 0).toString(16)} into ${pfnText(folios[0])}${folios.length > 1 ? ` and ${folios.length - 1} more` : ""} while it was under writeback, through the page ${describePin(p)}`,
      });
    },
  };
}
