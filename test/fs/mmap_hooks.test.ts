/** The fs layer as mm/mmap.ts reaches it: do_mmap() of files, shared anonymous and MAP_HUGETLB memory, munmap. */
import { describe, it, expect } from "vitest";
import { ENOMEM } from "../../src/kernel/include/errno.js";
import {
  MAP_ANONYMOUS,
  MAP_HUGETLB,
  MAP_NORESERVE,
  MAP_SHARED,
  O_CREAT,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "../../src/kernel/include/mman.js";
import { HPAGE_PMD_SIZE, PAGE_SIZE } from "../../src/kernel/include/mmzone.js";
import { VM_HUGETLB } from "../../src/kernel/include/vm_flags.js";
import { do_mount, inode_by_id, lookup_inode, sys_open } from "../../src/kernel/fs/index.js";
import { do_mmap, do_munmap } from "../../src/kernel/mm/mmap.js";
import { boot, fault, file } from "./util.js";

const RW = PROT_READ | PROT_WRITE;

describe("do_mmap() through the fs hooks", () => {
  it("MAP_SHARED|MAP_ANONYMOUS is shmem; munmap evicts the unnamed file", () => {
    const env = boot();
    const { k, t } = env;
    const addr = k.asTask(t, () => do_mmap(k, t, 0, 2 * PAGE_SIZE, RW, MAP_SHARED | MAP_ANONYMOUS, null, 0));
    expect(addr).toBeGreaterThan(0);
    const vma = t.mm!.vma_lookup(addr)!;
    expect(vma.vm_ops?.name).toBe("shmem");
    expect(vma.vm_pgoff).toBe(0);
    const inode = inode_by_id(k, vma.vm_file!.inodeId)!;
    expect(fault(env, vma, addr + PAGE_SIZE, true)).toBe(0);
    expect(do_munmap(k, t.mm!, addr, 2 * PAGE_SIZE)).toBe(0);
    expect(inode.evicted).toBe(true);
  });

  it("a file mapping joins i_mmap and leaves it on munmap", () => {
    const { k, t } = boot();
    do_mount(k, "ext4", "/data");
    const fd = sys_open(k, t, "/data/f", O_RDWR | O_CREAT);
    const inode = lookup_inode(k, "/data/f")!;
    const addr = k.asTask(t, () => do_mmap(k, t, 0, PAGE_SIZE, RW, MAP_SHARED, file(t, fd), 0));
    expect(addr).toBeGreaterThan(0);
    expect(inode.mapping.i_mmap.size).toBe(1);
    expect(t.mm!.vma_lookup(addr)!.vm_ops?.name).toBe("file");
    do_munmap(k, t.mm!, addr, PAGE_SIZE);
    expect(inode.mapping.i_mmap.size).toBe(0);
    expect(inode.evicted).toBe(false);
  });

  it("MAP_SHARED|MAP_HUGETLB reserves from the pool (-ENOMEM beyond it, fine with MAP_NORESERVE)", () => {
    const env = boot({ hugetlb2M: 1 });
    const { k, t } = env;
    const h = k.hstates[0];
    const flags = MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB;
    expect(k.asTask(t, () => do_mmap(k, t, 0, 2 * HPAGE_PMD_SIZE, RW, flags, null, 0))).toBe(-ENOMEM);
    const addr = k.asTask(t, () => do_mmap(k, t, 0, HPAGE_PMD_SIZE, RW, flags, null, 0));
    expect(addr).toBeGreaterThan(0);
    expect(h.resvHugePages).toBe(1);
    const vma = t.mm!.vma_lookup(addr)!;
    expect(vma.vm_ops?.name).toBe("hugetlbfs");
    expect(fault(env, vma, addr, true)).toBe(0);
    expect(h.resvHugePages).toBe(0);
    const nores = k.asTask(t, () => do_mmap(k, t, 0, 2 * HPAGE_PMD_SIZE, RW, flags | MAP_NORESERVE, null, 0));
    expect(nores).toBeGreaterThan(0);
  });

  it("a hugetlbfs file maps as VM_HUGETLB", () => {
    const env = boot({ hugetlb2M: 2 });
    const { k, t } = env;
    do_mount(k, "hugetlbfs", "/huge");
    const fd = sys_open(k, t, "/huge/f", O_RDWR | O_CREAT);
    const addr = k.asTask(t, () => do_mmap(k, t, 0, HPAGE_PMD_SIZE, RW, MAP_SHARED, file(t, fd), 0));
    expect(addr % HPAGE_PMD_SIZE).toBe(0);
    const vma = t.mm!.vma_lookup(addr)!;
    expect(vma.vm_flags & VM_HUGETLB).toBeTruthy();
    expect(fault(env, vma, addr, true)).toBe(0);
    expect(lookup_inode(k, "/huge/f")!.i_size).toBe(HPAGE_PMD_SIZE);
  });
});
