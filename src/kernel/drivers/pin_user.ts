/**
 * How drivers reach GUP: one call that runs the chosen entry point in the
 * caller's context and records the pin's provenance, and its release. Pins
 * go back through unpin_user_pages*(), references through put_page(), as
 * each API demands.
 */
import { FOLL_LONGTERM } from "../include/foll_flags.js";
import type { Kernel } from "../kernel.js";
import type { Task } from "../kernel/task.js";
import {
  get_user_pages,
  get_user_pages_fast,
  get_user_pages_fast_only,
  get_user_pages_remote,
  get_user_pages_unlocked,
  pin_user_pages,
  pin_user_pages_fast,
  pin_user_pages_remote,
  pin_user_pages_unlocked,
} from "../mm/gup.js";
import { put_page, unpin_user_pages, unpin_user_pages_dirty_lock } from "../mm/gup_refs.js";
import { pin_table, type PinRecord } from "./pin_table.js";

/** The GUP entry points a driver or the kernel may call, by name: one list behind the scenario's names. */
export const GUP_APIS = [
  "pin_user_pages_fast",
  "pin_user_pages",
  "pin_user_pages_remote",
  "pin_user_pages_unlocked",
  "get_user_pages_fast",
  "get_user_pages_fast_only",
  "get_user_pages",
  "get_user_pages_remote",
  "get_user_pages_unlocked",
] as const;
export type GupApi = (typeof GUP_APIS)[number];

export function is_pin_api(api: GupApi): boolean {
  return api.startsWith("pin_");
}

export interface PinRequest {
  owner: string;
  api: GupApi;
  /** whose context the call runs in (current) */
  caller: Task;
  /** whose memory: the caller, except for the _remote variants */
  target: Task;
  start: number;
  nrPages: number;
  flags: number;
}

export interface PinOutcome {
  /** the entry point's return value */
  ret: number;
  /** the record of what was obtained (ret > 0), else null */
  rec: PinRecord | null;
}

/** Call the GUP entry point as the driver would and record what it obtained. */
export function driver_gup(k: Kernel, r: PinRequest): PinOutcome {
  const pages = new Int32Array(Math.max(0, r.nrPages));
  const mm = r.target.mm;
  if (!mm) return { ret: -14, rec: null };
  const ret = k.asTask(r.caller, () => {
    switch (r.api) {
      case "pin_user_pages_fast":
        return pin_user_pages_fast(k, r.start, r.nrPages, r.flags, pages);
      case "pin_user_pages":
        return pin_user_pages(k, r.start, r.nrPages, r.flags, pages);
      case "pin_user_pages_unlocked":
        return pin_user_pages_unlocked(k, r.start, r.nrPages, r.flags, pages);
      case "pin_user_pages_remote":
        return pin_user_pages_remote(k, mm, r.start, r.nrPages, r.flags, pages);
      case "get_user_pages_fast":
        return get_user_pages_fast(k, r.start, r.nrPages, r.flags, pages);
      case "get_user_pages_fast_only":
        return get_user_pages_fast_only(k, r.start, r.nrPages, r.flags, pages);
      case "get_user_pages":
        return get_user_pages(k, r.start, r.nrPages, r.flags, pages);
      case "get_user_pages_unlocked":
        return get_user_pages_unlocked(k, r.start, r.nrPages, r.flags, pages);
      case "get_user_pages_remote":
        return get_user_pages_remote(k, mm, r.start, r.nrPages, r.flags, pages);
    }
  });
  if (ret <= 0) return { ret, rec: null };
  const rec = pin_table(k).add({
    owner: r.owner,
    api: r.api,
    flags: r.flags,
    pid: r.target.pid,
    start: r.start,
    nrPages: ret,
    pages: pages.slice(0, ret),
    kind: is_pin_api(r.api) ? "pin" : "ref",
    longterm: (r.flags & FOLL_LONGTERM) !== 0,
  });
  return { ret, rec };
}

/**
 * Release what a record holds: unpin_user_pages() (or the _dirty_lock
 * variant when the device wrote, so the folios are marked dirty) for pins,
 * put_page() for references. Releasing twice is a driver bug the model
 * refuses to make.
 */
export function driver_release(k: Kernel, rec: PinRecord, dirty = false): void {
  if (rec.released) return;
  rec.released = true;
  if (rec.kind === "pin") {
    if (dirty) unpin_user_pages_dirty_lock(k, rec.pages, rec.pages.length, true);
    else unpin_user_pages(k, rec.pages, rec.pages.length);
  } else {
    for (let i = 0; i < rec.pages.length; i++) put_page(k, rec.pages[i]);
  }
  k.trace.emit("pin_release", "driver", { pin: rec.id, owner: rec.owner, pages: rec.pages.length, dirty });
}
