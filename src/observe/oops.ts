/**
 * oops — DESIGN.md "Hazards": a kernel BUG condition was reached.
 *
 * Watches: `oops` (Kernel.bug(): BUG()/VM_BUG_ON under CONFIG_DEBUG_VM).
 * Keeps: nothing — the first BUG halts the machine, so there is at most one.
 * Finds: the BUG, at the step that reached it, with the folio its message
 * names and the pins holding that folio.
 * Rule: the kernel function that hit the BUG (the event's `where`).
 */
import type { HazardDetector } from "./hazard.js";
import { folioInMessage } from "./kernel_log.js";
import { holders, provenanceOfAll } from "./provenance.js";

export function oops(): HazardDetector {
  return {
    hazard: "oops",
    watches: ["oops"],
    onEvent(ev, ctx) {
      const k = ctx.machine.k;
      const folio = folioInMessage(k, ev.args.message);
      ctx.report({
        pfns: folio === null ? [] : [folio],
        provenance: folio === null ? [] : provenanceOfAll(holders(k, folio), ctx),
        rule: ev.where,
        message: `kernel BUG at ${ev.where}: ${String(ev.args.message)}; the machine halted`,
      });
    },
  };
}
