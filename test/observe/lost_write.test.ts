/**
 * lost_write: a device write through a pin never reaches the file — each
 * way it becomes certain, beside a near twin where the data does arrive.
 */
import { describe, expect, it } from "vitest";
import { found, ranClean, runSrc, sharedFile } from "./helpers.js";

/** Pin the page (line 7), let writeback clean it (8), the device writes (9). */
const CLEANED = (fs = "ext4") => `${sharedFile(fs)}kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = 1
kernel: writeback(/data/f) = 1
dev: dma_write(p, 0x22) = 0
`;

describe("lost_write", () => {
  it("fires when the pin is released without dirtying a page writeback had cleaned (P9, Case 5)", () => {
    const r = runSrc(CLEANED() + "kernel: unpin_user_pages(p) = 0\nkernel: writeback(/data/f) = 0\n");
    ranClean(r);
    const f = found(r, "lost_write");
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ step: 10, line: 10, pfns: [0x400] });
    expect(f[0].rule).toMatch(/^mm\/page-writeback\.c: folio_clear_dirty_for_io\(\)/);
    expect(f[0].message).toBe(
      "the device's write of 0x22 into pfn 0x400 (page 0 of /data/f) at line 9 never reaches the file: " +
        "writeback had cleaned the page and unpin_user_pages() did not dirty it again, so nothing will write it back; " +
        "the page was pinned by kernel (pin_user_pages_fast FOLL_WRITE) of process A at line 7",
    );
    expect(f[0].provenance.map((p) => [p.pin, p.owner, p.api, p.flags, p.line])).toEqual([
      [1, "kernel", "pin_user_pages_fast", "FOLL_WRITE", 7],
    ]);
  });
  it("stays quiet when the pin is released with unpin_user_pages_dirty_lock() and written back", () => {
    const r = runSrc(
      CLEANED() + "kernel: unpin_user_pages_dirty_lock(p, 1) = 0\nkernel: writeback(/data/f) = 1\n",
    );
    ranClean(r);
    expect(r.hazards).toEqual([]);
  });
  it("fires for a FOLL_GET reference dropped with put_page(), naming put_page()", () => {
    const src = `${sharedFile()}kvm: r = get_user_pages_unlocked(A, buf, 1, FOLL_WRITE) = 1
kernel: writeback(/data/f) = 1
dev: dma_write(r, 0x22) = 0
kvm: put_page(r) = 0
`;
    const f = found(runSrc(src), "lost_write");
    expect(f.map((x) => x.line)).toEqual([10]);
    expect(f[0].message).toContain("put_page() did not dirty it again");
    expect(f[0].message).toContain(
      "referenced by kvm (get_user_pages_unlocked FOLL_WRITE) of process A at line 7",
    );
  });
  it("fires at the end of the scenario when the device data sits in a clean page, still pinned", () => {
    const r = runSrc(CLEANED("xfs"));
    ranClean(r);
    const f = found(r, "lost_write");
    expect(f.map((x) => [x.step, x.line])).toEqual([[9, 9]]);
    expect(f[0].message).toContain("the scenario ends with the page clean");
    // the end-of-run checks come before the closing asserts
    const r2 = runSrc(CLEANED("xfs") + "assert hazard lost_write\nassert hazard pin_leak\n");
    expect(r2.passed).toBe(true);
    expect(r2.summary.hazardsUnexpected).toBe(0);
  });
  it("stays quiet at the end when the page was written back after the device wrote", () => {
    const r = runSrc(
      CLEANED("xfs") + "kernel: unpin_user_pages_dirty_lock(p, 1) = 0\nkernel: writeback(/data/f) = 1\n",
    );
    expect(found(r, "lost_write")).toEqual([]);
  });
  it("fires when the device writes into a page ftruncate took out of the file (P8)", () => {
    const src = `${sharedFile()}kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = 1
A: ftruncate(fd, 0) = 0
A: ftruncate(fd, 4K) = 0
dev: dma_write(p, 0x55) = 0
kernel: unpin_user_pages_dirty_lock(p, 1) = 0
`;
    const f = found(runSrc(src), "lost_write");
    expect(f.map((x) => [x.line, x.pfns])).toEqual([[10, [0x400]]]);
    expect(f[0].message).toBe(
      "the device wrote 0x55 into pfn 0x400, which left the page cache of the file (page 0 of /data/f) at line 8: " +
        "the write can never reach the file; the page is pinned by kernel (pin_user_pages_fast FOLL_WRITE) of process A at line 7",
    );
    expect(f[0].rule).toMatch(/^mm\/truncate\.c: truncate_inode_folio\(\)/);
  });
  it("stays quiet when the device wrote before the truncate: truncation discards data by design", () => {
    const src = `${sharedFile()}kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = 1
dev: dma_write(p, 0x55) = 0
A: ftruncate(fd, 0) = 0
kernel: unpin_user_pages_dirty_lock(p, 1) = 0
`;
    expect(found(runSrc(src), "lost_write")).toEqual([]);
  });
  it("stays quiet for memory without writeback: anon and tmpfs pages hold the data themselves", () => {
    const anon = `process A
A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
A: memset(buf, 0x11, 4K) = 0
kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = 1
dev: dma_write(p, 0x22) = 0
kernel: unpin_user_pages(p) = 0
`;
    expect(runSrc(anon).hazards).toEqual([]);
    const tmpfs =
      sharedFile("tmpfs") +
      "kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = 1\ndev: dma_write(p, 0x22) = 0\nkernel: unpin_user_pages(p) = 0\n";
    expect(runSrc(tmpfs).hazards).toEqual([]);
  });
  it("tells one story per pin for several lost pages", () => {
    const src = `mount xfs /data
process A
A: fd = open("/data/f", O_RDWR|O_CREAT) = 3
A: ftruncate(fd, 16K) = 0
A: buf = mmap(NULL, 16K, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0) = ok
A: memset(buf, 0x11, 16K) = 0
kernel: p = pin_user_pages_fast(A, buf, 4, FOLL_WRITE) = 4
kernel: writeback(/data/f) = 4
dev: dma_write(p, 0x22) = 0
kernel: unpin_user_pages(p) = 0
`;
    const f = found(runSrc(src), "lost_write");
    expect(f).toHaveLength(1);
    expect(f[0].pfns).toHaveLength(4);
    expect(f[0].message).toMatch(
      /^the device's write of 0x22 into pfn 0x[0-9a-f]+ \(page 0 of \/data\/f\) and 3 more pages at line 9 never reaches the file/,
    );
  });
});
