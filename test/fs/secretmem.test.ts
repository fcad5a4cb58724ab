import { describe, it, expect } from "vitest";
import { EAGAIN, EINVAL, ENOSYS } from "../../src/kernel/include/errno.js";
import { VM_FAULT } from "../../src/kernel/include/fault.js";
import { O } from "../../src/kernel/include/mman.js";
import { MIGRATE, PAGE_SIZE, ZONE } from "../../src/kernel/include/mmzone.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import { VM_DONTDUMP, VM_LOCKED } from "../../src/kernel/include/vm_flags.js";
import {
  folio_is_secretmem,
  memfd_secret,
  secretmem_active,
  sys_close,
  sys_fsync,
  sys_ftruncate,
  sys_pread64,
  sys_write,
  vma_is_secretmem,
} from "../../src/kernel/fs/index.js";
import { Task } from "../../src/kernel/kernel/task.js";
import { VmArea } from "../../src/kernel/mm/mm_types.js";
import { boot, fault, file, mapFile, MMAP_BASE, PRIVATE_RW, ptePfn, SHARED_RW } from "./util.js";

describe("secretmem (mm/secretmem.c)", () => {
  it("memfd_secret: flags other than O_CLOEXEC are -EINVAL; without CONFIG_SECRETMEM -ENOSYS", () => {
    const { k, t } = boot();
    expect(memfd_secret(k, t, 1)).toBe(-EINVAL);
    expect(memfd_secret(k, t, O.O_CLOEXEC)).toBeGreaterThanOrEqual(0);
    const off = boot({ kconfig: { SECRETMEM: false } });
    expect(memfd_secret(off.k, off.t, 0)).toBe(-ENOSYS);
  });

  it("the size is set once; read/write/fsync are not supported", () => {
    const { k, t } = boot();
    const fd = memfd_secret(k, t, 0);
    expect(secretmem_active(k)).toBe(true);
    expect(file(t, fd).kind).toBe("secretmem");
    expect(sys_ftruncate(k, t, fd, 2 * PAGE_SIZE)).toBe(0);
    expect(sys_ftruncate(k, t, fd, 4 * PAGE_SIZE)).toBe(-EINVAL);
    expect(sys_write(k, t, fd, 1, PAGE_SIZE)).toBe(-EINVAL);
    expect(sys_pread64(k, t, fd, PAGE_SIZE, 0)).toBe(-EINVAL);
    expect(sys_fsync(k, t, fd)).toBe(-EINVAL);
    sys_close(k, t, fd);
    expect(secretmem_active(k)).toBe(false);
  });

  it("mmap: shared only, VM_LOCKED|VM_DONTDUMP; faults allocate unmovable, unevictable, zeroed pages", () => {
    const env = boot({ movable: 64 * 1024 * 1024 });
    const { k, t } = env;
    const fd = memfd_secret(k, t, 0);
    sys_ftruncate(k, t, fd, PAGE_SIZE);
    const priv = new VmArea(
      t.mm!,
      MMAP_BASE - 0x100000,
      MMAP_BASE - 0x100000 + PAGE_SIZE,
      PRIVATE_RW,
      0,
      null,
      null,
    );
    expect(file(t, fd).mmap(k, priv)).toBe(-EINVAL);
    const vma = mapFile(env, file(t, fd), MMAP_BASE - 0x200000, 2, SHARED_RW);
    expect(vma_is_secretmem(vma)).toBe(true);
    expect(vma.vm_flags & VM_LOCKED).toBeTruthy();
    expect(vma.vm_flags & VM_DONTDUMP).toBeTruthy();
    expect(fault(env, vma, vma.vm_start, true)).toBe(0);
    const pfn = ptePfn(vma, vma.vm_start)!;
    expect(k.pa.zoneIdOf(pfn)).not.toBe(ZONE.MOVABLE);
    expect(k.pa.get_pageblock_migratetype(pfn)).toBe(MIGRATE.UNMOVABLE);
    expect(k.memmap.test(pfn, PG.unevictable)).toBe(true);
    expect(k.memmap.content(pfn)).toBe(0);
    expect(folio_is_secretmem(k, pfn)).toBe(true);
    // past EOF
    expect(fault(env, vma, vma.vm_start + PAGE_SIZE, false)).toBe(VM_FAULT.SIGBUS);
  });

  it("mmap beyond RLIMIT_MEMLOCK without CAP_IPC_LOCK is -EAGAIN", () => {
    const env = boot();
    const { k } = env;
    const t = new Task(k.newId("pid"), "U", env.t.mm, 1000, [], PAGE_SIZE, null);
    k.tasks.set(t.pid, t);
    const fd = memfd_secret(k, t, 0);
    sys_ftruncate(k, t, fd, 4 * PAGE_SIZE);
    const vma = new VmArea(
      t.mm!,
      MMAP_BASE - 0x100000,
      MMAP_BASE - 0x100000 + 4 * PAGE_SIZE,
      SHARED_RW,
      0,
      null,
      null,
    );
    expect(k.asTask(t, () => file(t, fd).mmap(k, vma))).toBe(-EAGAIN);
    const small = new VmArea(
      t.mm!,
      MMAP_BASE - 0x100000,
      MMAP_BASE - 0x100000 + PAGE_SIZE,
      SHARED_RW,
      0,
      null,
      null,
    );
    expect(k.asTask(t, () => file(t, fd).mmap(k, small))).toBe(0);
  });
});
