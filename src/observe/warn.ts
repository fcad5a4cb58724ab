/**
 * warn — DESIGN.md "Hazards": a kernel WARN condition was reached.
 *
 * Watches: `warn` (Kernel.warn(): WARN_ON_ONCE(), ext4_warning_inode() and
 * the model's own "no progress" guards).
 * Keeps: nothing; the event says whether this site fired before.
 * Finds: each WARN site once, like WARN_ON_ONCE() prints once — the step
 * that first reached it, the folio its message names and that folio's pinners.
 * Rule: the kernel function that warned (the event's `where`).
 */
import type { HazardDetector } from "./hazard.js";
import { folioInMessage } from "./kernel_log.js";
import { holders, provenanceOfAll } from "./provenance.js";

export function warn(): HazardDetector {
  return {
    hazard: "warn",
    watches: ["warn"],
    onEvent(ev, ctx) {
      if (ev.args.once === false) return;
      const k = ctx.machine.k;
      const folio = folioInMessage(k, ev.args.message);
      ctx.report({
        pfns: folio === null ? [] : [folio],
        provenance: folio === null ? [] : provenanceOfAll(holders(k, folio), ctx),
        rule: ev.where,
        message: `WARNING at ${ev.where}: ${String(ev.args.message)}`,
      });
    },
  };
}
