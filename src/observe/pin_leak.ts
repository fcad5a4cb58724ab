/**
 * pin_leak — DESIGN.md "Hazards": pins outstanding when their owner exited
 * or the scenario ended.
 *
 * Watches: `exit` (kernel/exit.c: do_exit()).
 * Keeps: the processes that exited in the current step; the pins already reported.
 * Finds:
 *  - at the end of a step in which a process exited, every FOLL_PIN pin still
 *    held on that process's memory: exit_mmap() unmaps the pages but a pin is
 *    not a mapping, so they stay allocated (and unmovable) with no mm left to
 *    account or release them — only the pinner can, and nothing tells it to;
 *  - at the end of the scenario, every FOLL_PIN pin still held.
 * FOLL_GET references (pipes, get_user_pages) are not pins and are not
 * reported: they hold pages for as long as their holder (a pipe) lives.
 * Rule: kernel/exit.c: do_exit() does not release pins; only
 * unpin_user_pages*() does (mm/gup.c).
 */
import { pin_table, type PinRecord } from "../kernel/drivers/pin_table.js";
import type { DetectorContext, HazardDetector } from "./hazard.js";
import { describePin, pfnText, provenanceOf } from "./provenance.js";

const RULE_EXIT = "kernel/exit.c: do_exit() → exit_mmap(): unmapping does not release a pin (P8)";
const RULE_END = "mm/gup.c: unpin_user_pages(): every FOLL_PIN pin must be released by the code that took it";

/** At most this many pfns are listed per finding; the message gives the count. */
export const MAX_PFNS = 64;

/** The distinct folios of a pin, in order, at most MAX_PFNS. */
export function pinFolios(ctx: DetectorContext, r: PinRecord): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < r.pages.length && out.length < MAX_PFNS; i++) {
    const head = ctx.machine.k.memmap.head(r.pages[i]);
    if (!seen.has(head)) {
      seen.add(head);
      out.push(head);
    }
  }
  return out;
}

function pages(n: number): string {
  return `${n} page${n === 1 ? "" : "s"}`;
}

export function pin_leak(): HazardDetector {
  const exited: number[] = [];
  const reported = new Set<number>();
  const report = (ctx: DetectorContext, r: PinRecord, why: string, rule: string) => {
    reported.add(r.id);
    const p = provenanceOf(r, ctx);
    const folios = pinFolios(ctx, r);
    ctx.report({
      pfns: folios,
      provenance: [p],
      rule,
      message:
        `pin ${r.id} on ${pages(r.pages.length)} of process ${p.process} (${pfnText(folios[0] ?? -1)}` +
        `${r.pages.length > 1 ? " …" : ""}) is still held ${why}: ${describePin(p)}`,
    });
  };
  return {
    hazard: "pin_leak",
    watches: ["exit"],
    onEvent(ev) {
      if (typeof ev.args.pid === "number") exited.push(ev.args.pid);
    },
    onStepEnd(ctx) {
      if (exited.length === 0) return;
      const pids = new Set(exited);
      exited.length = 0;
      for (const r of pin_table(ctx.machine.k).live())
        if (r.kind === "pin" && pids.has(r.pid) && !reported.has(r.id))
          report(ctx, r, `after process ${ctx.processName(r.pid)} exited`, RULE_EXIT);
    },
    onEnd(ctx) {
      for (const r of pin_table(ctx.machine.k).live())
        if (r.kind === "pin" && !reported.has(r.id)) report(ctx, r, "when the scenario ends", RULE_END);
    },
  };
}
