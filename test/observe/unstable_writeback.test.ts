/** unstable_writeback: the device writes a page while its writeback I/O is in flight. */
import { describe, expect, it } from "vitest";
import { found, ranClean, runSrc, sharedFile } from "./helpers.js";

const IN_FLIGHT = `${sharedFile("xfs")}kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = 1
kernel: filemap_fdatawrite(/data/f) = 1
assert under_writeback(A, buf)
`;

describe("unstable_writeback", () => {
  it("fires when the device writes through a pin while the page is under writeback", () => {
    const r = runSrc(
      IN_FLIGHT +
        "dev: dma_write(p, 0x22) = 0\nkernel: filemap_fdatawait(/data/f) = 1\nkernel: unpin_user_pages_dirty_lock(p, 1) = 0\n",
    );
    ranClean(r);
    const f = found(r, "unstable_writeback");
    expect(f.map((x) => [x.hazard, x.step, x.line, x.pfns])).toEqual([
      ["unstable_writeback", 10, 10, [0x400]],
    ]);
    expect(f[0].message).toBe(
      "the device wrote 0x22 into pfn 0x400 while it was under writeback, through the page pinned by kernel " +
        "(pin_user_pages_fast FOLL_WRITE) of process A at line 7",
    );
    expect(f[0].rule).toMatch(/^mm\/page-writeback\.c: folio_wait_stable\(\)/);
    expect(r.hazards.map((h) => h.hazard)).toEqual(["unstable_writeback"]);
  });
  it("stays quiet when the device writes after the I/O completed", () => {
    const r = runSrc(
      IN_FLIGHT +
        "kernel: filemap_fdatawait(/data/f) = 1\ndev: dma_write(p, 0x22) = 0\nkernel: unpin_user_pages_dirty_lock(p, 1) = 0\n",
    );
    ranClean(r);
    expect(r.hazards).toEqual([]);
  });
});
