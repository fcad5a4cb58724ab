/**
 * gup-api.md §5 (__get_user_pages_locked(): lock and retry), §6
 * (__get_user_pages(): the page loop, VMA checks, faultin_page()).
 */
import { describe, expect, it } from "vitest";
import { memfd_create, sys_ftruncate, sys_open } from "../../src/kernel/fs/index.js";
import { open_pfnmap_device } from "../../src/kernel/drivers/pfnmap_dev.js";
import {
  EEXIST,
  EFAULT,
  EHWPOISON,
  EINTR,
  EINVAL,
  ENOMEM,
  EOPNOTSUPP,
} from "../../src/kernel/include/errno.js";
import { FAULT_FLAG, VM_FAULT } from "../../src/kernel/include/fault.js";
import {
  FOLL_ANON,
  FOLL_FORCE,
  FOLL_HWPOISON,
  FOLL_INTERRUPTIBLE,
  FOLL_LONGTERM,
  FOLL_NOFAULT,
  FOLL_NOWAIT,
  FOLL_PIN,
  FOLL_SPLIT_PMD,
  FOLL_UNLOCKABLE,
  FOLL_WRITE,
} from "../../src/kernel/include/foll_flags.js";
import {
  MADV,
  MAP_GROWSDOWN,
  MAP_HUGETLB,
  MAP_SHARED,
  O_RDONLY,
  PROT_NONE,
  PROT_READ,
} from "../../src/kernel/include/mman.js";
import { PTE } from "../../src/kernel/include/pgtable.js";
import { VM_MAYREAD, VM_MIXEDMAP, VM_READ } from "../../src/kernel/include/vm_flags.js";
import {
  __get_user_pages_locked,
  get_user_pages,
  get_user_pages_remote,
  get_user_pages_unlocked,
  pin_user_pages,
  pin_user_pages_fast,
  pin_user_pages_remote,
  pin_user_pages_unlocked,
  put_user_pages,
  unpin_user_pages,
} from "../../src/kernel/mm/gup.js";
import { set_pte } from "../../src/kernel/mm/memory.js";
import { memfd_secret } from "../../src/kernel/mm/secretmem.js";
import { MMF_HAS_PINNED, VmArea } from "../../src/kernel/mm/mm_types.js";
import {
  ANON,
  as,
  boot,
  fakeFileVma,
  M2,
  mapAnon,
  mapFile,
  openFile,
  PAGE,
  pinDelta,
  refcount,
  RW,
  traced,
  warnings,
} from "./helpers.js";

const FAKE = 0x10000000;
/** ->fault of a file system that waits for I/O: VM_FAULT_RETRY the first time, done when FAULT_FLAG_TRIED. */
const retryOnce = (flags: number): number =>
  flags & FAULT_FLAG.ALLOW_RETRY && !(flags & FAULT_FLAG.TRIED) ? VM_FAULT.RETRY : 0;

describe("§5 __get_user_pages_locked(): lock and retry", () => {
  it("[LOCK-1] nr_pages == 0 returns 0 before anything else (no MMF_HAS_PINNED, no WARN)", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    const { ret, warns } = warnings(k, () =>
      __get_user_pages_locked(k, mm, buf, 0, [], 0, { value: 1 }, FOLL_PIN),
    );
    expect(ret).toBe(0);
    expect(warns).toEqual([]);
    expect(mm.flags & MMF_HAS_PINNED).toBe(0);
  });

  it("[LOCK-2] locked == 0: GUP takes the lock itself and returns with it released (0); locked == 1 stays 1", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    const l0 = { value: 0 };
    expect(__get_user_pages_locked(k, mm, buf, 1, null, 0, l0, FOLL_WRITE | FOLL_UNLOCKABLE)).toBe(1);
    expect(l0.value).toBe(0);
    const l1 = { value: 1 };
    expect(__get_user_pages_locked(k, mm, buf, 1, null, 0, l1, FOLL_WRITE)).toBe(1);
    expect(l1.value).toBe(1);
  });

  it("[LOCK-3] FOLL_PIN sets MMF_HAS_PINNED on the target mm even if nothing is pinned, and it is never cleared", () => {
    const { m, k, mm } = boot();
    const B = m.spawn("B");
    const mmB = m.task(B).mm!;
    const p = new Int32Array(1);
    expect(pin_user_pages_remote(k, mmB, 0x1000, 1, 0, p)).toBe(-EFAULT);
    expect(mmB.flags & MMF_HAS_PINNED).toBe(MMF_HAS_PINNED);
    expect(mm.flags & MMF_HAS_PINNED).toBe(0);
    const buf = mapAnon(m, B, PAGE);
    expect(pin_user_pages_remote(k, mmB, buf, 1, 0, p)).toBe(1);
    unpin_user_pages(k, p, 1);
    expect(mmB.hasPinned()).toBe(true);
  });

  it("[LOCK-4] pages without FOLL_PIN means FOLL_GET: get_user_pages_remote takes one reference per page", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, 2 * PAGE);
    m.memset(A, buf, 1, 2 * PAGE);
    const p = new Int32Array(2);
    expect(get_user_pages_remote(k, mm, buf, 2, 0, p)).toBe(2);
    expect(refcount(k, p[0])).toBe(2);
    expect(refcount(k, p[1])).toBe(2);
    put_user_pages(k, p, 2);
    expect(refcount(k, p[0])).toBe(1);
  });

  it("[LOCK-5] without FOLL_UNLOCKABLE faults may not retry (no FAULT_FLAG_ALLOW_RETRY) and the first result is final", () => {
    const { m, k, A, mm } = boot();
    const { file } = fakeFileVma(k, mm, FAKE, 2);
    file.answer = retryOnce;
    const p = new Int32Array(2);
    expect(as(m, A, () => pin_user_pages(k, FAKE, 2, 0, p))).toBe(2);
    expect(file.calls).toEqual([0, 0]);
    unpin_user_pages(k, p, 2);
  });

  it("[LOCK-6] FOLL_NOWAIT: a fault that would wait starts I/O and returns; the lock stays held and the result is 0", () => {
    const { k, mm } = boot();
    const { file } = fakeFileVma(k, mm, FAKE, 2);
    file.answer = (f) => (f & FAULT_FLAG.RETRY_NOWAIT ? VM_FAULT.RETRY : 0);
    const p = new Int32Array(2);
    const locked = { value: 1 };
    const { ret, warns } = warnings(k, () => get_user_pages_remote(k, mm, FAKE, 2, FOLL_NOWAIT, p, locked));
    expect(ret).toBe(0);
    expect(locked.value).toBe(1);
    expect(warns).toEqual([]);
    expect(file.calls[0] & (FAULT_FLAG.ALLOW_RETRY | FAULT_FLAG.RETRY_NOWAIT)).toBe(
      FAULT_FLAG.ALLOW_RETRY | FAULT_FLAG.RETRY_NOWAIT,
    );
  });

  it("[LOCK-7] VM_FAULT_RETRY drops the lock; GUP re-takes it and retries the faulting page with FOLL_TRIED, then goes on", () => {
    const { m, k, A } = boot();
    const t = m.task(A);
    const { file } = fakeFileVma(k, t.mm!, FAKE, 3);
    file.answer = retryOnce;
    const p = new Int32Array(3);
    expect(as(m, A, () => get_user_pages_unlocked(k, FAKE, 3, 0, p))).toBe(3);
    const ar = FAULT_FLAG.ALLOW_RETRY | FAULT_FLAG.KILLABLE;
    expect(file.calls).toEqual([
      ar,
      ar | FAULT_FLAG.TRIED,
      ar,
      ar | FAULT_FLAG.TRIED,
      ar,
      ar | FAULT_FLAG.TRIED,
    ]);
    expect(Array.from(p)).toEqual([
      m.translate(A, FAKE),
      m.translate(A, FAKE + PAGE),
      m.translate(A, FAKE + 2 * PAGE),
    ]);
    put_user_pages(k, p, 3);
  });

  it("[LOCK-8] before re-taking the lock: a fatal signal, or with FOLL_INTERRUPTIBLE any signal, ends the call with -EINTR", () => {
    const { m, k, A } = boot();
    const t = m.task(A);
    const { file } = fakeFileVma(k, t.mm!, FAKE, 2);
    file.answer = retryOnce;
    const p = new Int32Array(2);
    t.signalPending = true;
    expect(as(m, A, () => pin_user_pages_unlocked(k, FAKE, 2, FOLL_INTERRUPTIBLE, p))).toBe(-EINTR);
    expect(file.calls[0] & FAULT_FLAG.INTERRUPTIBLE).toBe(FAULT_FLAG.INTERRUPTIBLE);
    // a plain signal does not interrupt a caller that did not opt in
    expect(as(m, A, () => pin_user_pages_unlocked(k, FAKE, 2, 0, p))).toBe(2);
    unpin_user_pages(k, p, 2);
  });

  it("[LOCK-9] a caller that passed locked = 1 learns the lock was released during a retry (locked = 0)", () => {
    const { k, mm } = boot();
    const { file } = fakeFileVma(k, mm, FAKE, 1);
    file.answer = retryOnce;
    const p = new Int32Array(1);
    const locked = { value: 1 };
    expect(pin_user_pages_remote(k, mm, FAKE, 1, 0, p, locked)).toBe(1);
    expect(locked.value).toBe(0);
    unpin_user_pages(k, p, 1);
  });

  it("[LOCK-10] nothing done without FOLL_NOWAIT is a WARN and -EFAULT", () => {
    const { m, k, A, mm } = boot();
    const { file } = fakeFileVma(k, mm, FAKE, 1);
    // a fault that completes with the lock released (VM_FAULT_COMPLETED) where no retry was allowed
    file.answer = () => VM_FAULT.COMPLETED;
    const p = new Int32Array(1);
    const { ret, warns } = warnings(k, () => as(m, A, () => get_user_pages(k, FAKE, 1, 0, p)));
    expect(ret).toBe(-EFAULT);
    expect(warns.some((w) => w.includes("__get_user_pages_locked"))).toBe(true);
  });
});

describe("§6 __get_user_pages(): the page loop", () => {
  it("[SLOW-1] partial success wins over the error that stopped the loop", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, 4 * PAGE);
    m.memset(A, buf, 1, 4 * PAGE);
    m.munmap(A, buf + 2 * PAGE, 2 * PAGE);
    const p = new Int32Array(4);
    expect(as(m, A, () => pin_user_pages(k, buf, 4, FOLL_WRITE, p))).toBe(2);
    unpin_user_pages(k, p, 2);
    // the error shows on the next call, at the failing address
    expect(as(m, A, () => pin_user_pages(k, buf + 2 * PAGE, 2, FOLL_WRITE, p))).toBe(-EFAULT);
  });

  it("[SLOW-2] GUP never grows the stack: an address just below a VM_GROWSDOWN VMA is -EFAULT (with a notice)", () => {
    const { m, k, A } = boot();
    const stack = m.mmap(A, 0, 4 * PAGE, RW, ANON | MAP_GROWSDOWN, -1, 0);
    const p = new Int32Array(1);
    const { ret, events } = traced(k, ["gup_no_stack_growth"], () =>
      as(m, A, () => pin_user_pages(k, stack - PAGE, 1, 0, p)),
    );
    expect(ret).toBe(-EFAULT);
    expect(events).toHaveLength(1);
  });

  it("[SLOW-3] FOLL_MADV_POPULATE: no VMA is -ENOMEM, a VMA check failure is -EINVAL (MADV_POPULATE_*)", () => {
    const { m, A } = boot();
    const ro = mapAnon(m, A, 2 * PAGE, PROT_READ);
    expect(m.madvise(A, ro, 2 * PAGE, MADV.MADV_POPULATE_WRITE)).toBe(-EINVAL); // [EXP-6a]
    expect(m.madvise(A, ro, 2 * PAGE, MADV.MADV_POPULATE_READ)).toBe(0); // [EXP-6b]
    const none = mapAnon(m, A, PAGE, PROT_NONE);
    expect(m.madvise(A, none, PAGE, MADV.MADV_POPULATE_READ)).toBe(-EINVAL); // [EXP-6c]
    const rw = mapAnon(m, A, 4 * PAGE);
    m.munmap(A, rw + 2 * PAGE, PAGE);
    expect(m.madvise(A, rw, 4 * PAGE, MADV.MADV_POPULATE_WRITE)).toBe(-ENOMEM); // [EXP-6d]
    expect(m.translate(A, rw + PAGE)).toBeGreaterThan(0); // what came before the hole was populated
  });

  it("[SLOW-4] a pending fatal signal stops the loop: -EINTR, or the pages done so far", () => {
    const { m, k, A } = boot();
    const t = m.task(A);
    const buf = mapAnon(m, A, 2 * PAGE);
    const p = new Int32Array(3);
    t.fatalSignal = true;
    expect(as(m, A, () => pin_user_pages(k, buf, 2, FOLL_WRITE, p))).toBe(-EINTR);
    expect(m.translate(A, buf)).toBeLessThan(0);
    t.fatalSignal = false;
    const { file } = fakeFileVma(k, t.mm!, FAKE, 3);
    let n = 0;
    file.answer = () => {
      if (++n === 2) t.fatalSignal = true; // SIGKILL arrives during the second fault
      return 0;
    };
    expect(as(m, A, () => pin_user_pages(k, FAKE, 3, 0, p))).toBe(1);
    unpin_user_pages(k, p, 1);
  });

  it("[SLOW-5] the x86-64 vsyscall gate page is not mapped in the model: GUP there is -EFAULT", () => {
    const { m, k, A } = boot();
    const p = new Int32Array(1);
    expect(as(m, A, () => get_user_pages(k, 0xffffffffff600000, 1, 0, p))).toBe(-EFAULT);
    expect(as(m, A, () => get_user_pages(k, 0xffffffffff600000, 1, FOLL_WRITE, p))).toBe(-EFAULT);
  });

  it("[SLOW-6] no VMA is -EFAULT", () => {
    const { m, k, A, mm } = boot();
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages(k, 0x5000, 1, 0, p))).toBe(-EFAULT);
    expect(get_user_pages_remote(k, mm, 0x5000, 1, 0, p)).toBe(-EFAULT);
  });

  it("[SLOW-9] a pfn without a struct page (VM_MIXEDMAP special PTE) is -EEXIST when pages are wanted, success otherwise", () => {
    const { m, k, A, mm } = boot();
    const addr = 0x20000000;
    const vma = new VmArea(mm, addr, addr + PAGE, VM_READ | VM_MAYREAD | VM_MIXEDMAP, 0, null, {
      name: "special",
      fault: () => VM_FAULT.SIGBUS,
    });
    mm.insertVma(vma);
    const t = mm.pgtables.pteTable(addr, true)!;
    set_pte(t, (addr / PAGE) % 512, 300, PTE.PRESENT | PTE.SPECIAL);
    const p = new Int32Array(1);
    expect(as(m, A, () => get_user_pages(k, addr, 1, 0, p))).toBe(-EEXIST);
    expect(as(m, A, () => get_user_pages(k, addr, 1, 0, null))).toBe(1);
    // [PTE-4] follow_pfn_pte(): FOLL_TOUCH marks the PTE young
    expect(t.bits[(addr / PAGE) % 512] & PTE.YOUNG).toBe(PTE.YOUNG);
    expect(refcount(k, 300)).toBe(1);
  });

  it("[SLOW-10] a huge mapping is taken in one step: page_increm subpages, one follow grab plus one grab of the rest", () => {
    const { m, k, A } = boot({ thp: "always" });
    const buf = mapAnon(m, A, M2);
    m.memset(A, buf, 1, M2);
    const head = m.translate(A, buf);
    expect(k.memmap.order(head)).toBe(9);
    const p = new Int32Array(5);
    const before = refcount(k, head);
    const d = pinDelta(k, () => expect(as(m, A, () => pin_user_pages(k, buf + 3 * PAGE, 5, 0, p))).toBe(5));
    expect(Array.from(p)).toEqual([head + 3, head + 4, head + 5, head + 6, head + 7]);
    expect(refcount(k, head) - before).toBe(5);
    expect(d.acq).toBe(5);
    unpin_user_pages(k, p, 5);
    expect(refcount(k, head)).toBe(before);
  });
});

describe("§6.3 check_vma_flags()", () => {
  it("[VMA-1] VM_IO / VM_PFNMAP mappings are -EFAULT", () => {
    const { m, k, A, t } = boot();
    const fd = t.allocFd(open_pfnmap_device(2));
    const dev = m.mmap(A, 0, 2 * PAGE, RW, MAP_SHARED, fd, 0);
    expect(dev).toBeGreaterThan(0);
    const p = new Int32Array(2);
    as(m, A, () => {
      expect(pin_user_pages(k, dev, 2, 0, p)).toBe(-EFAULT);
      expect(get_user_pages(k, dev, 1, 0, p)).toBe(-EFAULT);
      expect(pin_user_pages_fast(k, dev, 1, 0, p)).toBe(-EFAULT); // special PTEs fall back, then the same check
    });
  });

  it("[VMA-2] FOLL_ANON refuses non-anonymous VMAs (shared anonymous memory is shmem)", () => {
    const { m, k, A } = boot();
    const anon = mapAnon(m, A, PAGE);
    const shm = mapAnon(m, A, PAGE, RW, MAP_SHARED | 0x20);
    const p = new Int32Array(1);
    as(m, A, () => {
      expect(get_user_pages(k, shm, 1, FOLL_ANON, p)).toBe(-EFAULT);
      expect(get_user_pages(k, anon, 1, FOLL_ANON, p)).toBe(1);
    });
    put_user_pages(k, p, 1);
  });

  it("[VMA-3] FOLL_LONGTERM on fsdax is -EOPNOTSUPP (a short-term pin is fine)", () => {
    const { m, k, A } = boot();
    const fd = openFile(m, A, "fsdax", 2 * PAGE);
    const buf = mapFile(m, A, fd, 2 * PAGE, RW, MAP_SHARED);
    m.memset(A, buf, 7, 2 * PAGE);
    const p = new Int32Array(2);
    as(m, A, () => {
      expect(pin_user_pages(k, buf, 2, FOLL_LONGTERM, p)).toBe(-EOPNOTSUPP);
      expect(pin_user_pages_fast(k, buf, 2, FOLL_LONGTERM, p)).toBe(-EOPNOTSUPP);
      expect(pin_user_pages(k, buf, 2, 0, p)).toBe(2);
    });
    unpin_user_pages(k, p, 2);
  });

  it("[VMA-4] FOLL_SPLIT_PMD on hugetlb is -EOPNOTSUPP", () => {
    const { m, k, A } = boot({ hugetlb2M: 2 });
    const buf = mapAnon(m, A, M2, RW, ANON | MAP_HUGETLB);
    m.memset(A, buf, 1, M2);
    const p = new Int32Array(1);
    expect(as(m, A, () => get_user_pages(k, buf, 1, FOLL_SPLIT_PMD, p))).toBe(-EOPNOTSUPP);
  });

  it("[VMA-5] secretmem is -EFAULT, reads too", () => {
    const { m, k, A, t } = boot();
    const fd = memfd_secret(k, t, 0);
    expect(sys_ftruncate(k, t, fd, PAGE)).toBe(0);
    const buf = mapFile(m, A, fd, PAGE, RW, MAP_SHARED);
    expect(m.store(A, buf, 1)).toBe(0);
    const p = new Int32Array(1);
    as(m, A, () => {
      expect(get_user_pages(k, buf, 1, 0, p)).toBe(-EFAULT);
      expect(pin_user_pages(k, buf, 1, 0, p)).toBe(-EFAULT);
      expect(pin_user_pages_fast(k, buf, 1, 0, p)).toBe(-EFAULT);
    });
  });

  it("[VMA-6] a writable long-term pin of a dirty-tracked shared file mapping (ext4) is -EFAULT, fast and slow; tmpfs, memfd, hugetlbfs, MAP_PRIVATE ext4 and short-term or R/O pins succeed", () => {
    const { m, k, A, t } = boot({ hugetlb2M: 2 });
    const LW = FOLL_WRITE | FOLL_LONGTERM;
    const p = new Int32Array(2);
    const ext4 = openFile(m, A, "ext4", 2 * PAGE);
    const shared = mapFile(m, A, ext4, 2 * PAGE, RW, MAP_SHARED);
    m.memset(A, shared, 0x42, 2 * PAGE);
    as(m, A, () => {
      expect(pin_user_pages(k, shared, 2, LW, p)).toBe(-EFAULT);
      // [EXP-7d]: GUP-fast pins, finds a file folio (gup_fast_folio_allowed()), unpins, falls back
      const d = pinDelta(k, () => expect(pin_user_pages_fast(k, shared, 2, LW, p)).toBe(-EFAULT));
      expect(d).toEqual({ acq: 1, rel: 1 });
      expect(pin_user_pages(k, shared, 2, FOLL_LONGTERM, p)).toBe(2); // read-only long-term
      unpin_user_pages(k, p, 2);
      expect(pin_user_pages(k, shared, 2, FOLL_WRITE, p)).toBe(2); // short-term
      unpin_user_pages(k, p, 2);
    });
    const priv = mapFile(m, A, ext4, 2 * PAGE, RW, 0x02 /* MAP_PRIVATE */);
    const tmpfs = mapFile(m, A, openFile(m, A, "tmpfs", 2 * PAGE), 2 * PAGE, RW, MAP_SHARED);
    const memfd = k.asTask(t, () => memfd_create(k, t, "buf", 0));
    expect(sys_ftruncate(k, t, memfd, 2 * PAGE)).toBe(0);
    const mfd = mapFile(m, A, memfd, 2 * PAGE, RW, MAP_SHARED);
    const shanon = mapAnon(m, A, 2 * PAGE, RW, MAP_SHARED | 0x20);
    const htlb = mapFile(m, A, openFile(m, A, "hugetlbfs", M2), M2, RW, MAP_SHARED);
    for (const [name, addr] of [
      ["private ext4", priv],
      ["tmpfs", tmpfs],
      ["memfd", mfd],
      ["shared anon", shanon],
      ["hugetlbfs", htlb],
    ] as const) {
      m.memset(A, addr, 1, 2 * PAGE);
      as(m, A, () => {
        expect([name, pin_user_pages(k, addr, 2, LW, p)]).toEqual([name, 2]);
        unpin_user_pages(k, p, 2);
        expect([name, pin_user_pages_fast(k, addr, 2, LW, p)]).toEqual([name, 2]);
        unpin_user_pages(k, p, 2);
      });
    }
    // the private ext4 pages were COWed into anonymous memory; the file kept its content
    expect(m.page(m.translate(A, priv)).anon).toBe(true);
  });

  it("[VMA-7] writes need VM_WRITE, or FOLL_FORCE in a COW mapping: never through a read-only shared mapping", () => {
    const { m, k, A, t } = boot();
    const p = new Int32Array(1);
    const ro = mapAnon(m, A, PAGE, PROT_READ);
    const shro = mapAnon(m, A, PAGE, PROT_READ, MAP_SHARED | 0x20);
    const fd = openFile(m, A, "ext4", PAGE);
    const rofd = sys_open(k, t, fdPath(m, A, fd), O_RDONLY);
    const shfile = mapFile(m, A, rofd, PAGE, PROT_READ, MAP_SHARED); // loses VM_SHARED and VM_MAYWRITE
    as(m, A, () => {
      expect(pin_user_pages(k, ro, 1, FOLL_WRITE, p)).toBe(-EFAULT); // [EXP-7c], [SEM-9]
      expect(pin_user_pages(k, shro, 1, FOLL_WRITE | FOLL_FORCE, p)).toBe(-EFAULT); // [SEM-7]
      expect(get_user_pages(k, shfile, 1, FOLL_WRITE | FOLL_FORCE, p)).toBe(-EFAULT); // [EXP-5f]
      expect(pin_user_pages(k, ro, 1, FOLL_WRITE | FOLL_FORCE, p)).toBe(1); // [SEM-6]
    });
    unpin_user_pages(k, p, 1);
  });

  it("[VMA-8] reads need VM_READ, or FOLL_FORCE with VM_MAYREAD (PROT_NONE is readable by /proc/pid/mem)", () => {
    const { m, k, A } = boot();
    const none = mapAnon(m, A, PAGE, PROT_NONE);
    const p = new Int32Array(1);
    as(m, A, () => {
      expect(get_user_pages(k, none, 1, 0, p)).toBe(-EFAULT);
      expect(get_user_pages(k, none, 1, FOLL_FORCE, p)).toBe(1);
    });
    expect(p[0]).toBe(k.zeroPfn);
    put_user_pages(k, p, 1);
  });

  it("[VMA-9] no protection keys in the model: local and foreign (FOLL_REMOTE) accesses are permitted alike", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const p = new Int32Array(1);
    expect(as(m, A, () => get_user_pages(k, buf, 1, FOLL_WRITE, p))).toBe(1);
    put_user_pages(k, p, 1);
    expect(get_user_pages_remote(k, mm, buf, 1, FOLL_WRITE, p)).toBe(1);
    put_user_pages(k, p, 1);
  });
});

describe("§6.4 faultin_page()", () => {
  it("[FLT-1] FOLL_NOFAULT: a missing page is -EFAULT without calling the fault handler", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    const p = new Int32Array(1);
    const faults = k.vmstat.pgfault;
    expect(as(m, A, () => pin_user_pages(k, buf, 1, FOLL_NOFAULT, p))).toBe(-EFAULT);
    expect(as(m, A, () => pin_user_pages_fast(k, buf, 1, FOLL_NOFAULT, p))).toBe(-EFAULT);
    expect(k.vmstat.pgfault).toBe(faults);
    m.store(A, buf, 1);
    expect(as(m, A, () => pin_user_pages(k, buf, 1, FOLL_NOFAULT, p))).toBe(1);
    unpin_user_pages(k, p, 1);
  });

  it("[FLT-2] VM_FAULT_COMPLETED: the lock was released (locked = 0) and GUP retries the page", () => {
    const { k, mm } = boot();
    const { file } = fakeFileVma(k, mm, FAKE, 1);
    file.answer = (f) => (f & FAULT_FLAG.TRIED ? 0 : VM_FAULT.COMPLETED);
    const p = new Int32Array(1);
    const locked = { value: 1 };
    expect(get_user_pages_remote(k, mm, FAKE, 1, 0, p, locked)).toBe(1);
    expect(locked.value).toBe(0);
    put_user_pages(k, p, 1);
  });

  it("[FLT-3] fault errors map through vm_fault_to_errno(): OOM -ENOMEM, SIGBUS/SIGSEGV -EFAULT, HWPOISON -EHWPOISON only with FOLL_HWPOISON", () => {
    const { m, k, A, mm } = boot();
    const { file } = fakeFileVma(k, mm, FAKE, 1);
    const p = new Int32Array(1);
    const cases: [number, number, number][] = [
      [VM_FAULT.OOM, 0, -ENOMEM],
      [VM_FAULT.SIGBUS, 0, -EFAULT],
      [VM_FAULT.SIGSEGV, 0, -EFAULT],
      [VM_FAULT.HWPOISON, 0, -EFAULT],
      [VM_FAULT.HWPOISON, FOLL_HWPOISON, -EHWPOISON],
    ];
    for (const [fault, flags, errno] of cases) {
      file.answer = () => fault;
      expect(as(m, A, () => get_user_pages(k, FAKE, 1, flags, p))).toBe(errno);
    }
  });

  it("[FLT-4] fault flags: WRITE, REMOTE, ALLOW_RETRY|KILLABLE with FOLL_UNLOCKABLE (INTERRUPTIBLE on request), RETRY_NOWAIT with FOLL_NOWAIT; never USER", () => {
    const { m, k, A, mm } = boot();
    const { file } = fakeFileVma(k, mm, FAKE, 4);
    const p = new Int32Array(1);
    get_user_pages_remote(k, mm, FAKE, 1, 0, p);
    as(m, A, () => get_user_pages_unlocked(k, FAKE + PAGE, 1, FOLL_INTERRUPTIBLE, p));
    get_user_pages_remote(k, mm, FAKE + 2 * PAGE, 1, FOLL_NOWAIT, p);
    as(m, A, () => pin_user_pages(k, FAKE + 3 * PAGE, 1, FOLL_WRITE, p));
    const F = FAULT_FLAG;
    expect(file.calls).toEqual([
      F.REMOTE,
      F.ALLOW_RETRY | F.KILLABLE | F.INTERRUPTIBLE,
      F.REMOTE | F.ALLOW_RETRY | F.RETRY_NOWAIT,
      // a write fault on a private file mapping reads the page first (do_cow_fault())
      F.WRITE,
    ]);
    for (const c of file.calls) expect(c & F.USER).toBe(0);
  });

  it("[FLT-5] GUP never asks the fault handler for what it would refuse: a FORCE write into a read-only shared mapping fails before any fault", () => {
    const { m, k, A } = boot();
    const shro = mapAnon(m, A, PAGE, PROT_READ, MAP_SHARED | 0x20);
    const p = new Int32Array(1);
    const faults = k.vmstat.pgfault;
    expect(as(m, A, () => get_user_pages(k, shro, 1, FOLL_WRITE | FOLL_FORCE, p))).toBe(-EFAULT);
    expect(k.vmstat.pgfault).toBe(faults);
  });
});

function fdPath(m: ReturnType<typeof boot>["m"], pid: number, fd: number): string {
  const f = m.task(pid).files.get(fd) as unknown as { path: string };
  return f.path;
}
