/**
 * gup-api.md §8 / gup-semantics.md §1: FOLL_LONGTERM — folio_is_longterm_pinnable(),
 * the unpin-migrate-repin loop of __gup_longterm_locked(), memalloc_pin_save().
 */
import { describe, expect, it } from "vitest";
import { ENOMEM } from "../../src/kernel/include/errno.js";
import { FOLL_LONGTERM, FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import { MAP_HUGETLB, MAP_SHARED } from "../../src/kernel/include/mman.js";
import { MIGRATE, ZONE } from "../../src/kernel/include/mmzone.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import {
  folio_is_longterm_pinnable,
  get_user_pages,
  PAGE_NULL,
  pin_user_pages,
  pin_user_pages_fast,
  pin_user_pages_remote,
  put_user_pages,
  unpin_user_pages,
} from "../../src/kernel/mm/gup.js";
import { PF_MEMALLOC_PIN } from "../../src/kernel/kernel/task.js";
import {
  ANON,
  as,
  boot,
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

const LW = FOLL_WRITE | FOLL_LONGTERM;
const MOVABLE = { movable: 1024 ** 3 };

function zoneOf(env: ReturnType<typeof boot>, pfn: number): number {
  return env.k.pa.zoneIdOf(pfn);
}

describe("§8.2 folio_is_longterm_pinnable()", () => {
  it("[LT-3] not pinnable: ZONE_MOVABLE, CMA and isolated pageblocks (with CONFIG_CMA), fsdax; the zero page is; without CONFIG_MIGRATION everything is", () => {
    const env = boot({ ...MOVABLE, cma: 64 * 1024 * 1024 });
    const { k } = env;
    const zm = k.pa.zones[ZONE.MOVABLE];
    expect(folio_is_longterm_pinnable(k, zm.startPfn + 7)).toBe(false);
    const [cmaStart] = k.cmaRange!;
    expect(k.pa.get_pageblock_migratetype(cmaStart)).toBe(MIGRATE.CMA);
    expect(folio_is_longterm_pinnable(k, cmaStart)).toBe(false);
    const normal = k.pa.zones[ZONE.DMA32].startPfn + 4096; // below 4 GiB the kernel zone is DMA32
    expect(folio_is_longterm_pinnable(k, normal)).toBe(true);
    k.pa.setPageblockMt(normal, 512, MIGRATE.ISOLATE);
    expect(folio_is_longterm_pinnable(k, normal)).toBe(false);
    expect(folio_is_longterm_pinnable(k, k.zeroPfn)).toBe(true);
    const noMig = boot({ ...MOVABLE, kconfig: { MIGRATION: false } });
    expect(folio_is_longterm_pinnable(noMig.k, noMig.k.pa.zones[ZONE.MOVABLE].startPfn)).toBe(true);
  });
});

describe("§8.1 __gup_longterm_locked()", () => {
  it("[LT-1] without FOLL_LONGTERM a page in ZONE_MOVABLE is pinned where it is", () => {
    const env = boot(MOVABLE);
    const { m, k, A } = env;
    const buf = mapAnon(m, A, 4 * PAGE);
    m.memset(A, buf, 0x5a, 4 * PAGE);
    const pfn = m.translate(A, buf);
    expect(zoneOf(env, pfn)).toBe(ZONE.MOVABLE);
    const p = new Int32Array(4);
    expect(as(m, A, () => pin_user_pages(k, buf, 4, FOLL_WRITE, p))).toBe(4);
    expect(p[0]).toBe(pfn);
    unpin_user_pages(k, p, 4);
  });

  it("[LT-2] a long-term pin of ZONE_MOVABLE memory unpins, migrates out of the zone and pins again: new pfns, same content, counter churn", () => {
    const env = boot(MOVABLE);
    const { m, k, A } = env;
    const buf = mapAnon(m, A, 4 * PAGE);
    m.memset(A, buf, 0x5a, 4 * PAGE);
    const old = [0, 1, 2, 3].map((i) => m.translate(A, buf + i * PAGE));
    const p = new Int32Array(4);
    const d = pinDelta(k, () => expect(as(m, A, () => pin_user_pages(k, buf, 4, LW, p))).toBe(4));
    expect(d).toEqual({ acq: 8, rel: 4 }); // pinned, unpinned for migration, pinned again
    for (let i = 0; i < 4; i++) {
      expect(p[i]).not.toBe(old[i]);
      expect(zoneOf(env, p[i])).not.toBe(ZONE.MOVABLE);
      expect(m.translate(A, buf + i * PAGE)).toBe(p[i]);
      expect(k.memmap.content(p[i])).toBe(0x5a);
      expect(k.memmap.refcount(old[i])).toBe(0); // the old page was freed
      expect(m.page(p[i]).anonExclusive).toBe(true);
    }
    expect(k.vmstat.pgmigrate_success).toBe(4);
    expect(m.load(A, buf)).toBe(0x5a);
    unpin_user_pages(k, p, 4);
    expect(refcount(k, p[0])).toBe(1);
  });

  it("[LT-2] GUP-fast refuses movable folios for FOLL_LONGTERM before counting ([FAST-8]) and the slow path migrates", () => {
    const env = boot(MOVABLE);
    const { m, k, A } = env;
    const buf = mapAnon(m, A, 2 * PAGE);
    m.memset(A, buf, 7, 2 * PAGE);
    const p = new Int32Array(2);
    const d = pinDelta(k, () => expect(as(m, A, () => pin_user_pages_fast(k, buf, 2, LW, p))).toBe(2));
    expect(d).toEqual({ acq: 4, rel: 2 }); // only the slow path's churn
    expect(zoneOf(env, p[0])).not.toBe(ZONE.MOVABLE);
    unpin_user_pages(k, p, 2);
  });

  it("[LT-2] a THP in ZONE_MOVABLE moves as one large folio; a hugetlb page in ZONE_MOVABLE moves to a pinnable huge page, the pool keeps its size", () => {
    const env = boot({ ...MOVABLE, thp: "always", hugetlb2M: 2 });
    const { m, k, A } = env;
    const buf = mapAnon(m, A, M2);
    m.memset(A, buf, 3, M2);
    const oldHead = m.translate(A, buf);
    expect(zoneOf(env, oldHead)).toBe(ZONE.MOVABLE);
    const p = new Int32Array(512);
    expect(as(m, A, () => pin_user_pages(k, buf, 512, LW, p))).toBe(512);
    const head = k.memmap.head(p[0]);
    expect(k.memmap.order(head)).toBe(9);
    expect(zoneOf(env, head)).not.toBe(ZONE.MOVABLE);
    expect(p[511]).toBe(head + 511);
    expect(k.memmap.content(head + 200)).toBe(3);
    unpin_user_pages(k, p, 512);

    const h = k.hstates[0];
    const pool = h.nrHugePages;
    const hb = mapAnon(m, A, M2, RW, ANON | MAP_HUGETLB);
    m.memset(A, hb, 9, M2);
    const hOld = m.translate(A, hb);
    expect(zoneOf(env, hOld)).toBe(ZONE.MOVABLE); // pool pages are movable (htlb_alloc_mask())
    expect(as(m, A, () => pin_user_pages(k, hb, 2, LW, p))).toBe(2);
    expect(zoneOf(env, p[0])).not.toBe(ZONE.MOVABLE);
    expect(k.memmap.test(p[0], PG.hugetlb)).toBe(true);
    expect(k.memmap.content(p[1])).toBe(9);
    expect(h.nrHugePages).toBe(pool);
    unpin_user_pages(k, p, 2);
  });

  it("[LT-2] a shmem (page cache) folio in ZONE_MOVABLE migrates with its page-cache slot", () => {
    const env = boot(MOVABLE);
    const { m, k, A } = env;
    const fd = openFile(m, A, "tmpfs", PAGE);
    const a1 = mapFile(m, A, fd, PAGE, RW, MAP_SHARED);
    const a2 = mapFile(m, A, fd, PAGE, RW, MAP_SHARED);
    m.store(A, a1, 0x77);
    m.load(A, a2);
    const old = m.translate(A, a1);
    expect(m.translate(A, a2)).toBe(old);
    expect(zoneOf(env, old)).toBe(ZONE.MOVABLE);
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages(k, a1, 1, LW, p))).toBe(1);
    expect(p[0]).not.toBe(old);
    expect(m.translate(A, a2)).toBe(p[0]); // both mappings follow
    expect(k.memmap.mapping(p[0])).not.toBe(0);
    unpin_user_pages(k, p, 1);
    expect(k.memmap.refcount(old)).toBe(0);
  });

  it("[LT-2] memalloc_pin_save(): faults taken for a long-term pin allocate unmovable memory (no migration needed), and the flag is restored", () => {
    const env = boot(MOVABLE);
    const { m, k, A, t } = env;
    const buf = mapAnon(m, A, 4 * PAGE);
    const p = new Int32Array(4);
    const { ret, events } = traced(k, ["longterm_migrate"], () =>
      as(m, A, () => pin_user_pages(k, buf, 4, LW, p)),
    );
    expect(ret).toBe(4);
    expect(events).toHaveLength(0);
    expect(zoneOf(env, p[0])).not.toBe(ZONE.MOVABLE);
    expect(t.flags & PF_MEMALLOC_PIN).toBe(0);
    // a driver with no process context (k.current === null) gets a kernel thread for the scope
    const q = new Int32Array(1);
    const b2 = mapAnon(m, A, PAGE);
    expect(pin_user_pages_remote(k, t.mm!, b2, 1, LW, q)).toBe(1);
    expect(zoneOf(env, q[0])).not.toBe(ZONE.MOVABLE);
    expect(k.current).toBeNull();
    unpin_user_pages(k, p, 4);
    unpin_user_pages(k, q, 1);
  });

  it("[LT-3] distinct folios are collected once (a pinned THP is one folio); a folio that cannot be isolated makes the kernel retry forever — the model stops with a WARN", () => {
    const env = boot({ ...MOVABLE, thp: "always" });
    const { m, k, A } = env;
    const buf = mapAnon(m, A, M2);
    m.memset(A, buf, 1, M2);
    const p = new Int32Array(512);
    const { events } = traced(k, ["longterm_migrate"], () =>
      as(m, A, () => pin_user_pages(k, buf, 512, LW, p)),
    );
    expect(events[0].args.collected).toBe(1);
    unpin_user_pages(k, p, 512);

    const b = mapAnon(m, A, PAGE, RW);
    m.store(A, b, 1);
    const pfn = m.translate(A, b);
    k.memmap.clear(pfn, PG.lru); // e.g. still in a per-CPU LRU batch that will not drain
    const d = pinDelta(k, () => {
      const { ret, warns } = warnings(k, () => as(m, A, () => pin_user_pages(k, b, 1, LW, p)));
      expect(ret).toBe(-ENOMEM);
      expect(warns.some((w) => w.includes("__gup_longterm_locked"))).toBe(true);
    });
    expect(d.acq).toBe(d.rel);
    expect(refcount(k, pfn)).toBe(1);
  });

  it("[LT-4] nothing to migrate: all pins stay, no migration", () => {
    const env = boot(MOVABLE);
    const { m, k, A } = env;
    const buf = mapAnon(m, A, 2 * PAGE);
    const p = new Int32Array(2);
    as(m, A, () => pin_user_pages(k, buf, 2, LW, p)); // faulted unmovable
    unpin_user_pages(k, p, 2);
    const { events } = traced(k, ["longterm_migrate", "migrate_folio"], () =>
      expect(as(m, A, () => pin_user_pages(k, buf, 2, LW, p))).toBe(2),
    );
    expect(events).toEqual([]);
    unpin_user_pages(k, p, 2);
  });

  it("[LT-5] migration fails on an unexpected reference (another GUP reference): -ENOMEM, even with plenty of memory", () => {
    const env = boot(MOVABLE);
    const { m, k, A } = env;
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 2);
    const pfn = m.translate(A, buf);
    const ref = new Int32Array(1);
    as(m, A, () => get_user_pages(k, buf, 1, 0, ref)); // e.g. a vmsplice()d pipe buffer
    const p = new Int32Array(1);
    const fail = k.vmstat.pgmigrate_fail;
    const { ret, events } = traced(k, ["migrate_fail"], () =>
      as(m, A, () => pin_user_pages(k, buf, 1, LW, p)),
    );
    expect(ret).toBe(-ENOMEM);
    expect(events[0].args.why).toBe("unexpected references");
    expect(k.vmstat.pgmigrate_fail).toBe(fail + 1);
    expect(m.translate(A, buf)).toBe(pfn);
    expect(refcount(k, pfn)).toBe(2);
    put_user_pages(k, ref, 1);
  });

  it("[LT-6] on error every pin is already dropped and the entries cleared: the caller must not unpin", () => {
    const env = boot(MOVABLE);
    const { m, k, A } = env;
    const buf = mapAnon(m, A, 3 * PAGE);
    m.memset(A, buf, 1, 3 * PAGE);
    const ref = new Int32Array(1);
    as(m, A, () => get_user_pages(k, buf + PAGE, 1, 0, ref));
    const p = new Int32Array(3);
    const d = pinDelta(k, () => expect(as(m, A, () => pin_user_pages(k, buf, 3, LW, p))).toBe(-ENOMEM));
    expect(d.acq).toBe(d.rel);
    expect(Array.from(p)).toEqual([PAGE_NULL, PAGE_NULL, PAGE_NULL]);
    for (let i = 0; i < 3; i++) expect(m.page(m.translate(A, buf + i * PAGE)).maybeDmaPinned).toBe(false);
    put_user_pages(k, ref, 1);
  });

  it("[LT-2] without CONFIG_MIGRATION nothing is migrated: the pin stays in ZONE_MOVABLE", () => {
    const env = boot({ ...MOVABLE, kconfig: { MIGRATION: false } });
    const { m, k, A } = env;
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages_fast(k, buf, 1, LW, p))).toBe(1);
    expect(p[0]).toBe(pfn);
    expect(zoneOf(env, pfn)).toBe(ZONE.MOVABLE);
    unpin_user_pages(k, p, 1);
  });
});
