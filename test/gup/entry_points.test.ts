/**
 * gup-api.md §4: the entry points beyond validation — populate helpers
 * ([POP-*]), memfd_pin_folios() ([MEMFD-*]), core dumps, remote access
 * (/proc/PID/mem, [EXP-5]), fixup_user_fault(), the fast-only calls.
 */
import { describe, expect, it } from "vitest";
import { memfd_create, sys_ftruncate } from "../../src/kernel/fs/index.js";
import type { FsFile } from "../../src/kernel/fs/open.js";
import { EFAULT, EINVAL, EIO } from "../../src/kernel/include/errno.js";
import { FAULT_FLAG } from "../../src/kernel/include/fault.js";
import { FOLL_FORCE, FOLL_LONGTERM, FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import {
  MAP_LOCKED,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MFD,
  MLOCK,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
} from "../../src/kernel/include/mman.js";
import { ZONE } from "../../src/kernel/include/mmzone.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import {
  fixup_user_fault,
  get_dump_page,
  get_user_page_fast_only,
  get_user_pages_fast_only,
  get_user_pages_remote,
  PAGE_NULL,
  pin_user_pages_remote,
  put_page,
  unpin_folios,
  unpin_user_pages,
  unpin_user_pages_dirty_lock,
} from "../../src/kernel/mm/gup.js";
import { memfd_pin_folios } from "../../src/kernel/mm/gup_memfd.js";
import { access_process_vm, mem_rw } from "../../src/kernel/mm/gup_remote.js";
import { populate_vma_page_range, __mm_populate } from "../../src/kernel/mm/populate.js";
import {
  ANON,
  as,
  boot,
  M2,
  mapAnon,
  mapFile,
  openFile,
  PAGE,
  pincount,
  pinDelta,
  refcount,
  RW,
} from "./helpers.js";

describe("§4.3 populate helpers", () => {
  it("[POP-1] a VM_LOCKONFAULT VMA is not populated: every page is reported done", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, 4 * PAGE);
    expect(m.mlock2(A, buf, 4 * PAGE, MLOCK.MLOCK_ONFAULT)).toBe(0);
    const vma = mm.vma_lookup(buf)!;
    expect(populate_vma_page_range(k, vma, buf, buf + 4 * PAGE)).toBe(4);
    expect(m.translate(A, buf)).toBeLessThan(0);
  });

  it("[POP-2] a PROT_NONE VMA is never populated: -EFAULT (MAP_POPULATE ignores it)", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, 2 * PAGE, PROT_NONE, ANON | MAP_POPULATE);
    expect(m.translate(A, buf)).toBeLessThan(0);
    expect(populate_vma_page_range(k, mm.vma_lookup(buf)!, buf, buf + 2 * PAGE)).toBe(-EFAULT);
  });

  it("[POP-3] private writable VMAs are write-faulted (COW broken up front); others are read-faulted with FOLL_FORCE, shared ones are not dirtied", () => {
    const { m, k, A } = boot();
    const priv = mapAnon(m, A, 2 * PAGE, RW, ANON | MAP_POPULATE);
    expect(m.writable(A, priv)).toBe(true);
    expect(m.translate(A, priv)).not.toBe(k.zeroPfn);
    const ro = mapAnon(m, A, 2 * PAGE, PROT_READ, ANON | MAP_POPULATE);
    expect(m.translate(A, ro)).toBe(k.zeroPfn);
    // exec-only: not readable, so the read fault needs FOLL_FORCE (VM_MAYREAD)
    const xo = mapAnon(m, A, PAGE, PROT_EXEC, ANON | MAP_LOCKED);
    expect(m.translate(A, xo)).toBe(k.zeroPfn);
    const fd = openFile(m, A, "tmpfs", 2 * PAGE);
    const sh = mapFile(m, A, fd, 2 * PAGE, RW, MAP_SHARED | MAP_POPULATE);
    const pfn = m.translate(A, sh);
    expect(pfn).toBeGreaterThan(0);
    expect(k.memmap.test(pfn, PG.dirty)).toBe(false);
    // __mm_populate() skips nothing it should not and reports 0
    expect(__mm_populate(k, m.task(A).mm!, sh, 2 * PAGE, false)).toBe(0);
  });
});

describe("§4.5 memfd_pin_folios()", () => {
  function memfd(env: ReturnType<typeof boot>, size: number, flags = 0): FsFile {
    const fd = memfd_create(env.k, env.t, "buf", flags);
    expect(sys_ftruncate(env.k, env.t, fd, size)).toBe(0);
    return env.t.files.get(fd) as FsFile;
  }

  it("[MEMFD-1] -EINVAL for a bad range, no room, no file, a file that is not shmem/hugetlbfs, or an end at or past i_size", () => {
    const env = boot();
    const f = memfd(env, 4 * PAGE);
    const folios = new Int32Array(4);
    const off = { value: 0 };
    const { k, m, A } = env;
    expect(memfd_pin_folios(k, f, -1, 10, folios, 4, off)).toBe(-EINVAL);
    expect(memfd_pin_folios(k, f, 10, 9, folios, 4, off)).toBe(-EINVAL);
    expect(memfd_pin_folios(k, f, 0, 10, folios, 0, off)).toBe(-EINVAL);
    expect(memfd_pin_folios(k, null, 0, 10, folios, 4, off)).toBe(-EINVAL);
    expect(memfd_pin_folios(k, f, 0, 4 * PAGE, folios, 4, off)).toBe(-EINVAL);
    const ext4 = env.t.files.get(openFile(m, A, "ext4", 4 * PAGE)) as FsFile;
    expect(memfd_pin_folios(k, ext4, 0, 10, folios, 4, off)).toBe(-EINVAL);
  });

  it("[MEMFD-2] shmem indexes by page, hugetlbfs by the base page of the huge page: a 2 MiB folio is one entry", () => {
    const env = boot({ hugetlb2M: 2 });
    const { k, m, A } = env;
    const f = memfd(env, 2 * M2, MFD.MFD_HUGETLB);
    const buf = mapFile(m, A, env.t.allocFd(f), 2 * M2, RW, MAP_SHARED);
    m.memset(A, buf, 1, 2 * M2);
    const folios = new Int32Array(4);
    const off = { value: -1 };
    expect(memfd_pin_folios(k, f, M2 + 3 * PAGE + 5, 2 * M2 - 1, folios, 4, off)).toBe(1);
    expect(folios[0]).toBe(m.translate(A, buf + M2));
    expect(off.value).toBe(3 * PAGE + 5);
    unpin_folios(k, folios, 1);
  });

  it("[MEMFD-3] holes are allocated into the page cache; each folio gets one pin (counted); under memalloc_pin_save() nothing lands in ZONE_MOVABLE", () => {
    const env = boot({ movable: 1024 ** 3 });
    const { k } = env;
    const f = memfd(env, 4 * PAGE);
    const folios = new Int32Array(4);
    const off = { value: -1 };
    const d = pinDelta(k, () => expect(memfd_pin_folios(k, f, 0, 4 * PAGE - 1, folios, 4, off)).toBe(4));
    expect(d).toEqual({ acq: 4, rel: 0 });
    expect(off.value).toBe(0);
    for (const folio of folios) {
      expect(k.pa.zoneIdOf(folio)).not.toBe(ZONE.MOVABLE);
      expect(refcount(k, folio)).toBe(1 + 1024); // the page cache's reference and the pin
    }
    unpin_folios(k, folios, 4);
    expect(env.mm.hasPinned()).toBe(false);
  });

  it("[MEMFD-4] the result is the number of folios (≤ max_folios); a cached folio in ZONE_MOVABLE is migrated first", () => {
    const env = boot({ movable: 1024 ** 3 });
    const { k, m, A } = env;
    const f = memfd(env, 4 * PAGE);
    const buf = mapFile(m, A, env.t.allocFd(f), 4 * PAGE, RW, MAP_SHARED);
    m.memset(A, buf, 0x3c, 4 * PAGE);
    const old = m.translate(A, buf);
    expect(k.pa.zoneIdOf(old)).toBe(ZONE.MOVABLE);
    const folios = new Int32Array(2);
    expect(memfd_pin_folios(k, f, 0, 4 * PAGE - 1, folios, 2, { value: 0 })).toBe(2);
    expect(folios[0]).not.toBe(old);
    expect(k.pa.zoneIdOf(folios[0])).not.toBe(ZONE.MOVABLE);
    expect(m.translate(A, buf)).toBe(folios[0]);
    expect(k.memmap.content(folios[0])).toBe(0x3c);
    unpin_folios(k, folios, 2);
  });
});

describe("§4.4 core dumps and remote access", () => {
  it("[§4.4] get_dump_page(): a referenced page for data, PAGE_NULL for holes (anon holes, zero page) — and FOLL_FORCE reads PROT_NONE", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, 3 * PAGE);
    m.store(A, buf, 0x44);
    m.load(A, buf + PAGE);
    as(m, A, () => {
      const page = get_dump_page(k, buf, { value: 0 });
      expect(page).toBe(m.translate(A, buf));
      expect(refcount(k, page)).toBe(2);
      put_page(k, page);
      expect(get_dump_page(k, buf + PAGE, { value: 0 })).toBe(PAGE_NULL); // zero page
      expect(get_dump_page(k, buf + 2 * PAGE, { value: 0 })).toBe(PAGE_NULL); // never touched
    });
    m.mprotect(A, buf, PAGE, PROT_NONE);
    const page = as(m, A, () => get_dump_page(k, buf, { value: 0 }));
    expect(k.memmap.content(page)).toBe(0x44);
    put_page(k, page);
  });

  it("[§4.4] /proc/PID/mem (mem_rw, always FOLL_FORCE): writes into PROT_READ private memory COW and succeed; shared read-only is -EIO; PROT_NONE reads work [EXP-5]", () => {
    const { m, k, A, mm } = boot();
    const ro = mapAnon(m, A, 2 * PAGE, PROT_READ);
    expect(mem_rw(k, mm, ro, [0xab], PAGE, true)).toBe(PAGE); // [EXP-5b] untouched
    expect(m.load(A, ro)).toBe(0xab);
    m.load(A, ro + PAGE);
    expect(mem_rw(k, mm, ro + PAGE, [0xcd], 16, true)).toBe(16); // [EXP-5a] touched (zero page)
    expect(m.load(A, ro + PAGE)).toBe(0xcd);
    const none = mapAnon(m, A, PAGE, PROT_NONE);
    const out: number[] = [];
    expect(mem_rw(k, mm, none, out, 8, false)).toBe(8); // [EXP-5c]
    expect(out).toEqual([0]);
    const fd = openFile(m, A, "ext4", PAGE);
    const shro = mapFile(m, A, fd, PAGE, PROT_READ, MAP_SHARED);
    expect(mem_rw(k, mm, shro, [1], 8, true)).toBe(-EIO); // [EXP-5d]
    const privf = mapFile(m, A, fd, PAGE, PROT_READ, MAP_PRIVATE);
    expect(mem_rw(k, mm, privf, [0x66], 8, true)).toBe(8); // [EXP-5e]
    expect(m.load(A, privf)).toBe(0x66);
    expect(m.load(A, shro)).toBe(0); // the file is unchanged
  });

  it("[§4.4] access_process_vm() reads another process through FOLL_GET references and drops them; it stops at the first failure", () => {
    const { m, k } = boot();
    const B = m.spawn("B");
    const buf = mapAnon(m, B, 2 * PAGE);
    m.memset(B, buf, 0x12, PAGE);
    const pfn = m.translate(B, buf);
    const out: number[] = [];
    expect(access_process_vm(k, m.task(B), buf, out, 2 * PAGE + 100, 0)).toBe(2 * PAGE);
    expect(out[0]).toBe(0x12);
    expect(refcount(k, pfn)).toBe(1);
  });

  it("[§4.1] a R/O remote pin of another process's pages (process_vm_readv) counts per page [EXP-1], and leaves the zero page unpinned [EXP-2]", () => {
    const { m, k } = boot();
    const B = m.spawn("B");
    const touched = mapAnon(m, B, 16 * PAGE);
    m.memset(B, touched, 1, 16 * PAGE);
    const untouched = mapAnon(m, B, 16 * PAGE);
    const mmB = m.task(B).mm!;
    const p = new Int32Array(16);
    const locked = { value: 1 };
    const d1 = pinDelta(k, () => {
      expect(pin_user_pages_remote(k, mmB, touched, 16, 0, p, locked)).toBe(16);
      unpin_user_pages_dirty_lock(k, p, 16, false);
    });
    expect(d1).toEqual({ acq: 16, rel: 16 });
    const d2 = pinDelta(k, () => {
      expect(pin_user_pages_remote(k, mmB, untouched, 16, 0, p, { value: 1 })).toBe(16);
      unpin_user_pages(k, p, 16);
    });
    expect(d2).toEqual({ acq: 0, rel: 0 });
  });

  it("[§4.3] fixup_user_fault(): resolves a fault as the CPU would — real permissions only, 0 or -EFAULT", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    const ro = mapAnon(m, A, PAGE, PROT_READ);
    expect(fixup_user_fault(k, mm, buf, FAULT_FLAG.WRITE, null)).toBe(0);
    expect(m.writable(A, buf)).toBe(true);
    expect(fixup_user_fault(k, mm, ro, FAULT_FLAG.WRITE, null)).toBe(-EFAULT);
    expect(fixup_user_fault(k, mm, 0x7000, 0, null)).toBe(-EFAULT);
  });

  it("[§4.1] get_user_pages_fast_only() never faults: an untouched page gives 0, a present one 1; get_user_page_fast_only() is true only for exactly one", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, 2 * PAGE);
    const p = new Int32Array(2);
    as(m, A, () => {
      expect(get_user_pages_fast_only(k, buf, 2, FOLL_WRITE, p)).toBe(0);
      m.store(A, buf, 1);
      expect(get_user_pages_fast_only(k, buf, 2, FOLL_WRITE, p)).toBe(1);
      expect(refcount(k, p[0])).toBe(2);
      put_page(k, p[0]);
      expect(get_user_page_fast_only(k, buf, 0, p)).toBe(true);
      put_page(k, p[0]);
      // FOLL_FORCE is never honoured by the fast path: a read-only entry is not writable
      m.mprotect(A, buf, PAGE, PROT_READ);
      expect(get_user_pages_fast_only(k, buf, 1, FOLL_WRITE | FOLL_FORCE, p)).toBe(0);
    });
    expect(m.translate(A, buf + PAGE)).toBeLessThan(0);
  });

  it("[§4.2] get_user_pages_remote() with locked: references for an exec-style argument read; a long-term pin of a THP subpage makes the whole folio maybe-pinned", () => {
    const { m, k, A, mm } = boot({ thp: "always" });
    const buf = mapAnon(m, A, M2);
    m.memset(A, buf, 1, M2);
    const head = m.translate(A, buf);
    const p = new Int32Array(1);
    expect(pin_user_pages_remote(k, mm, buf + 77 * PAGE, 1, FOLL_LONGTERM, p)).toBe(1);
    expect(p[0]).toBe(head + 77);
    for (const sub of [0, 5, 511]) expect(m.page(head + sub).maybeDmaPinned).toBe(true);
    expect(pincount(k, head)).toBe(1);
    unpin_user_pages(k, p, 1);
    expect(m.page(head).maybeDmaPinned).toBe(false);
    const l = { value: 1 };
    expect(get_user_pages_remote(k, mm, buf, 1, FOLL_FORCE, p, l)).toBe(1);
    put_page(k, p[0]);
  });
});
