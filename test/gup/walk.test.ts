/**
 * gup-api.md §7: the slow-path walk — follow_page_mask(), no_page_table(),
 * follow_page_pte(), can_follow_write_*(), follow_huge_pmd()/_pud().
 */
import { describe, expect, it } from "vitest";
import { EFAULT, ENOMEM } from "../../src/kernel/include/errno.js";
import {
  FOLL_DUMP,
  FOLL_FORCE,
  FOLL_GET,
  FOLL_HONOR_NUMA_FAULT,
  FOLL_PIN,
  FOLL_SPLIT_PMD,
  FOLL_WRITE,
} from "../../src/kernel/include/foll_flags.js";
import { MADV, MAP_HUGETLB, MAP_HUGE_1GB, MAP_SHARED, PROT_READ } from "../../src/kernel/include/mman.js";
import { PG } from "../../src/kernel/include/page_flags.js";
import { PTE } from "../../src/kernel/include/pgtable.js";
import { VM_UFFD_WP } from "../../src/kernel/include/vm_flags.js";
import {
  FOLLOW_NULL,
  follow_page_mask,
  get_dump_page,
  get_user_pages,
  get_user_pages_remote,
  PAGE_NULL,
  pin_user_pages,
  pin_user_pages_remote,
  put_page,
  put_user_pages,
  unpin_user_pages,
} from "../../src/kernel/mm/gup.js";
import { LEVEL_PMD, LEVEL_PTE, walk_addr } from "../../src/kernel/mm/pagewalk.js";
import { pmd_index, pte_index } from "../../src/kernel/mm/pgtable.js";
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
  traced,
  warnings,
} from "./helpers.js";

const EMLINK = 31;

/** A THP-backed anonymous range (thp=always), written so it is a real THP. */
function thp(env: ReturnType<typeof boot>, fill = 1): number {
  const buf = mapAnon(env.m, env.A, M2);
  env.m.memset(env.A, buf, fill, M2);
  expect(walk_addr(env.mm, buf).level).toBe(LEVEL_PMD);
  return buf;
}

describe("§7.1–7.2 no_page_table() and the level walk", () => {
  it("[WALK-1] FOLL_DUMP: holes that would only be zeroes are -EFAULT (anon, private hugetlb); a file hole with ->fault is faulted in", () => {
    const env = boot({ hugetlb2M: 1 });
    const { m, k, A } = env;
    const anon = mapAnon(m, A, PAGE);
    const file = mapFile(m, A, openFile(m, A, "tmpfs", PAGE), PAGE, RW, MAP_SHARED);
    const htlb = mapAnon(m, A, M2, RW, ANON | MAP_HUGETLB);
    const faults = k.vmstat.pgfault;
    as(m, A, () => {
      expect(get_dump_page(k, anon, { value: 1 })).toBe(PAGE_NULL);
      expect(get_dump_page(k, htlb, { value: 1 })).toBe(PAGE_NULL);
      expect(k.vmstat.pgfault).toBe(faults);
      const page = get_dump_page(k, file, { value: 0 });
      expect(page).toBeGreaterThan(0);
      expect(page).toBe(m.translate(A, file));
      put_page(k, page);
    });
  });

  it("[WALK-2] an empty level (no PGD/PUD/PMD table) means no_page_table(): NULL, so the page is faulted in", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    expect(mm.pgtables.pgd.every((t) => t === null)).toBe(true);
    const vma = mm.vma_lookup(buf)!;
    expect(follow_page_mask(k, vma, buf, FOLL_GET)).toBe(FOLLOW_NULL);
    expect(follow_page_mask(k, vma, buf, FOLL_GET | FOLL_DUMP)).toBe(-EFAULT);
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages(k, buf, 1, FOLL_WRITE, p))).toBe(1);
    expect(p[0]).toBe(m.translate(A, buf));
    unpin_user_pages(k, p, 1);
  });

  it("[WALK-3] a PUD leaf (1 GiB hugetlb) is followed by follow_huge_pud(): page_mask 262143, exact subpages", () => {
    const { m, k, A } = boot({ memory: 8 * 1024 ** 3, hugetlb1G: 1 });
    const buf = mapAnon(m, A, 1024 ** 3, RW, ANON | MAP_HUGETLB | MAP_HUGE_1GB);
    m.store(A, buf, 1);
    const head = m.translate(A, buf);
    const p = new Int32Array(3);
    const r0 = refcount(k, head);
    expect(as(m, A, () => pin_user_pages(k, buf + 5 * PAGE, 3, FOLL_WRITE, p))).toBe(3);
    expect(Array.from(p)).toEqual([head + 5, head + 6, head + 7]);
    expect(refcount(k, head)).toBe(r0 + 3);
    expect(pincount(k, head)).toBe(3);
    unpin_user_pages(k, p, 3);
    expect(pincount(k, head)).toBe(0);
  });

  it("[WALK-4] a PROT_NONE (NUMA hint) PMD leaf is followed unless FOLL_HONOR_NUMA_FAULT, which is honoured only in accessible VMAs", () => {
    const env = boot({ thp: "always" });
    const { k, mm } = env;
    const buf = thp(env);
    const pmdt = mm.pgtables.pmdTable(buf, false)!;
    pmdt.bits[pmd_index(buf)] |= PTE.PROTNONE;
    const vma = mm.vma_lookup(buf)!;
    const page = follow_page_mask(k, vma, buf + PAGE, FOLL_GET);
    expect(page).toBe(pmdt.pfn[pmd_index(buf)] + 1);
    put_page(k, page);
    expect(follow_page_mask(k, vma, buf + PAGE, FOLL_GET | FOLL_HONOR_NUMA_FAULT)).toBe(FOLLOW_NULL);
    const saved = vma.vm_flags;
    vma.vm_flags &= ~0x7; // PROT_NONE VMA: the hint does not apply, FOLL_FORCE can make progress
    const p2 = follow_page_mask(k, vma, buf, FOLL_GET | FOLL_HONOR_NUMA_FAULT | FOLL_FORCE);
    expect(p2).toBe(pmdt.pfn[pmd_index(buf)]);
    put_page(k, p2);
    vma.vm_flags = saved;
  });

  it("[WALK-5] FOLL_SPLIT_PMD splits a THP's PMD mapping into PTEs (the folio stays large) and goes on at PTE level", () => {
    const env = boot({ thp: "always" });
    const { m, k, A } = env;
    const buf = thp(env);
    const head = m.translate(A, buf);
    const splits = k.vmstat.thp_split_pmd;
    const p = new Int32Array(1);
    expect(as(m, A, () => get_user_pages(k, buf + 7 * PAGE, 1, FOLL_SPLIT_PMD, p))).toBe(1);
    expect(p[0]).toBe(head + 7);
    expect(k.vmstat.thp_split_pmd).toBe(splits + 1);
    expect(walk_addr(env.mm, buf).level).toBe(LEVEL_PTE);
    expect(k.memmap.order(head)).toBe(9);
    put_user_pages(k, p, 1);
  });
});

describe("§7.3 follow_page_pte()", () => {
  it("[PTE-1] a non-present entry that is not empty (swap, migration, marker) asks for a fault even for a core dump; an empty one is no_page_table()", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, 2 * PAGE);
    m.memset(A, buf, 1, 2 * PAGE);
    const vma = mm.vma_lookup(buf)!;
    const t = mm.pgtables.pteTable(buf, false)!;
    const i = pte_index(buf);
    const saved = [t.pfn[i], t.bits[i]];
    t.bits[i] = PTE.SWP | PTE.MIGRATION;
    expect(follow_page_mask(k, vma, buf, FOLL_GET | FOLL_DUMP)).toBe(FOLLOW_NULL);
    t.bits[i] = saved[1];
    t.pfn[i] = saved[0];
    m.madvise(A, buf + PAGE, PAGE, MADV.MADV_DONTNEED);
    expect(follow_page_mask(k, vma, buf + PAGE, FOLL_GET | FOLL_DUMP)).toBe(-EFAULT);
  });

  it("[PTE-2] a PROT_NONE (NUMA hint) PTE is followed without FOLL_HONOR_NUMA_FAULT; with it, a fault is asked for", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const vma = mm.vma_lookup(buf)!;
    const t = mm.pgtables.pteTable(buf, false)!;
    t.bits[pte_index(buf)] |= PTE.PROTNONE;
    const page = follow_page_mask(k, vma, buf, FOLL_GET);
    expect(page).toBe(m.translate(A, buf));
    put_page(k, page);
    expect(follow_page_mask(k, vma, buf, FOLL_GET | FOLL_HONOR_NUMA_FAULT)).toBe(FOLLOW_NULL);
  });

  it("[PTE-3] FOLL_WRITE on a read-only PTE needs a write fault: after fork the writer gets its own copy", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 0x11);
    const shared = m.translate(A, buf);
    const B = m.fork(A);
    expect(m.writable(A, buf)).toBe(false);
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages(k, buf, 1, FOLL_WRITE, p))).toBe(1);
    expect(p[0]).not.toBe(shared);
    expect(m.translate(A, buf)).toBe(p[0]);
    expect(m.translate(B, buf)).toBe(shared);
    expect(k.memmap.content(p[0])).toBe(0x11);
    unpin_user_pages(k, p, 1);
  });

  it("[PTE-4] special entries: a core dump gets -EFAULT; the zero page is returned (and referenced for FOLL_GET)", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE, PROT_READ);
    expect(m.load(A, buf)).toBe(0);
    expect(m.translate(A, buf)).toBe(k.zeroPfn);
    const vma = mm.vma_lookup(buf)!;
    expect(follow_page_mask(k, vma, buf, FOLL_GET | FOLL_DUMP)).toBe(-EFAULT);
    const zr = refcount(k, k.zeroPfn);
    const p = new Int32Array(1);
    expect(as(m, A, () => get_user_pages(k, buf, 1, 0, p))).toBe(1);
    expect(p[0]).toBe(k.zeroPfn);
    expect(refcount(k, k.zeroPfn)).toBe(zr + 1);
    put_user_pages(k, p, 1);
    expect(as(m, A, () => get_dump_page(k, buf, { value: 1 }))).toBe(PAGE_NULL);
  });

  it("[PTE-5] a read-only PTE of a page that must be unshared answers -EMLINK; GUP then runs an unshare fault", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 0x33);
    const shared = m.translate(A, buf);
    const B = m.fork(A);
    const vma = mm.vma_lookup(buf)!;
    expect(follow_page_mask(k, vma, buf, FOLL_PIN)).toBe(-EMLINK);
    expect(follow_page_mask(k, vma, buf, FOLL_GET)).toBe(shared); // FOLL_GET never unshares
    put_page(k, shared);
    const p = new Int32Array(1);
    const { events } = traced(k, ["gup_unshare", "unshare_copy"], () =>
      expect(as(m, A, () => pin_user_pages(k, buf, 1, 0, p))).toBe(1),
    );
    expect(events.map((e) => e.name)).toEqual(["gup_unshare", "unshare_copy"]);
    expect(p[0]).not.toBe(shared);
    expect(m.translate(B, buf)).toBe(shared);
    expect(m.writable(A, buf)).toBe(false); // an unshare fault maps the copy read-only
    unpin_user_pages(k, p, 1);
  });

  it("[PTE-6] a grab that fails (refcount ≤ 0: freed or overflowed) fails the call with its error (-ENOMEM) and a WARN", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    k.memmap.setRefcount(pfn, -5);
    const p = new Int32Array(1);
    const { ret, warns } = warnings(k, () => as(m, A, () => pin_user_pages(k, buf, 1, 0, p)));
    expect(ret).toBe(-ENOMEM);
    expect(warns.some((w) => w.includes("try_grab_folio"))).toBe(true);
    expect(k.memmap.refcount(pfn)).toBe(-5);
    k.memmap.setRefcount(pfn, 1);
  });

  it("[PTE-7] arch_make_folio_accessible() only matters on s390: on x86 every FOLL_PIN that grabbed its page succeeds", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, 4 * PAGE);
    m.memset(A, buf, 1, 4 * PAGE);
    const p = new Int32Array(4);
    expect(as(m, A, () => pin_user_pages(k, buf, 4, 0, p))).toBe(4);
    unpin_user_pages(k, p, 4);
  });

  it("[PTE-8] FOLL_TOUCH marks the folio accessed, and dirty for FOLL_WRITE when neither PTE nor folio is (pin_user_pages() has no FOLL_TOUCH)", () => {
    const { m, k, A, mm } = boot();
    const ro = mapAnon(m, A, 2 * PAGE, PROT_READ);
    const p = new Int32Array(1);
    // FOLL_FORCE write faults fresh exclusive pages in; then make PTEs and folios clean and unreferenced
    // (the kernel's do_anonymous_page() maps a FORCE-faulted page clean already)
    expect(get_user_pages_remote(k, mm, ro, 2, FOLL_WRITE | FOLL_FORCE, new Int32Array(2).fill(0))).toBe(2);
    const t = mm.pgtables.pteTable(ro, false)!;
    for (const a of [ro, ro + PAGE]) {
      const pfn = m.translate(A, a);
      k.memmap.setRefcount(pfn, 1); // drop the two references taken above
      k.memmap.clear(pfn, PG.dirty | PG.referenced);
      t.bits[pte_index(a)] &= ~PTE.DIRTY;
    }
    expect(get_user_pages_remote(k, mm, ro, 1, FOLL_WRITE | FOLL_FORCE, p)).toBe(1);
    expect(k.memmap.test(p[0], PG.dirty)).toBe(true);
    expect(k.memmap.test(p[0], PG.referenced)).toBe(true);
    put_user_pages(k, p, 1);
    expect(as(m, A, () => pin_user_pages(k, ro + PAGE, 1, FOLL_WRITE | FOLL_FORCE, p))).toBe(1);
    expect(k.memmap.test(p[0], PG.dirty)).toBe(false);
    expect(k.memmap.test(p[0], PG.referenced)).toBe(false);
    unpin_user_pages(k, p, 1);
  });
});

describe("§7.4 can_follow_write_pte/pmd/pud()", () => {
  it("[WR-1] a writable entry can be written: no fault", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const faults = k.vmstat.pgfault;
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages(k, buf, 1, FOLL_WRITE, p))).toBe(1);
    expect(k.vmstat.pgfault).toBe(faults);
    unpin_user_pages(k, p, 1);
  });

  it("[WR-2] FOLL_FORCE writes through a read-only private entry only to an exclusive anonymous page; otherwise COW first", () => {
    const { m, k, A, mm } = boot();
    const ro = mapAnon(m, A, PAGE, PROT_READ);
    const p = new Int32Array(1);
    expect(get_user_pages_remote(k, mm, ro, 1, FOLL_WRITE | FOLL_FORCE, p)).toBe(1);
    const first = p[0];
    put_user_pages(k, p, 1);
    const faults = k.vmstat.pgfault;
    expect(get_user_pages_remote(k, mm, ro, 1, FOLL_WRITE | FOLL_FORCE, p)).toBe(1);
    expect(p[0]).toBe(first);
    expect(k.vmstat.pgfault).toBe(faults); // exclusive: followed without a fault
    put_user_pages(k, p, 1);
    const B = m.fork(A);
    expect(get_user_pages_remote(k, mm, ro, 1, FOLL_WRITE | FOLL_FORCE, p)).toBe(1);
    expect(p[0]).not.toBe(first); // shared with the child: COW into a new exclusive page
    expect(m.translate(B, ro)).toBe(first);
    expect(m.writable(A, ro)).toBe(false);
    put_user_pages(k, p, 1);
  });

  it("[WR-3] a uffd-wp entry in a VM_UFFD_WP VMA needs a write fault even for FOLL_FORCE on an exclusive page", () => {
    const { m, k, A, mm } = boot();
    const ro = mapAnon(m, A, PAGE, PROT_READ);
    const p = new Int32Array(1);
    expect(get_user_pages_remote(k, mm, ro, 1, FOLL_WRITE | FOLL_FORCE, p)).toBe(1);
    put_user_pages(k, p, 1);
    const vma = mm.vma_lookup(ro)!;
    const page = follow_page_mask(k, vma, ro, FOLL_GET | FOLL_WRITE | FOLL_FORCE);
    expect(page).toBe(p[0]);
    put_page(k, page);
    vma.vm_flags |= VM_UFFD_WP;
    mm.pgtables.pteTable(ro, false)!.bits[pte_index(ro)] |= PTE.UFFD_WP;
    expect(follow_page_mask(k, vma, ro, FOLL_GET | FOLL_WRITE | FOLL_FORCE)).toBe(FOLLOW_NULL);
  });
});

describe("§7.5 follow_huge_pmd()", () => {
  it("[PMD-1] FOLL_WRITE on a read-only THP PMD (shared after fork) is not followed: a write fault is needed", () => {
    const env = boot({ thp: "always" });
    const { m, k, A, mm } = env;
    const buf = thp(env, 0x21);
    m.fork(A);
    expect(follow_page_mask(k, mm.vma_lookup(buf)!, buf, FOLL_GET | FOLL_WRITE)).toBe(FOLLOW_NULL);
    // a read reference needs no fault: the shared PMD leaf is followed as it is
    expect(follow_page_mask(k, mm.vma_lookup(buf)!, buf, FOLL_GET)).toBe(m.translate(A, buf));
    put_page(k, m.translate(A, buf));
  });

  // wp_can_reuse_anon_folio() must not reuse a large folio another mm still maps
  // (folio_test_large_maybe_mapped_shared()), even through a PMD.
  it("[PMD-1] end to end: the writer gets a private copy, the child keeps the THP", () => {
    const env = boot({ thp: "always" });
    const { m, k, A } = env;
    const buf = thp(env, 0x21);
    const head = m.translate(A, buf);
    const B = m.fork(A);
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages(k, buf + 4 * PAGE, 1, FOLL_WRITE, p))).toBe(1);
    expect(k.memmap.head(p[0])).not.toBe(head);
    expect(k.memmap.content(p[0])).toBe(0x21);
    expect(m.translate(B, buf + 4 * PAGE)).toBe(head + 4);
    unpin_user_pages(k, p, 1);
  });

  it("[PMD-2] FOLL_DUMP on the huge zero folio is -EFAULT (a hole in the core file)", () => {
    const env = boot({ thp: "always" });
    const { m, k, A, mm } = env;
    const buf = mapAnon(m, A, M2);
    expect(m.load(A, buf)).toBe(0);
    expect(walk_addr(mm, buf).entryPfn).toBe(k.hugeZeroPfn);
    expect(follow_page_mask(k, mm.vma_lookup(buf)!, buf, FOLL_GET | FOLL_DUMP)).toBe(-EFAULT);
    expect(as(m, A, () => get_dump_page(k, buf, { value: 1 }))).toBe(PAGE_NULL);
  });

  it("[PMD-3] a read-only pin of a THP shared after fork must unshare: follow_huge_pmd() answers -EMLINK (FOLL_GET does not)", () => {
    const env = boot({ thp: "always" });
    const { m, k, A, mm } = env;
    const buf = thp(env, 0x5);
    const head = m.translate(A, buf);
    m.fork(A);
    const vma = mm.vma_lookup(buf)!;
    expect(follow_page_mask(k, vma, buf, FOLL_PIN)).toBe(-EMLINK);
    expect(follow_page_mask(k, vma, buf + PAGE, FOLL_GET)).toBe(head + 1);
    put_page(k, head + 1);
  });

  // Same mm/memory.ts bug as above: the unshare fault reuses the subpage the child still maps.
  it("[PMD-3] end to end: the pinner's subpage is replaced, the child keeps the THP", () => {
    const env = boot({ thp: "always" });
    const { m, k, A } = env;
    const buf = thp(env, 0x5);
    const head = m.translate(A, buf);
    const B = m.fork(A);
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages(k, buf + 2 * PAGE, 1, 0, p))).toBe(1);
    expect(k.memmap.head(p[0])).not.toBe(head);
    expect(k.memmap.content(p[0])).toBe(0x5);
    expect(m.translate(B, buf + 2 * PAGE)).toBe(head + 2);
    unpin_user_pages(k, p, 1);
  });

  it("[PMD-4] the PMD leaf's folio is grabbed once per returned subpage: refcount and _pincount rise by the count", () => {
    const env = boot({ thp: "always" });
    const { m, k, A } = env;
    const buf = thp(env);
    const head = m.translate(A, buf);
    const r0 = refcount(k, head);
    const p = new Int32Array(512);
    const d = pinDelta(k, () => expect(as(m, A, () => pin_user_pages(k, buf, 512, FOLL_WRITE, p))).toBe(512));
    expect(d).toEqual({ acq: 512, rel: 0 });
    expect(refcount(k, head)).toBe(r0 + 512);
    expect(pincount(k, head)).toBe(512);
    expect(p[511]).toBe(head + 511);
    unpin_user_pages(k, p, 512);
    expect(refcount(k, head)).toBe(r0);
  });

  it("[PMD-5] FOLL_TOUCH marks the PMD young, and dirty for FOLL_WRITE (touch_pmd())", () => {
    const env = boot({ thp: "always" });
    const { m, k, A, mm } = env;
    const buf = thp(env);
    const pmdt = mm.pgtables.pmdTable(buf, false)!;
    const i = pmd_index(buf);
    pmdt.bits[i] &= ~(PTE.YOUNG | PTE.DIRTY);
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages(k, buf, 1, FOLL_WRITE, p))).toBe(1); // no FOLL_TOUCH
    expect(pmdt.bits[i] & (PTE.YOUNG | PTE.DIRTY)).toBe(0);
    unpin_user_pages(k, p, 1);
    expect(pin_user_pages_remote(k, mm, buf, 1, 0, p)).toBe(1);
    expect(pmdt.bits[i] & (PTE.YOUNG | PTE.DIRTY)).toBe(PTE.YOUNG);
    unpin_user_pages(k, p, 1);
    expect(pin_user_pages_remote(k, mm, buf, 1, FOLL_WRITE, p)).toBe(1);
    expect(pmdt.bits[i] & (PTE.YOUNG | PTE.DIRTY)).toBe(PTE.YOUNG | PTE.DIRTY);
    unpin_user_pages(k, p, 1);
  });
});
