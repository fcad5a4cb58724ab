/**
 * Reading the model's BUG and WARN messages (Kernel.bug()/warn()), which
 * name folios the way the kernel's dump_page() does: "folio 123456".
 */
import type { Kernel } from "../kernel/kernel.js";

/** The first folio pfn a BUG/WARN message names, if it is a pfn of this machine. */
export function folioInMessage(k: Kernel, message: unknown): number | null {
  if (typeof message !== "string") return null;
  const m = /\bfolio (\d+)\b/.exec(message);
  if (!m) return null;
  const pfn = Number(m[1]);
  return Number.isSafeInteger(pfn) && pfn < k.memmap.nrPages ? pfn : null;
}
