/**
 * Pin provenance: one record per pin (or reference) call a driver or the
 * kernel made — who, through which API and flags, on which process's
 * memory, at which step — so that any later failure or hazard can name its
 * pinner. A side table, never a per-page object (DESIGN.md).
 */
import type { Kernel } from "../kernel.js";

export type PinKind = "pin" | "ref";

export interface PinRecord {
  readonly id: number;
  /** who holds it: "io_uring", "vfio", "rdma", "kernel", "vmsplice", … */
  readonly owner: string;
  /** the GUP entry point used: "pin_user_pages_fast", … */
  readonly api: string;
  /** FOLL_* flags as passed by the caller */
  readonly flags: number;
  /** pid of the process whose memory is pinned */
  readonly pid: number;
  /** first user address and number of pages requested */
  readonly start: number;
  readonly nrPages: number;
  /** the pages obtained (pfns), in address order */
  readonly pages: Int32Array;
  readonly kind: PinKind;
  readonly longterm: boolean;
  /** the scenario step (or caller-defined tag) that took it */
  readonly step: number;
  released: boolean;
}

export class PinTable {
  private nextId = 1;
  readonly records = new Map<number, PinRecord>();
  /** set by the scenario runner before each step; recorded on every new pin */
  currentStep = 0;

  add(r: Omit<PinRecord, "id" | "step" | "released">): PinRecord {
    const rec: PinRecord = { ...r, id: this.nextId++, step: this.currentStep, released: false };
    this.records.set(rec.id, rec);
    return rec;
  }

  /** Live records holding the folio containing pfn (for "blocked by … pinned by …"). */
  holding(k: Kernel, pfn: number): PinRecord[] {
    const folio = k.memmap.head(pfn);
    const out: PinRecord[] = [];
    for (const r of this.records.values()) {
      if (r.released) continue;
      for (let i = 0; i < r.pages.length; i++)
        if (k.memmap.head(r.pages[i]) === folio) {
          out.push(r);
          break;
        }
    }
    return out;
  }

  live(): PinRecord[] {
    return [...this.records.values()].filter((r) => !r.released);
  }
}

const tables = new WeakMap<Kernel, PinTable>();
export function pin_table(k: Kernel): PinTable {
  let t = tables.get(k);
  if (!t) tables.set(k, (t = new PinTable()));
  return t;
}

/** "pinned by io_uring (pin_user_pages_fast FOLL_WRITE|FOLL_LONGTERM) of pid 1 at step 12" */
export function describe_pin(
  r: PinRecord,
  procName: (pid: number) => string,
  formatFlags: (f: number) => string,
): string {
  const what = r.kind === "pin" ? (r.longterm ? "long-term pinned" : "pinned") : "referenced";
  return `${what} by ${r.owner} (${r.api} ${formatFlags(r.flags)}) of process ${procName(r.pid)} at step ${r.step}`;
}
