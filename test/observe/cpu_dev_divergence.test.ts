/**
 * cpu_dev_divergence: a live pin no longer refers to the page the process
 * maps at that address. Each case beside its near twin that must stay quiet.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ANON, found, ranClean, runSrc, sharedFile } from "./helpers.js";

describe("cpu_dev_divergence", () => {
  it("fires when a FOLL_GET reference taken after fork is left behind by the parent's COW (P10)", () => {
    const src = `${ANON}A: B = fork()
kernel: r = get_user_pages(A, buf, 1, 0) = 1
A: memset(buf, 0x22, 4K) = 0
dev: v = dma_read(r)
assert v == 0x11
assert hazard cpu_dev_divergence
kernel: put_page(r) = 0
`;
    const r = runSrc(src);
    ranClean(r);
    const f = found(r, "cpu_dev_divergence");
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ step: 6, line: 6, rule: "mm/memory.c: wp_page_copy()" });
    expect(f[0].message).toBe(
      "process A maps pfn 0x401 at 0x7efffffff000 now (cow_copy), but the device still reaches pfn 0x400: " +
        "the page was referenced by kernel (get_user_pages) of process A at line 5",
    );
    expect(f[0].pfns).toEqual([0x400]);
    expect(f[0].provenance).toEqual([
      {
        pin: 1,
        kind: "ref",
        longterm: false,
        owner: "kernel",
        api: "get_user_pages",
        flags: "0",
        process: "A",
        start: 0x7efffffff000,
        nrPages: 1,
        step: 5,
        line: 5,
      },
    ]);
  });
  it("stays quiet for the same with a FOLL_PIN pin: the parent keeps the pinned page (P3)", () => {
    const src = `${ANON}A: B = fork()
kernel: r = pin_user_pages(A, buf, 1, 0) = 1
A: memset(buf, 0x22, 4K) = 0
dev: v = dma_read(r)
assert v == 0x22
kernel: unpin_user_pages(r) = 0
assert no hazards
`;
    const r = runSrc(src);
    ranClean(r);
    expect(r.hazards).toEqual([]);
  });
  it("stays quiet for DESIGN.md's io_uring buffer across fork", () => {
    const src = readFileSync(
      new URL("../scenario/fixtures/design/03_io_uring_fork.pin", import.meta.url),
      "utf8",
    );
    expect(runSrc(src).hazards).toEqual([]);
  });
  it("fires when MADV_DONTNEED drops a pinned anon page: the next touch maps a fresh one (P8)", () => {
    const src = `${ANON}A: fixed = io_uring_register_buffers(buf, 4K) = 0
A: madvise(buf, 4K, MADV_DONTNEED) = 0
A: v = load(buf)
assert v == 0
A: io_uring_unregister_buffers(fixed) = 0
`;
    const r = runSrc(src);
    ranClean(r);
    const f = found(r, "cpu_dev_divergence");
    expect(f.map((x) => [x.line, x.rule])).toEqual([[5, "mm/memory.c: zap_present_ptes()"]]);
    expect(f[0].message).toContain(
      "no longer maps anything at 0x7efffffff000 and its next access faults in another page",
    );
    expect(f[0].message).toContain(
      "long-term pinned by io_uring (pin_user_pages_fast FOLL_WRITE|FOLL_LONGTERM) of process A at line 4",
    );
  });
  it("stays quiet when MADV_DONTNEED unmaps a pinned page of a shared file: it is still in the page cache", () => {
    const src = `${sharedFile("xfs")}kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = 1
A: madvise(buf, 4K, MADV_DONTNEED) = 0
A: v = load(buf)
assert v == 0x11
kernel: unpin_user_pages_dirty_lock(p, 1) = 0
`;
    const r = runSrc(src);
    ranClean(r);
    expect(r.hazards).toEqual([]);
  });
  it("fires when ftruncate takes a pinned page out of the file (P8)", () => {
    const src = `${sharedFile()}kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = 1
A: ftruncate(fd, 0) = 0
kernel: unpin_user_pages(p) = 0
`;
    const r = runSrc(src);
    ranClean(r);
    expect(found(r, "cpu_dev_divergence").map((f) => f.line)).toEqual([8]);
  });
  it("stays quiet when the process gives the address up (munmap) and maps something else there", () => {
    const src = `${ANON}kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = 1
A: munmap(buf, 4K) = 0
A: b2 = mmap(buf, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0) = ok
A: memset(b2, 0x22, 4K) = 0
kernel: unpin_user_pages(p) = 0
`;
    const r = runSrc(src);
    ranClean(r);
    expect(r.hazards).toEqual([]);
  });
  it("fires when the device uses a pin after its release, and not before", () => {
    const base = `${ANON}kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = 1
dev: dma_write(p, 0x33) = 0
kernel: unpin_user_pages(p) = 0
`;
    expect(runSrc(base).hazards).toEqual([]);
    const r = runSrc(base + "dev: dma_write(p, 0x44) = 0\n");
    const f = found(r, "cpu_dev_divergence");
    expect(f.map((x) => x.line)).toEqual([7]);
    expect(f[0].message).toMatch(/^the device wrote pfn 0x400 through pin 1 after it was released/);
  });
  it("reports only the zapped page of a pinned THP, and nothing for the rest of the huge mapping", () => {
    const src = `machine thp=always
process A
A: buf = mmap(NULL, 4M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
A: t = mremap(buf, 4M, 2M, 0)
A: memset(buf, 0x11, 2M) = 0
assert order(A, buf) == 9
vfio: p = pin_user_pages_remote(A, buf, 512, FOLL_WRITE|FOLL_LONGTERM) = 512
A: store(buf + 4K, 0x33) = 0
A: madvise(buf + 8K, 4K, MADV_DONTNEED) = 0
A: store(buf + 8K, 0x22) = 0
vfio: unpin_user_pages(p) = 0
`;
    const r = runSrc(src);
    ranClean(r);
    const f = found(r, "cpu_dev_divergence");
    expect(f.map((x) => [x.line, x.pfns.length])).toEqual([[9, 1]]);
    expect(f[0].message).toMatch(
      /^process A no longer maps anything at 0x7effffc02000 and its next access faults in another page \(zap_pinned\)/,
    );
  });
});
