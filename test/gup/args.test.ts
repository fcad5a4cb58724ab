/**
 * gup-api.md §2 (FOLL_* flags, implicit flags) and §3 (argument
 * validation): is_valid_gup_args(), the GUP-fast whitelist, range checks.
 */
import { describe, expect, it } from "vitest";
import { EFAULT, EINVAL, EOVERFLOW } from "../../src/kernel/include/errno.js";
import {
  FOLL,
  FOLL_DUMP,
  FOLL_GET,
  FOLL_HWPOISON,
  FOLL_INTERRUPTIBLE,
  FOLL_LONGTERM,
  FOLL_NOWAIT,
  FOLL_PCI_P2PDMA,
  FOLL_PIN,
  FOLL_SPLIT_PMD,
  FOLL_ANON,
  FOLL_TOUCH,
  FOLL_WRITE,
  INTERNAL_GUP_FLAGS,
} from "../../src/kernel/include/foll_flags.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import {
  __get_user_pages,
  get_user_pages,
  get_user_pages_fast,
  get_user_pages_fast_only,
  get_user_pages_remote,
  get_user_pages_unlocked,
  pin_user_pages,
  pin_user_pages_fast,
  pin_user_pages_remote,
  pin_user_pages_unlocked,
  unpin_user_pages,
  put_user_pages,
} from "../../src/kernel/mm/gup.js";
import { get_user_page_vma_remote } from "../../src/kernel/mm/gup_remote.js";
import { MMF_HAS_PINNED } from "../../src/kernel/mm/mm_types.js";
import { TASK_SIZE } from "../../src/kernel/mm/pgtable.js";
import { as, boot, mapAnon, PAGE, pinDelta, refcount, traced, warnings } from "./helpers.js";

describe("§2 FOLL_* flags of 6.18", () => {
  it("[§2.1] public and internal flags carry the kernel's values; INTERNAL_GUP_FLAGS = 0x7F0000", () => {
    expect(FOLL).toMatchObject({
      FOLL_WRITE: 0x1,
      FOLL_GET: 0x2,
      FOLL_DUMP: 0x4,
      FOLL_FORCE: 0x8,
      FOLL_NOWAIT: 0x10,
      FOLL_NOFAULT: 0x20,
      FOLL_HWPOISON: 0x40,
      FOLL_ANON: 0x80,
      FOLL_LONGTERM: 0x100,
      FOLL_SPLIT_PMD: 0x200,
      FOLL_PCI_P2PDMA: 0x400,
      FOLL_INTERRUPTIBLE: 0x800,
      FOLL_HONOR_NUMA_FAULT: 0x1000,
      FOLL_TOUCH: 0x10000,
      FOLL_TRIED: 0x20000,
      FOLL_REMOTE: 0x40000,
      FOLL_PIN: 0x80000,
      FOLL_FAST_ONLY: 0x100000,
      FOLL_UNLOCKABLE: 0x200000,
      FOLL_MADV_POPULATE: 0x400000,
    });
    expect(INTERNAL_GUP_FLAGS).toBe(0x7f0000);
  });

  it("[§2.2] each entry point adds its own flags (to_set): pin_user_pages has no FOLL_TOUCH, the remote ones add FOLL_REMOTE", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, 4 * PAGE);
    m.memset(A, buf, 1, 4 * PAGE);
    const pages = new Int32Array(1);
    const flagsOf = (fn: () => number): string => {
      const { events } = traced(k, ["gup_pin", "gup_get"], fn);
      const f = String(events[0].args.flags);
      return f;
    };
    as(m, A, () => {
      expect(flagsOf(() => pin_user_pages(k, buf, 1, 0, pages))).toBe("FOLL_PIN");
      unpin_user_pages(k, pages, 1);
      expect(flagsOf(() => pin_user_pages_remote(k, mm, buf, 1, 0, pages))).toBe(
        "FOLL_TOUCH|FOLL_REMOTE|FOLL_PIN",
      );
      unpin_user_pages(k, pages, 1);
      expect(flagsOf(() => pin_user_pages_unlocked(k, buf, 1, 0, pages))).toBe(
        "FOLL_TOUCH|FOLL_PIN|FOLL_UNLOCKABLE",
      );
      unpin_user_pages(k, pages, 1);
      expect(flagsOf(() => pin_user_pages_remote(k, mm, buf, 1, 0, pages, { value: 1 }))).toBe(
        "FOLL_TOUCH|FOLL_REMOTE|FOLL_PIN|FOLL_UNLOCKABLE",
      );
      unpin_user_pages(k, pages, 1);
      expect(flagsOf(() => get_user_pages(k, buf, 1, 0, pages))).toBe("FOLL_TOUCH");
      put_user_pages(k, pages, 1);
      expect(flagsOf(() => get_user_pages_remote(k, mm, buf, 1, 0, pages))).toBe("FOLL_TOUCH|FOLL_REMOTE");
      put_user_pages(k, pages, 1);
      expect(flagsOf(() => get_user_pages_unlocked(k, buf, 1, 0, pages))).toBe("FOLL_TOUCH|FOLL_UNLOCKABLE");
      put_user_pages(k, pages, 1);
      expect(flagsOf(() => get_user_pages_fast(k, buf, 1, 0, pages))).toBe("FOLL_GET");
      put_user_pages(k, pages, 1);
      expect(flagsOf(() => pin_user_pages_fast(k, buf, 1, 0, pages))).toBe("FOLL_PIN");
      unpin_user_pages(k, pages, 1);
    });
    // FOLL_TOUCH is visible: pin_user_pages() leaves the folio unreferenced, the remote pin marks it
    const pfn = m.translate(A, buf + PAGE);
    k.memmap.clear(pfn, PG.referenced);
    as(m, A, () => pin_user_pages(k, buf + PAGE, 1, 0, pages));
    expect(k.memmap.test(pfn, PG.referenced)).toBe(false);
    unpin_user_pages(k, pages, 1);
    as(m, A, () => pin_user_pages_remote(k, mm, buf + PAGE, 1, 0, pages));
    expect(k.memmap.test(pfn, PG.referenced)).toBe(true);
    unpin_user_pages(k, pages, 1);
  });
});

describe("§3.1 is_valid_gup_args()", () => {
  it("[ARG-1] internal flags are refused with a WARN: get_* -EINVAL, pin_user_pages 0", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pages = new Int32Array(1);
    as(m, A, () => {
      const w = warnings(k, () => {
        expect(get_user_pages(k, buf, 1, FOLL_TOUCH, pages)).toBe(-EINVAL);
        expect(pin_user_pages(k, buf, 1, FOLL_TOUCH, pages)).toBe(0);
        expect(pin_user_pages_remote(k, mm, buf, 1, FOLL_PIN, pages)).toBe(0);
      });
      expect(w.warns.some((s) => s.includes("[ARG-1]"))).toBe(true);
    });
    expect(refcount(k, m.translate(A, buf))).toBe(1);
  });

  it("[ARG-2] a locked that is not 1 is invalid; a valid one adds FOLL_UNLOCKABLE", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pages = new Int32Array(1);
    const { ret, warns } = warnings(k, () => [
      get_user_pages_remote(k, mm, buf, 1, 0, pages, { value: 0 }),
      pin_user_pages_remote(k, mm, buf, 1, 0, pages, { value: 2 }),
    ]);
    expect(ret).toEqual([-EINVAL, 0]);
    expect(warns.some((s) => s.includes("[ARG-2]"))).toBe(true);
    const locked = { value: 1 };
    expect(get_user_pages_remote(k, mm, buf, 1, 0, pages, locked)).toBe(1);
    put_user_pages(k, pages, 1);
  });

  it("[ARG-3] FOLL_PIN|FOLL_GET together is refused: pin_user_pages 0, pin_user_pages_fast -EINVAL, nothing taken", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    const pages = new Int32Array(1);
    const d = pinDelta(k, () =>
      as(m, A, () => {
        expect(pin_user_pages(k, buf, 1, FOLL_GET, pages)).toBe(0);
        expect(pin_user_pages_fast(k, buf, 1, FOLL_GET, pages)).toBe(-EINVAL);
        expect(pin_user_pages_unlocked(k, buf, 1, FOLL_GET, pages)).toBe(0);
      }),
    );
    expect(d).toEqual({ acq: 0, rel: 0 });
    expect(refcount(k, pfn)).toBe(1);
    expect(k.warned.has("mm/gup.c: is_valid_gup_args() [ARG-3]")).toBe(true);
  });

  it("[ARG-4] FOLL_LONGTERM without FOLL_PIN: every get_user_pages*() fails with -EINVAL", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pages = new Int32Array(1);
    as(m, A, () => {
      expect(get_user_pages(k, buf, 1, FOLL_LONGTERM, pages)).toBe(-EINVAL);
      expect(get_user_pages_remote(k, mm, buf, 1, FOLL_LONGTERM, pages)).toBe(-EINVAL);
      expect(get_user_pages_unlocked(k, buf, 1, FOLL_LONGTERM, pages)).toBe(-EINVAL);
      expect(get_user_pages_fast(k, buf, 1, FOLL_LONGTERM, pages)).toBe(-EINVAL);
      expect(get_user_pages_fast_only(k, buf, 1, FOLL_LONGTERM, pages)).toBe(-EINVAL);
    });
    expect(refcount(k, m.translate(A, buf))).toBe(1);
  });

  it("[ARG-5] FOLL_PIN without a page array is invalid (0); get_user_pages without one just faults in, taking no reference", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, 2 * PAGE);
    as(m, A, () => {
      expect(pin_user_pages(k, buf, 1, FOLL_WRITE, null)).toBe(0);
      expect(m.translate(A, buf)).toBeLessThan(0);
      expect(get_user_pages(k, buf, 2, FOLL_WRITE, null)).toBe(2);
    });
    const pfn = m.translate(A, buf);
    expect(pfn).toBeGreaterThan(0);
    expect(refcount(k, pfn)).toBe(1);
  });

  it("[ARG-6] FOLL_LONGTERM with FOLL_PCI_P2PDMA is invalid", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pages = new Int32Array(1);
    as(m, A, () => {
      expect(pin_user_pages(k, buf, 1, FOLL_LONGTERM | FOLL_PCI_P2PDMA, pages)).toBe(0);
      expect(pin_user_pages_fast(k, buf, 1, FOLL_LONGTERM | FOLL_PCI_P2PDMA, pages)).toBe(-EINVAL);
      // either alone is fine
      expect(pin_user_pages(k, buf, 1, FOLL_PCI_P2PDMA, pages)).toBe(1);
    });
    unpin_user_pages(k, pages, 1);
  });

  it("[ARG-7] invalid arguments: -EINVAL from the get_* family and pin_user_pages_fast, 0 from the other pin_* calls", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const p = new Int32Array(1);
    const bad = FOLL_TOUCH;
    const got = as(m, A, () => ({
      get_user_pages: get_user_pages(k, buf, 1, bad, p),
      get_user_pages_remote: get_user_pages_remote(k, mm, buf, 1, bad, p),
      get_user_pages_unlocked: get_user_pages_unlocked(k, buf, 1, bad, p),
      get_user_pages_fast: get_user_pages_fast(k, buf, 1, bad, p),
      get_user_pages_fast_only: get_user_pages_fast_only(k, buf, 1, bad, p),
      pin_user_pages_fast: pin_user_pages_fast(k, buf, 1, bad, p),
      pin_user_pages: pin_user_pages(k, buf, 1, bad, p),
      pin_user_pages_remote: pin_user_pages_remote(k, mm, buf, 1, bad, p),
      pin_user_pages_unlocked: pin_user_pages_unlocked(k, buf, 1, bad, p),
    }));
    expect(got).toEqual({
      get_user_pages: -EINVAL,
      get_user_pages_remote: -EINVAL,
      get_user_pages_unlocked: -EINVAL,
      get_user_pages_fast: -EINVAL,
      get_user_pages_fast_only: -EINVAL,
      pin_user_pages_fast: -EINVAL,
      pin_user_pages: 0,
      pin_user_pages_remote: 0,
      pin_user_pages_unlocked: 0,
    });
  });
});

describe("§3.2–3.3 GUP-fast whitelist and range checks", () => {
  it("[ARG-8] GUP-fast refuses FOLL_DUMP, NOWAIT, HWPOISON, ANON, SPLIT_PMD, INTERRUPTIBLE with -EINVAL (pin_user_pages_fast too)", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const p = new Int32Array(1);
    as(m, A, () => {
      for (const f of [
        FOLL_DUMP,
        FOLL_NOWAIT,
        FOLL_HWPOISON,
        FOLL_ANON,
        FOLL_SPLIT_PMD,
        FOLL_INTERRUPTIBLE,
      ]) {
        expect(get_user_pages_fast(k, buf, 1, f, p)).toBe(-EINVAL);
        expect(pin_user_pages_fast(k, buf, 1, f, p)).toBe(-EINVAL);
      }
      // the whitelist check comes before MMF_HAS_PINNED
      expect(mm.flags & MMF_HAS_PINNED).toBe(0);
      expect(k.warned.has("mm/gup.c: gup_fast_fallback()")).toBe(true);
      // the slow path takes them
      expect(pin_user_pages(k, buf, 1, FOLL_INTERRUPTIBLE, p)).toBe(1);
    });
    unpin_user_pages(k, p, 1);
  });

  it("[ARG-9] get_user_page_vma_remote() refuses FOLL_NOWAIT with a WARN and -EINVAL", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    expect(get_user_page_vma_remote(k, mm, buf, FOLL_NOWAIT).page).toBe(-EINVAL);
    expect(k.warned.has("include/linux/mm.h: get_user_page_vma_remote()")).toBe(true);
    const r = get_user_page_vma_remote(k, mm, buf, 0);
    expect(r.page).toBe(m.translate(A, buf));
    expect(r.vma?.vm_start).toBe(buf);
    expect(refcount(k, r.page)).toBe(2);
  });

  it("[ARG-10] GUP-fast rounds start down, refuses ranges that overflow (-EOVERFLOW) or end above TASK_SIZE_MAX (-EFAULT); a negative count is one of the two", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, 2 * PAGE);
    m.memset(A, buf, 1, 2 * PAGE);
    const p = new Int32Array(2);
    as(m, A, () => {
      expect(pin_user_pages_fast(k, buf + 123, 2, 0, p)).toBe(2);
      expect(Array.from(p)).toEqual([m.translate(A, buf), m.translate(A, buf + PAGE)]);
      unpin_user_pages(k, p, 2);
      expect(pin_user_pages_fast(k, TASK_SIZE - PAGE, 2, 0, p)).toBe(-EFAULT);
      expect(get_user_pages_fast(k, buf, -1, 0, p)).toBe(-EOVERFLOW);
      expect(get_user_pages_fast(k, 0, -1, 0, p)).toBe(-EFAULT);
      expect(pin_user_pages_fast(k, 2 ** 64 - 2 * PAGE, 4, 0, p)).toBe(-EOVERFLOW);
    });
  });

  it("[ARG-11] zero count: the slow path returns 0; GUP-fast has no guard in 6.18 — the model answers 0 and flags it", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    const p: number[] = [];
    as(m, A, () => {
      expect(pin_user_pages(k, buf, 0, 0, p)).toBe(0);
      expect(get_user_pages_remote(k, mm, buf, 0, 0, p)).toBe(0);
      const { ret, events } = traced(k, ["gup_fast_zero_count"], () => pin_user_pages_fast(k, buf, 0, 0, p));
      expect(ret).toBe(0);
      expect(events).toHaveLength(1);
    });
  });

  it("[ARG-12] the slow path keeps the offset in the page: page i contains start + i*PAGE_SIZE", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, 3 * PAGE);
    m.memset(A, buf, 1, 3 * PAGE);
    const p = new Int32Array(2);
    as(m, A, () => expect(pin_user_pages(k, buf + PAGE - 8, 2, 0, p)).toBe(2));
    expect(Array.from(p)).toEqual([m.translate(A, buf), m.translate(A, buf + PAGE)]);
    unpin_user_pages(k, p, 2);
  });

  it("[ARG-13] with CONFIG_DEBUG_VM __get_user_pages() warns when pages and FOLL_GET/FOLL_PIN disagree", () => {
    const { m, k, A, mm } = boot({ kconfig: { DEBUG_VM: true } });
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const p = new Int32Array(1);
    const { warns } = warnings(k, () => __get_user_pages(k, mm, buf, 1, 0, p, 0, { value: 1 }));
    expect(warns.some((w) => w.includes("pages and FOLL_GET/FOLL_PIN disagree"))).toBe(true);
    const w2 = warnings(k, () => __get_user_pages(k, mm, buf, 1, FOLL_GET | FOLL_PIN, p, 0, { value: 1 }));
    expect(w2.warns.some((w) => w.includes("FOLL_GET and FOLL_PIN together"))).toBe(true);
  });
});
