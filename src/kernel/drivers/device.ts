/**
 * A DMA-capable device: reads and writes memory through whatever pages a
 * driver pinned or referenced for it. It touches the pages it was given —
 * not whatever the process maps now — which is exactly how data diverges
 * between CPU and device when COW, truncate or migration replaced a page.
 */
import { EINVAL } from "../include/errno.js";
import type { Kernel } from "../kernel.js";
import type { PinRecord } from "./pin_table.js";

/** dma_write: store value into every page (or pages [first, first+nr)) of the pin. */
export function dma_write(
  k: Kernel,
  rec: PinRecord,
  value: number,
  first = 0,
  nr = rec.pages.length,
): number {
  if (first < 0 || nr < 0 || first + nr > rec.pages.length) return -EINVAL;
  for (let i = first; i < first + nr; i++) {
    const pfn = rec.pages[i];
    k.memmap.setContent(pfn, value);
    // a device write dirties nothing in the kernel's books: the folio's dirty bit is
    // only set when the driver unpins with unpin_user_pages_dirty_lock()
  }
  k.trace.emit("dma_write", "device DMA", {
    pin: rec.id,
    owner: rec.owner,
    pid: rec.pid,
    first,
    nr,
    pfn: rec.pages[first] ?? -1,
    value,
    released: rec.released,
  });
  return 0;
}

/** dma_read: the content of page `index` of the pin, as the device sees it. */
export function dma_read(k: Kernel, rec: PinRecord, index = 0): number {
  if (index < 0 || index >= rec.pages.length) return -EINVAL;
  const v = k.memmap.content(rec.pages[index]);
  k.trace.emit("dma_read", "device DMA", {
    pin: rec.id,
    owner: rec.owner,
    pid: rec.pid,
    index,
    pfn: rec.pages[index],
    value: v,
  });
  return v;
}
