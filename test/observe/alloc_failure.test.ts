/** alloc_failure: cma_alloc, offlining or compaction failed because of a pin — named causally. */
import { describe, expect, it } from "vitest";
import { found, ranClean, runSrc } from "./helpers.js";

const CMA = `machine memory=256M cma=192M
process qemu
qemu: ram = mmap(NULL, 2M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
qemu: memset(ram, 0x5a, 2M) = 0
assert migratetype(qemu, ram) == CMA
`;

describe("alloc_failure", () => {
  it("fires when cma_alloc fails on a pinned page, naming the pinner and its line", () => {
    const r = runSrc(
      CMA +
        "vfio: dma = pin_user_pages_remote(qemu, ram, 512, FOLL_WRITE) = 512\nkernel: cma_alloc(192M) = -EBUSY\nvfio: unpin_user_pages(dma) = 0\n",
    );
    ranClean(r);
    const f = found(r, "alloc_failure");
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ line: 7, pfns: [0x4000] });
    expect(f[0].message).toBe(
      "cma_alloc of 49152 pages failed (-EBUSY): blocked by pfn 0x4000, pinned by vfio " +
        "(pin_user_pages_remote FOLL_WRITE) of process qemu at line 6",
    );
    expect(f[0].rule).toMatch(/^mm\/cma\.c: cma_alloc\(\)/);
    expect(f[0].provenance.map((p) => [p.owner, p.api, p.flags, p.process, p.line])).toEqual([
      ["vfio", "pin_user_pages_remote", "FOLL_WRITE", "qemu", 6],
    ]);
  });
  it("stays quiet when the same pin is long-term: it moved out of CMA first and cma_alloc succeeds", () => {
    const r = runSrc(
      CMA +
        "vfio: dma = pin_user_pages_remote(qemu, ram, 512, FOLL_WRITE|FOLL_LONGTERM) = 512\nkernel: a = cma_alloc(192M) = 0\nvfio: unpin_user_pages(dma) = 0\n",
    );
    ranClean(r);
    expect(r.hazards).toEqual([]);
  });
  it("stays quiet when cma_alloc fails for want of memory, not because of a pin", () => {
    const r = runSrc(CMA + "kernel: cma_alloc(256M) = -ENOMEM\n");
    expect(r.hazards).toEqual([]);
  });
  it("fires for offlining and compaction blocked by a pin, grouping the folios of one pinner", () => {
    const src = `machine memory=4G movable=2G
process A
A: buf = mmap(NULL, 64K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
A: memset(buf, 0x5a, 64K) = 0
v4l2: p = pin_user_pages_unlocked(A, buf, 16, FOLL_WRITE) = 16
kernel: compact()
kernel: offline_pages(0x80000, 0x8000) = -EINTR
v4l2: unpin_user_pages(p) = 0
kernel: offline_pages(0x80000, 0x8000) = 0
`;
    const r = runSrc(src);
    ranClean(r);
    const f = found(r, "alloc_failure");
    expect(f.map((x) => [x.line, x.pfns.length])).toEqual([
      [6, 16],
      [7, 16],
    ]);
    const who = "pinned by v4l2 (pin_user_pages_unlocked FOLL_WRITE) of process A at line 5";
    expect(f[0].message).toBe(
      `compaction could not move 16 pinned folios: pfn 0x80000 and 15 more folios, ${who}`,
    );
    expect(f[1].message).toBe(
      `offline_pages failed (signal backoff after 64 passes): blocked by pfn 0x80000 and 15 more folios, ${who}`,
    );
  });
});
