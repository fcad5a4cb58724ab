/**
 * gup-api.md §9: reference and pin accounting — try_grab_folio(),
 * folio_maybe_dma_pinned(), the zero pages, node counters, MMF_HAS_PINNED,
 * and the release functions.
 */
import { describe, expect, it } from "vitest";
import { EFAULT, ENOMEM } from "../../src/kernel/include/errno.js";
import { FOLL_GET, FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import { MADV, MAP_SHARED, PROT_READ } from "../../src/kernel/include/mman.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import {
  folio_add_pin,
  folio_add_pins,
  get_user_pages,
  get_user_pages_fast,
  get_user_pages_fast_only,
  PAGE_NULL,
  pin_user_pages,
  pin_user_pages_fast,
  pin_user_pages_remote,
  put_user_pages,
  try_grab_folio,
  unpin_folio,
  unpin_folios,
  unpin_user_page,
  unpin_user_page_range_dirty_lock,
  unpin_user_pages,
  unpin_user_pages_dirty_lock,
} from "../../src/kernel/mm/gup.js";
import { folio_maybe_dma_pinned, GUP_PIN_COUNTING_BIAS } from "../../src/kernel/mm/folio.js";
import { memfd_secret } from "../../src/kernel/mm/secretmem.js";
import { sys_ftruncate } from "../../src/kernel/fs/index.js";
import { MMF_HAS_PINNED } from "../../src/kernel/mm/mm_types.js";
import {
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
  traced,
  warnings,
} from "./helpers.js";

function thpEnv() {
  const env = boot({ thp: "always" });
  const buf = mapAnon(env.m, env.A, M2);
  env.m.memset(env.A, buf, 1, M2);
  return { ...env, buf, head: env.m.translate(env.A, buf) };
}

describe("§9.2 representation of a pin", () => {
  it("[ACCT-1] a large folio counts each pin as +1 refcount and +1 _pincount", () => {
    const { m, k, A, buf, head } = thpEnv();
    const r0 = refcount(k, head);
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages(k, buf + 9 * PAGE, 1, 0, p))).toBe(1);
    expect(refcount(k, head)).toBe(r0 + 1);
    expect(pincount(k, head)).toBe(1);
    expect(m.page(p[0]).maybeDmaPinned).toBe(true);
    unpin_user_pages(k, p, 1);
    expect([refcount(k, head), pincount(k, head)]).toEqual([r0, 0]);
  });

  it("[ACCT-2] a small folio counts each pin as GUP_PIN_COUNTING_BIAS (1024) references", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    const p = new Int32Array(1);
    as(m, A, () => {
      pin_user_pages(k, buf, 1, 0, p);
      expect(refcount(k, pfn)).toBe(1 + GUP_PIN_COUNTING_BIAS);
      pin_user_pages_fast(k, buf, 1, 0, p);
      expect(refcount(k, pfn)).toBe(1 + 2 * GUP_PIN_COUNTING_BIAS);
    });
    unpin_user_page(k, pfn);
    unpin_user_page(k, pfn);
    expect(refcount(k, pfn)).toBe(1);
  });

  it("[ACCT-3] FOLL_GET counts +1 reference per page, and no pin", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    const p = new Int32Array(1);
    const d = pinDelta(k, () => as(m, A, () => get_user_pages_fast(k, buf, 1, 0, p)));
    expect(d).toEqual({ acq: 0, rel: 0 });
    expect(refcount(k, pfn)).toBe(2);
    put_user_pages(k, p, 1);
    expect(refcount(k, pfn)).toBe(1);
  });

  it("[ACCT-4] pins are per returned page: k subpages of one large folio add k pins, also PTE-mapped (per PTE)", () => {
    const { m, k, A, mm, buf, head } = thpEnv();
    const r0 = refcount(k, head);
    const p = new Int32Array(5);
    const d = pinDelta(k, () => as(m, A, () => pin_user_pages(k, buf + 100 * PAGE, 5, 0, p)));
    expect(d.acq).toBe(5);
    expect([refcount(k, head) - r0, pincount(k, head)]).toEqual([5, 5]);
    unpin_user_pages(k, p, 5);
    // split the PMD mapping: every PTE is processed on its own, counts still land in _pincount
    m.madvise(A, buf + M2 - PAGE, PAGE, MADV.MADV_DONTNEED);
    expect(k.memmap.order(head)).toBe(9);
    const r1 = refcount(k, head);
    const q = new Int32Array(3);
    expect(pin_user_pages_remote(k, mm, buf, 3, 0, q)).toBe(3);
    expect([refcount(k, head) - r1, pincount(k, head)]).toEqual([3, 3]);
    unpin_user_pages(k, q, 3);
  });

  it("[ACCT-5] folio_maybe_dma_pinned(): exact for large folios, fuzzy for small ones — 1024 plain references look pinned", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    const p = new Int32Array(1);
    as(m, A, () => {
      for (let i = 0; i < 1022; i++) get_user_pages(k, buf, 1, 0, p);
    });
    expect(refcount(k, pfn)).toBe(1023);
    expect(folio_maybe_dma_pinned(k, pfn)).toBe(false);
    as(m, A, () => get_user_pages(k, buf, 1, 0, p));
    expect(refcount(k, pfn)).toBe(1024);
    expect(folio_maybe_dma_pinned(k, pfn)).toBe(true); // a false positive: no pin at all
    // the unsigned comparison keeps an overflowed (negative) count "pinned"
    k.memmap.setRefcount(pfn, -5);
    expect(folio_maybe_dma_pinned(k, pfn)).toBe(true);
    k.memmap.setRefcount(pfn, 1);
    // large folios: exact, whatever the refcount
    const t = thpEnv();
    as(t.m, t.A, () => {
      for (let i = 0; i < 2000; i++) get_user_pages(t.k, t.buf, 1, 0, p);
    });
    expect(folio_maybe_dma_pinned(t.k, t.head)).toBe(false);
  });

  it("[ACCT-6] folio_needs_cow_for_dma(): fork copies a maybe-pinned page only in an mm with MMF_HAS_PINNED", () => {
    const setup = () => {
      const env = boot();
      const buf = mapAnon(env.m, env.A, 2 * PAGE);
      env.m.memset(env.A, buf, 1, 2 * PAGE);
      const pfn = env.m.translate(env.A, buf);
      const p = new Int32Array(1);
      as(env.m, env.A, () => {
        for (let i = 0; i < 1023; i++) get_user_pages(env.k, buf, 1, 0, p);
      });
      expect(folio_maybe_dma_pinned(env.k, pfn)).toBe(true);
      return { ...env, buf, pfn, p };
    };
    const a = setup();
    const B = a.m.fork(a.A);
    expect(a.m.translate(B, a.buf)).toBe(a.pfn); // no MMF_HAS_PINNED: shared COW
    const b = setup();
    // a pin anywhere in the mm sets the sticky flag; now the false positive is copied eagerly
    as(b.m, b.A, () => pin_user_pages(b.k, b.buf + PAGE, 1, 0, b.p));
    expect(b.mm.flags & MMF_HAS_PINNED).toBe(MMF_HAS_PINNED);
    const C = b.m.fork(b.A);
    expect(b.m.translate(C, b.buf)).not.toBe(b.pfn);
    expect(b.m.translate(b.A, b.buf)).toBe(b.pfn);
    unpin_user_pages(b.k, b.p, 1);
  });
});

describe("§9.3 try_grab_folio()", () => {
  it("[GRAB-1] refcount ≤ 0 is refused with a WARN and -ENOMEM; an addition that overflows is not checked, the next grab refuses", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    k.memmap.setRefcount(pfn, 0);
    const { ret, warns } = warnings(k, () => try_grab_folio(k, pfn, 1, FOLL_PIN));
    expect(ret).toBe(-ENOMEM);
    expect(warns.length).toBe(1);
    // 2^31 - 1024 + 1024 wraps to -2^31: the pin is taken, the count is now negative
    k.memmap.setRefcount(pfn, 2 ** 31 - 1024);
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages(k, buf, 1, 0, p))).toBe(1);
    expect(k.memmap.refcount(pfn)).toBe(-(2 ** 31));
    expect(folio_maybe_dma_pinned(k, pfn)).toBe(true);
    expect(as(m, A, () => pin_user_pages(k, buf, 1, 0, p))).toBe(-ENOMEM);
    expect(as(m, A, () => pin_user_pages_fast(k, buf, 1, 0, p))).toBe(-ENOMEM);
    unpin_user_page(k, pfn);
    expect(k.memmap.refcount(pfn)).toBe(2 ** 31 - 1024);
    k.memmap.setRefcount(pfn, 1);
  });

  it("[GRAB-2] the model has no PCI P2PDMA memory: no folio is refused with -EREMOTEIO, with or without FOLL_PCI_P2PDMA", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    expect(try_grab_folio(k, m.translate(A, buf), 1, FOLL_GET)).toBe(0);
    put_user_pages(k, [m.translate(A, buf)], 1);
  });
});

describe("§9.4 zero page versus huge zero folio", () => {
  it("[ZERO-1] the shared zero page is never pinned: no refcount or counter change on pin or unpin; FOLL_GET does reference it [EXP-2]", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, 16 * PAGE);
    const zr = refcount(k, k.zeroPfn);
    const p = new Int32Array(16);
    const d = pinDelta(k, () => {
      expect(as(m, A, () => pin_user_pages(k, buf, 16, 0, p))).toBe(16);
      expect(p.every((x) => x === k.zeroPfn)).toBe(true);
      expect(refcount(k, k.zeroPfn)).toBe(zr);
      unpin_user_pages(k, p, 16);
    });
    expect(d).toEqual({ acq: 0, rel: 0 });
    expect(refcount(k, k.zeroPfn)).toBe(zr);
    as(m, A, () => get_user_pages(k, buf, 1, 0, p));
    expect(refcount(k, k.zeroPfn)).toBe(zr + 1);
    put_user_pages(k, p, 1);
  });

  it("[ZERO-2] the huge zero folio is pinned like any large folio: 512 acquired, 512 released [EXP-4]", () => {
    const { m, k, A } = boot({ thp: "always" });
    const buf = mapAnon(m, A, M2);
    expect(m.load(A, buf)).toBe(0);
    const hz = k.hugeZeroPfn;
    expect(m.translate(A, buf)).toBe(hz);
    const r0 = refcount(k, hz);
    const p = new Int32Array(512);
    const d = pinDelta(k, () => {
      expect(as(m, A, () => pin_user_pages(k, buf, 512, 0, p))).toBe(512);
      expect([refcount(k, hz) - r0, pincount(k, hz)]).toEqual([512, 512]);
      unpin_user_pages(k, p, 512);
    });
    expect(d).toEqual({ acq: 512, rel: 512 });
    expect(refcount(k, hz)).toBe(r0);
  });

  it("[ZERO-3] GUP-fast never returns either zero page: special entries fall back to the slow path; _fast_only gets nothing", () => {
    const { m, k, A } = boot({ thp: "always" });
    const small = mapAnon(m, A, PAGE, PROT_READ, 0x22);
    m.load(A, small);
    const huge = mapAnon(m, A, M2);
    m.load(A, huge);
    const p = new Int32Array(1);
    as(m, A, () => {
      expect(get_user_pages_fast_only(k, small, 1, 0, p)).toBe(0);
      expect(get_user_pages_fast_only(k, huge, 1, 0, p)).toBe(0);
      const { ret, events } = traced(k, ["gup_fast_fallback"], () => pin_user_pages_fast(k, huge, 1, 0, p));
      expect(ret).toBe(1);
      expect(events).toHaveLength(1);
      expect(p[0]).toBe(k.hugeZeroPfn);
    });
    unpin_user_pages(k, p, 1);
  });
});

describe("§9.5–9.6 release and node counters", () => {
  it("[ACCT-7] nr_foll_pin_acquired/released count logical pins per subpage, never references", () => {
    const { m, k, A, buf } = thpEnv();
    const p = new Int32Array(512);
    const d1 = pinDelta(k, () => {
      as(m, A, () => get_user_pages(k, buf, 512, 0, p));
      put_user_pages(k, p, 512);
    });
    expect(d1).toEqual({ acq: 0, rel: 0 });
    const d2 = pinDelta(k, () => {
      as(m, A, () => pin_user_pages_fast(k, buf, 512, FOLL_WRITE, p));
      unpin_user_pages(k, p, 512);
    });
    expect(d2).toEqual({ acq: 512, rel: 512 }); // [EXP-3]
  });

  it("[ACCT-8] GUP-fast counts transient pins: it pins first and unpins when a later check fails (secretmem: +1/+1, then -EFAULT)", () => {
    const { m, k, A, t } = boot();
    const fd = memfd_secret(k, t, 0);
    expect(sys_ftruncate(k, t, fd, PAGE)).toBe(0);
    const buf = mapFile(m, A, fd, PAGE, RW, MAP_SHARED);
    expect(m.store(A, buf, 1)).toBe(0);
    const p = new Int32Array(1);
    const d = pinDelta(k, () => expect(as(m, A, () => pin_user_pages_fast(k, buf, 1, 0, p))).toBe(-EFAULT));
    expect(d).toEqual({ acq: 1, rel: 1 });
  });

  it("[ACCT-9] folio_add_pin() adds a pin without counting it acquired; its unpin is counted released; folio_add_pins() counts", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    const p = new Int32Array(1);
    as(m, A, () => pin_user_pages(k, buf, 1, 0, p));
    const d = pinDelta(k, () => {
      folio_add_pin(k, pfn);
      expect(refcount(k, pfn)).toBe(1 + 2 * GUP_PIN_COUNTING_BIAS);
      unpin_folio(k, pfn);
    });
    expect(d).toEqual({ acq: 0, rel: 1 });
    const d2 = pinDelta(k, () => expect(folio_add_pins(k, pfn, 2)).toBe(0));
    expect(d2).toEqual({ acq: 2, rel: 0 });
    unpin_folios(k, [pfn, pfn, pfn], 3);
    expect(refcount(k, pfn)).toBe(1);
    // folio_add_pin() on a folio nobody pinned is a WARN
    expect(warnings(k, () => folio_add_pin(k, pfn)).warns.length).toBe(1);
  });

  it("[ACCT-10] MMF_HAS_PINNED: set by every FOLL_PIN call before anything is pinned (fast and slow), never by FOLL_GET", () => {
    const { m, k, A, mm } = boot();
    const p = new Int32Array(1);
    as(m, A, () => {
      expect(get_user_pages_fast(k, 0x3000, 1, 0, p)).toBe(-EFAULT);
      expect(mm.hasPinned()).toBe(false);
      expect(pin_user_pages_fast(k, 0x3000, 1, 0, p)).toBe(-EFAULT);
    });
    expect(mm.hasPinned()).toBe(true);
  });

  it("[UNPIN-1] unpin_user_pages(): an -errno count is a WARN and does nothing; NULL entries are skipped; runs of one folio are released together", () => {
    const { m, k, A, buf, head } = thpEnv();
    const p = new Int32Array(4);
    as(m, A, () => pin_user_pages(k, buf, 4, 0, p));
    const r = refcount(k, head);
    const { warns } = warnings(k, () => unpin_user_pages(k, p, -EFAULT));
    expect(warns.length).toBe(1);
    expect(refcount(k, head)).toBe(r);
    const arr = [p[0], PAGE_NULL, p[1], p[2], p[3]];
    const d = pinDelta(k, () => unpin_user_pages(k, arr, 5));
    expect(d).toEqual({ acq: 0, rel: 4 });
    expect(pincount(k, head)).toBe(0);
  });

  it("[UNPIN-2] unpin_user_pages_dirty_lock(make_dirty) dirties each folio then releases it; it does not skip NULL entries (an oops)", () => {
    const { m, k, A } = boot();
    const fd = openFile(m, A, "tmpfs", 2 * PAGE);
    const buf = mapFile(m, A, fd, 2 * PAGE, PROT_READ, MAP_SHARED);
    m.load(A, buf);
    m.load(A, buf + PAGE);
    const p = new Int32Array(2);
    expect(as(m, A, () => pin_user_pages(k, buf, 2, FOLL_LONGTERM, p))).toBe(2);
    expect(k.memmap.test(p[0], PG.dirty)).toBe(false);
    unpin_user_pages_dirty_lock(k, p, 2, true);
    expect(k.memmap.test(p[0], PG.dirty)).toBe(true);
    expect(k.memmap.test(p[1], PG.dirty)).toBe(true);
    expect(pinDelta(k, () => unpin_user_pages_dirty_lock(k, [PAGE_NULL], 1, false)).rel).toBe(0);
    expect(k.oops).toBeNull();
    unpin_user_pages_dirty_lock(k, [PAGE_NULL], 1, true);
    expect(k.oops).not.toBeNull();
  });

  it("[UNPIN-3] unpinning pages that were only referenced (FOLL_GET) is misuse: the model reports it instead of corrupting counts", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    const p = new Int32Array(1);
    as(m, A, () => get_user_pages(k, buf, 1, 0, p));
    const { events } = traced(k, ["unpin_unpinned"], () => unpin_user_pages(k, p, 1));
    expect(events).toHaveLength(1);
    expect(refcount(k, pfn)).toBe(2);
    put_user_pages(k, p, 1);
    expect(refcount(k, pfn)).toBe(1);
  });

  it("[UNPIN-2] unpin_user_page_range_dirty_lock() walks a contiguous range by folio: one release per folio run", () => {
    const { m, k, A, buf, head } = thpEnv();
    const p = new Int32Array(10);
    as(m, A, () => pin_user_pages(k, buf + 500 * PAGE, 10, 0, p));
    expect(pincount(k, head)).toBe(10);
    k.memmap.clear(head, PG.dirty);
    const d = pinDelta(k, () => unpin_user_page_range_dirty_lock(k, p[0], 10, true));
    expect(d.rel).toBe(10);
    expect(pincount(k, head)).toBe(0);
    expect(k.memmap.test(head, PG.dirty)).toBe(true);
  });
});
