/** The mmap family: arguments, errnos and VMA bookkeeping (mm/mmap.c, mm/vma.c, mm/mprotect.c, mm/mremap.c, mm/mlock.c, mm/madvise.c). */
import { describe, expect, it } from "vitest";
import { EACCES, EBADF, EEXIST, EFAULT, EINVAL, ENOMEM, EPERM } from "../../src/kernel/include/errno.js";
import {
  MADV,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_LOCKED,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MREMAP,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  O_CREAT,
  O_RDWR,
} from "../../src/kernel/include/mman.js";
import { Machine } from "../../src/kernel/machine.js";
import { PinlabError } from "../../src/kernel/errors.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const K4 = 4096;

function boot(cfg = {}) {
  const m = new Machine(cfg);
  return { m, A: m.spawn("A", { caps: [], memlock: 64 * 1024 }) };
}

describe("mmap()", () => {
  it("bad arguments get the kernel's errno", () => {
    const { m, A } = boot();
    expect(m.mmap(A, 0, 0, RW, ANON, -1, 0)).toBe(-EINVAL); // do_mmap(): !len
    expect(m.mmap(A, 0, K4, RW, MAP_ANONYMOUS, -1, 0)).toBe(-EINVAL); // neither SHARED nor PRIVATE
    expect(m.mmap(A, 0, K4, RW, MAP_PRIVATE, 7, 0)).toBe(-EBADF); // no such fd
    expect(m.mmap(A, 0x10001, K4, RW, ANON | MAP_FIXED, -1, 0)).toBe(-EINVAL); // misaligned fixed address
    expect(m.mmap(A, 0, K4, RW, ANON, -1, 123)).toBe(-EINVAL); // offset_in_page(off)
    expect(m.mmap(A, 0, 2 ** 48, RW, ANON, -1, 0)).toBe(-ENOMEM); // beyond TASK_SIZE
  });
  it("private writable memory beyond RAM is refused by overcommit heuristics (__vm_enough_memory)", () => {
    const { m, A } = boot({ memory: 256 * 1024 * 1024 });
    expect(m.mmap(A, 0, 512 * 1024 * 1024, RW, ANON, -1, 0)).toBe(-ENOMEM);
    expect(m.mmap(A, 0, 512 * 1024 * 1024, PROT_READ, ANON, -1, 0)).toBeGreaterThan(0); // not accounted
    expect(m.mmap(A, 0, 512 * 1024 * 1024, RW, ANON | 0x4000 /* MAP_NORESERVE */, -1, 0)).toBeGreaterThan(0);
  });
  it("MAP_FIXED replaces, MAP_FIXED_NOREPLACE refuses with -EEXIST", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, 2 * K4, RW, ANON, -1, 0);
    m.store(A, a, 5);
    expect(m.mmap(A, a, K4, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(-EEXIST);
    expect(m.mmap(A, a, K4, RW, ANON | MAP_FIXED, -1, 0)).toBe(a);
    expect(m.load(A, a)).toBe(0);
  });
  it("MAP_POPULATE faults the range in at mmap time", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, 4 * K4, RW, ANON | MAP_POPULATE, -1, 0);
    for (let i = 0; i < 4; i++) expect(m.page(m.translate(A, a + i * K4)).anonExclusive).toBe(true);
  });
  it("MAP_LOCKED beyond RLIMIT_MEMLOCK without CAP_IPC_LOCK is -EAGAIN", () => {
    const { m, A } = boot();
    expect(m.mmap(A, 0, 1024 * 1024, RW, ANON | MAP_LOCKED, -1, 0)).toBe(-11);
  });
  it("MAP_SHARED|MAP_ANONYMOUS needs the shmem layer; PROT_NONE memory faults", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, K4, PROT_NONE, ANON, -1, 0);
    expect(m.load(A, a)).toBe(-EFAULT);
    void MAP_SHARED;
  });
});

describe("VMA merging (mm/vma.c: vma_merge_new_range())", () => {
  it("a new private anonymous range next to a compatible VMA extends it and shares its anon_vma", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    m.store(A, a, 1); // anon_vma_prepare() for the first VMA
    const b = m.mmap(A, 0, K4, RW, ANON, -1, 0); // top-down: right below a
    expect(b).toBe(a - K4);
    const mm = m.task(A).mm!;
    expect(mm.vmas.filter((v) => v.vm_start <= a && v.vm_end > b)).toHaveLength(1);
    expect(mm.vma_lookup(b)).toBe(mm.vma_lookup(a));
    // a read of b maps the zero page; the VMA has an anon_vma, so fork copies that PTE
    // (mm/memory.c: vma_needs_copy()) and the child maps the zero page at once
    expect(m.load(A, b)).toBe(0);
    const B = m.fork(A, "B");
    expect(m.translate(B, b)).toBe(m.translate(A, b));
  });
  it("different flags do not merge: a read-only range stays its own VMA", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    const b = m.mmap(A, 0, K4, PROT_READ, ANON, -1, 0);
    expect(b).toBe(a - K4);
    const mm = m.task(A).mm!;
    expect(mm.vma_lookup(b)).not.toBe(mm.vma_lookup(a));
  });
  it("without an anon_vma the zero-page PTEs are not copied at fork: the child faults later", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    expect(m.load(A, a)).toBe(0);
    const B = m.fork(A, "B");
    expect(m.translate(B, a)).toBeLessThan(0);
  });
});

describe("the load() observer: what a read would see, changing nothing", () => {
  it("an unpopulated shared file page reads the page cache, an unpopulated anon page zeroes", () => {
    const { m, A } = boot();
    m.mount("ext4", "/d");
    const fd = m.open(A, "/d/f", O_RDWR | O_CREAT);
    m.ftruncate(A, fd, 2 * K4);
    const a = m.mmap(A, 0, 2 * K4, RW, MAP_SHARED, fd, 0);
    m.memset(A, a, 0x11, 2 * K4);
    // the child of a fork does not copy shared file PTEs (vma_needs_copy()): unpopulated there
    const B = m.fork(A, "B");
    expect(m.translate(B, a)).toBeLessThan(0);
    expect(m.peek(B, a)).toBe(0x11); // filemap_fault() would map the cached page
    expect(m.translate(B, a)).toBeLessThan(0); // and the observer did not fault it in
    const anon = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    expect(m.peek(A, anon)).toBe(0);
  });
  it("beyond EOF a file mapping's page would SIGBUS: -EFAULT", () => {
    const { m, A } = boot();
    m.mount("ext4", "/d");
    const fd = m.open(A, "/d/f", O_RDWR | O_CREAT);
    m.ftruncate(A, fd, K4);
    const a = m.mmap(A, 0, 2 * K4, RW, MAP_SHARED, fd, 0);
    expect(m.peek(A, a + K4)).toBe(-EFAULT);
  });
});

describe("munmap() / mprotect()", () => {
  it("munmap of the middle splits the VMA; the hole faults", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, 3 * K4, RW, ANON, -1, 0);
    m.memset(A, a, 1, 3 * K4);
    expect(m.munmap(A, a + K4, K4)).toBe(0);
    expect(m.task(A).mm!.vmas.length).toBe(2);
    expect(m.load(A, a + K4)).toBe(-EFAULT);
    expect(m.load(A, a + 2 * K4)).toBe(1);
    expect(m.munmap(A, a + 1, K4)).toBe(-EINVAL);
    expect(m.munmap(A, a, 0)).toBe(-EINVAL);
  });
  it("mprotect: unknown bits -EINVAL, unmapped range -ENOMEM, beyond VM_MAY* -EACCES", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    expect(m.mprotect(A, a, K4, 0x100)).toBe(-EINVAL);
    expect(m.mprotect(A, a, 2 * K4, PROT_READ)).toBe(-ENOMEM);
    expect(m.mprotect(A, a + 1, K4, PROT_READ)).toBe(-EINVAL);
    expect(m.mprotect(A, a, 0, PROT_READ)).toBe(0);
    void EACCES;
  });
});

describe("mremap()", () => {
  it("moves pages (same pfns) with MREMAP_MAYMOVE when it cannot grow in place", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    m.mmap(A, a + K4, K4, RW, ANON | MAP_FIXED, -1, 0); // block growth
    m.store(A, a, 9);
    const pfn = m.translate(A, a);
    expect(m.mremap(A, a, K4, 2 * K4, 0)).toBe(-ENOMEM);
    const b = m.mremap(A, a, K4, 2 * K4, MREMAP.MREMAP_MAYMOVE);
    expect(b).not.toBe(a);
    expect(m.translate(A, b)).toBe(pfn);
    expect(m.load(A, b)).toBe(9);
    expect(m.load(A, a)).toBe(-EFAULT);
  });
  it("shrinks in place and rejects bad flags", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, 2 * K4, RW, ANON, -1, 0);
    expect(m.mremap(A, a, 2 * K4, K4, 0)).toBe(a);
    expect(m.load(A, a + K4)).toBe(-EFAULT);
    expect(m.mremap(A, a, K4, K4, MREMAP.MREMAP_FIXED)).toBe(-EINVAL);
    expect(m.mremap(A, a, K4, K4, 0x80)).toBe(-EINVAL);
  });
});

describe("mlock()", () => {
  it("RLIMIT_MEMLOCK: within the limit locks and populates; beyond it -ENOMEM unless CAP_IPC_LOCK", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, 128 * 1024, RW, ANON, -1, 0);
    expect(m.mlock(A, a, 128 * 1024)).toBe(-ENOMEM);
    expect(m.mlock(A, a, 64 * 1024)).toBe(0);
    expect(m.status(A).VmLck).toBe(64);
    expect(m.translate(A, a)).toBeGreaterThan(0);
    const R = m.spawn("root"); // CAP_IPC_LOCK by default
    const r = m.mmap(R, 0, 128 * 1024, RW, ANON, -1, 0);
    expect(m.mlock(R, r, 128 * 1024)).toBe(0);
    expect(m.munlock(A, a, 64 * 1024)).toBe(0);
    expect(m.status(A).VmLck).toBe(0);
  });
  it("a zero RLIMIT_MEMLOCK without CAP_IPC_LOCK forbids mlock (-EPERM)", () => {
    const m = new Machine();
    const A = m.spawn("A", { caps: [], memlock: 0 });
    const a = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    expect(m.mlock(A, a, K4)).toBe(-EPERM);
  });
  it("MADV_DONTNEED on an mlocked range is -EINVAL", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    m.mlock(A, a, K4);
    expect(m.madvise(A, a, K4, MADV.MADV_DONTNEED)).toBe(-EINVAL);
  });
});

describe("madvise()", () => {
  it("unknown advice and misaligned start are -EINVAL; a hole is -ENOMEM", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    expect(m.madvise(A, a, K4, 999)).toBe(-EINVAL);
    expect(m.madvise(A, a + 1, K4, MADV.MADV_DONTNEED)).toBe(-EINVAL);
    expect(m.madvise(A, a, 2 * K4, MADV.MADV_DONTNEED)).toBe(-ENOMEM);
  });
  it("MADV_DONTNEED drops the page; the next read sees zeroes", () => {
    const { m, A } = boot();
    const a = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    m.store(A, a, 7);
    expect(m.madvise(A, a, K4, MADV.MADV_DONTNEED)).toBe(0);
    expect(m.load(A, a)).toBe(0);
  });
  it("MADV_POPULATE_WRITE on PROT_READ is -EINVAL, POPULATE_READ on PROT_NONE -EINVAL, on a hole -ENOMEM (EXP-6)", () => {
    const { m, A } = boot();
    const r = m.mmap(A, 0, K4, PROT_READ, ANON, -1, 0);
    const n = m.mmap(A, 0, K4, PROT_NONE, ANON, -1, 0);
    expect(m.madvise(A, r, K4, MADV.MADV_POPULATE_WRITE)).toBe(-EINVAL);
    expect(m.madvise(A, r, K4, MADV.MADV_POPULATE_READ)).toBe(0);
    expect(m.madvise(A, n, K4, MADV.MADV_POPULATE_READ)).toBe(-EINVAL);
    m.munmap(A, r, K4);
    expect(m.madvise(A, r, K4, MADV.MADV_POPULATE_READ)).toBe(-ENOMEM);
  });
});

describe("API misuse", () => {
  it("an unknown pid or a non-integer argument throws a PinlabError naming the fix", () => {
    const { m } = boot();
    expect(() => m.mmap(99, 0, K4, RW, ANON, -1, 0)).toThrow(PinlabError);
    expect(() => m.mmap(1, 0.5, K4, RW, ANON, -1, 0)).toThrow(/addr must be an integer/);
  });
});

describe("special mappings (remap_pfn_range())", () => {
  it("mmap of the PFNMAP device gives VM_IO|VM_PFNMAP with special PTEs; user access works", async () => {
    const { PFNMAP_DEVICE_PATH } = await import("../../src/kernel/machine.js");
    const { VM_IO, VM_PFNMAP } = await import("../../src/kernel/include/vm_flags.js");
    const { m, A } = boot();
    const fd = m.open(A, PFNMAP_DEVICE_PATH, 2);
    expect(fd).toBeGreaterThanOrEqual(0);
    const a = m.mmap(A, 0, 2 * K4, RW, MAP_SHARED, fd, 0);
    expect(a).toBeGreaterThan(0);
    const vma = m.task(A).mm!.vma_lookup(a)!;
    expect(vma.vm_flags & (VM_IO | VM_PFNMAP)).toBe(VM_IO | VM_PFNMAP);
    expect(m.store(A, a, 9)).toBe(0);
    expect(m.load(A, a)).toBe(9);
    expect(m.page(m.translate(A, a)).zone).toBe("DMA32");
  });
});
