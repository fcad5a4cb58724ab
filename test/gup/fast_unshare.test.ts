/**
 * gup-api.md §10 (unsharing and exclusivity: gup_must_unshare(), fork) and
 * §11 (GUP-fast: gup_fast_fallback(), the lockless walk,
 * try_grab_folio_fast(), gup_fast_folio_allowed()).
 */
import { describe, expect, it } from "vitest";
import { EFAULT } from "../../src/kernel/include/errno.js";
import { FOLL_GET, FOLL_LONGTERM, FOLL_PIN, FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import { MAP_HUGETLB, MAP_PRIVATE, MAP_SHARED, PROT_READ } from "../../src/kernel/include/mman.js";
import { PTE } from "../../src/kernel/include/pgtable.js";
import {
  get_user_pages_fast_only,
  gup_fast,
  gup_fast_folio_allowed,
  gup_must_unshare,
  pin_user_pages,
  pin_user_pages_fast,
  pin_user_pages_remote,
  put_user_pages,
  unpin_user_pages,
} from "../../src/kernel/mm/gup.js";
import { pte_index } from "../../src/kernel/mm/pgtable.js";
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
} from "./helpers.js";

const LW = FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM;

describe("§11 GUP-fast", () => {
  it("[FAST-1] a FOLL_PIN fast call sets MMF_HAS_PINNED on current's mm even when nothing is pinned", () => {
    const { m, k, A, mm } = boot();
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages_fast(k, 0x9000, 1, 0, p))).toBe(-EFAULT);
    expect(mm.hasPinned()).toBe(true);
  });

  it("[FAST-2] a complete fast walk returns at once; FOLL_FAST_ONLY never falls back (a short prefix)", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, 4 * PAGE);
    m.memset(A, buf, 1, 2 * PAGE);
    const p = new Int32Array(4);
    as(m, A, () => {
      const { ret, events } = traced(k, ["gup_fast_fallback"], () => pin_user_pages_fast(k, buf, 2, 0, p));
      expect(ret).toBe(2);
      expect(events).toHaveLength(0);
      unpin_user_pages(k, p, 2);
      expect(get_user_pages_fast_only(k, buf, 4, 0, p)).toBe(2);
      put_user_pages(k, p, 2);
    });
    expect(m.translate(A, buf + 2 * PAGE)).toBeLessThan(0); // nothing faulted
  });

  it("[FAST-3] the rest goes through the slow path (FOLL_TOUCH|FOLL_UNLOCKABLE), the fast prefix is kept", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, 4 * PAGE);
    m.memset(A, buf, 1, 2 * PAGE);
    const p = new Int32Array(4);
    const { ret, events } = traced(k, ["gup_fast_fallback", "gup_pin"], () =>
      as(m, A, () => pin_user_pages_fast(k, buf, 4, FOLL_WRITE, p)),
    );
    expect(ret).toBe(4);
    const fb = events.find((e) => e.name === "gup_fast_fallback")!;
    expect([fb.args.fast, fb.args.slow]).toEqual([2, 2]);
    for (let i = 0; i < 4; i++) expect(p[i]).toBe(m.translate(A, buf + i * PAGE));
    unpin_user_pages(k, p, 4);
  });

  it("[FAST-4] if the slow path fails, the fast prefix is returned (the caller releases it); with no prefix, the error", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, 3 * PAGE);
    m.memset(A, buf, 1, 2 * PAGE);
    m.munmap(A, buf + 2 * PAGE, PAGE);
    const p = new Int32Array(3);
    expect(as(m, A, () => pin_user_pages_fast(k, buf, 3, 0, p))).toBe(2);
    unpin_user_pages(k, p, 2);
    expect(as(m, A, () => pin_user_pages_fast(k, buf + 2 * PAGE, 1, 0, p))).toBe(-EFAULT);
  });

  it("[FAST-5] an odd write_protect_seq (fork copying page tables) makes FOLL_PIN fast walks give up entirely; FOLL_GET ignores it", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, 2 * PAGE);
    m.memset(A, buf, 1, 2 * PAGE);
    const p = new Int32Array(2);
    mm.write_protect_seq++;
    as(m, A, () => {
      expect(gup_fast(k, mm, buf, buf + 2 * PAGE, FOLL_PIN, p)).toBe(0);
      const d = pinDelta(k, () => expect(gup_fast(k, mm, buf, buf + 2 * PAGE, FOLL_GET, p)).toBe(2));
      expect(d).toEqual({ acq: 0, rel: 0 });
      put_user_pages(k, p, 2);
      const { ret, events } = traced(k, ["gup_fast_fallback"], () => pin_user_pages_fast(k, buf, 2, 0, p));
      expect(ret).toBe(2);
      expect(events[0].args.fast).toBe(0);
    });
    mm.write_protect_seq++;
    unpin_user_pages(k, p, 2);
  });

  it("[FAST-6] a walk that raced with fork undoes its pins (the model's walk is atomic, so only a sequence change at the start can be seen)", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    const p = new Int32Array(1);
    const d = pinDelta(k, () => expect(gup_fast(k, mm, buf, buf + PAGE, FOLL_PIN, p)).toBe(1));
    expect(d.acq).toBe(1);
    unpin_user_pages(k, p, 1);
    expect(refcount(k, pfn)).toBe(1);
  });

  it("[FAST-7] the walk stops at PROT_NONE, not-writable-for-write and special entries; FOLL_FORCE is never honoured", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, 4 * PAGE);
    m.memset(A, buf, 1, 4 * PAGE);
    const t = mm.pgtables.pteTable(buf, false)!;
    t.bits[pte_index(buf + PAGE)] |= PTE.PROTNONE;
    const p = new Int32Array(4);
    as(m, A, () => {
      expect(get_user_pages_fast_only(k, buf, 4, 0, p)).toBe(1);
      put_user_pages(k, p, 1);
      t.bits[pte_index(buf + PAGE)] &= ~PTE.PROTNONE;
      t.bits[pte_index(buf + 2 * PAGE)] &= ~PTE.WRITE;
      expect(get_user_pages_fast_only(k, buf, 4, FOLL_WRITE, p)).toBe(2);
      put_user_pages(k, p, 2);
      expect(get_user_pages_fast_only(k, buf, 4, 0, p)).toBe(4); // reads do not need the write bit
      put_user_pages(k, p, 4);
    });
    const ro = mapAnon(m, A, PAGE, PROT_READ);
    m.load(A, ro); // the zero page: special
    expect(as(m, A, () => get_user_pages_fast_only(k, ro, 1, 0, p))).toBe(0);
  });

  it("[FAST-8] try_grab_folio_fast(): a long-term pin of a folio that is not longterm-pinnable is dropped before it is counted", () => {
    const { m, k, A, mm } = boot({ movable: 1024 ** 3 });
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    const p = new Int32Array(1);
    const d = pinDelta(k, () => expect(gup_fast(k, mm, buf, buf + PAGE, LW, p)).toBe(0));
    expect(d).toEqual({ acq: 0, rel: 0 });
    expect(refcount(k, pfn)).toBe(1);
    expect(gup_fast(k, mm, buf, buf + PAGE, FOLL_PIN | FOLL_WRITE, p)).toBe(1); // short-term is fine
    unpin_user_pages(k, p, 1);
  });

  it("[FAST-9] gup_fast_folio_allowed(): writable long-term pins only of anon, shmem and hugetlb folios; no secretmem; a truncated folio falls back", () => {
    const env = boot({ hugetlb2M: 1 });
    const { m, k, A } = env;
    const anon = mapAnon(m, A, PAGE);
    const tmpfs = mapFile(m, A, openFile(m, A, "tmpfs", PAGE), PAGE, RW, MAP_SHARED);
    const ext4 = mapFile(m, A, openFile(m, A, "ext4", PAGE), PAGE, RW, MAP_SHARED);
    const htlb = mapAnon(m, A, M2, RW, ANON | MAP_HUGETLB);
    for (const a of [anon, tmpfs, ext4, htlb]) m.store(A, a, 1);
    const f = (a: number) => k.memmap.head(m.translate(A, a));
    expect(gup_fast_folio_allowed(k, f(anon), LW)).toBe(true);
    expect(gup_fast_folio_allowed(k, f(tmpfs), LW)).toBe(true);
    expect(gup_fast_folio_allowed(k, f(htlb), LW)).toBe(true);
    expect(gup_fast_folio_allowed(k, f(ext4), LW)).toBe(false);
    expect(gup_fast_folio_allowed(k, f(ext4), FOLL_PIN | FOLL_LONGTERM)).toBe(true); // read-only
    expect(gup_fast_folio_allowed(k, f(ext4), FOLL_PIN | FOLL_WRITE)).toBe(true); // short-term
    const saved = k.memmap.mapping(f(ext4));
    k.memmap.setMapping(f(ext4), 0); // truncated under us
    expect(gup_fast_folio_allowed(k, f(ext4), FOLL_PIN)).toBe(false);
    k.memmap.setMapping(f(ext4), saved);
    // [EXP-7d]: the refused fast pin is counted and dropped, then the slow path says -EFAULT
    const p = new Int32Array(1);
    const d = pinDelta(k, () =>
      expect(as(m, A, () => pin_user_pages_fast(k, ext4, 1, FOLL_WRITE | FOLL_LONGTERM, p))).toBe(-EFAULT),
    );
    expect(d).toEqual({ acq: 1, rel: 1 });
  });
});

describe("§10 unsharing and exclusivity", () => {
  it("[UNSH-1] only a pin without FOLL_WRITE may need unsharing (FOLL_GET never; writes go through the write fault)", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 1);
    const pfn = m.translate(A, buf);
    m.fork(A); // now shared: not exclusive
    expect(gup_must_unshare(k, null, FOLL_PIN, pfn)).toBe(true);
    expect(gup_must_unshare(k, null, FOLL_PIN | FOLL_WRITE, pfn)).toBe(false);
    expect(gup_must_unshare(k, null, FOLL_GET, pfn)).toBe(false);
  });

  it("[UNSH-2] pinning a shared anonymous page after fork unshares it first: a new pfn in the pinning mm, the child keeps the old [EXP-9a]; with the child gone the page is reused [EXP-9b]", () => {
    const { m, k, A, mm } = boot();
    const buf = mapAnon(m, A, 2 * PAGE);
    m.memset(A, buf, 0x5e, 2 * PAGE);
    const old0 = m.translate(A, buf);
    const old1 = m.translate(A, buf + PAGE);
    const B = m.fork(A);
    const p = new Int32Array(1);
    // a remote R/O pin (process_vm_readv from a third process) unshares in the target
    expect(pin_user_pages_remote(k, mm, buf, 1, 0, p)).toBe(1);
    expect(p[0]).not.toBe(old0);
    expect(m.translate(A, buf)).toBe(p[0]);
    expect(m.translate(B, buf)).toBe(old0);
    expect(k.memmap.content(p[0])).toBe(0x5e);
    expect(m.page(p[0]).anonExclusive).toBe(true);
    unpin_user_pages(k, p, 1);
    // GUP-fast refuses the non-exclusive page (falls back) with the same result
    m.exit(B);
    expect(as(m, A, () => pin_user_pages_fast(k, buf + PAGE, 1, 0, p))).toBe(1);
    expect(p[0]).toBe(old1); // sole owner again: reused in place, now exclusive
    expect(m.page(old1).anonExclusive).toBe(true);
    unpin_user_pages(k, p, 1);
  });

  it("[UNSH-3] non-anonymous pages: short-term R/O pins take the page-cache page; long-term R/O pins in COW mappings unshare it (and the zero page) into an anonymous copy", () => {
    const { m, k, A } = boot();
    const fd = openFile(m, A, "ext4", 2 * PAGE);
    const shared = mapFile(m, A, fd, 2 * PAGE, RW, MAP_SHARED);
    m.memset(A, shared, 0x71, 2 * PAGE);
    const cache = m.translate(A, shared);
    const priv = mapFile(m, A, fd, 2 * PAGE, PROT_READ, MAP_PRIVATE);
    m.load(A, priv);
    expect(m.translate(A, priv)).toBe(cache);
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages(k, priv, 1, 0, p))).toBe(1);
    expect(p[0]).toBe(cache); // short-term: fine as is
    unpin_user_pages(k, p, 1);
    expect(as(m, A, () => pin_user_pages_fast(k, priv, 1, FOLL_LONGTERM, p))).toBe(1);
    expect(p[0]).not.toBe(cache);
    expect(m.page(p[0]).anon).toBe(true);
    expect(k.memmap.content(p[0])).toBe(0x71);
    expect(m.translate(A, priv)).toBe(p[0]);
    unpin_user_pages(k, p, 1);
    // shared mapping: not a COW mapping, no unshare
    expect(as(m, A, () => pin_user_pages(k, shared, 1, FOLL_LONGTERM, p))).toBe(1);
    expect(p[0]).toBe(cache);
    unpin_user_pages(k, p, 1);
    // [SEM-3]: the zero page in a private anonymous mapping becomes a new zeroed exclusive page
    const anon = mapAnon(m, A, PAGE);
    m.load(A, anon);
    const d = pinDelta(k, () => expect(as(m, A, () => pin_user_pages(k, anon, 1, FOLL_LONGTERM, p))).toBe(1));
    expect(p[0]).not.toBe(k.zeroPfn);
    expect(d.acq).toBe(1);
    expect(m.writable(A, anon)).toBe(false);
    unpin_user_pages(k, p, 1);
  });

  it("[UNSH-4] a pinned page stays exclusive: fork gives the child a copy and leaves the pinner's page mapped, writable and coherent with the pin", () => {
    const { m, k, A } = boot();
    const buf = mapAnon(m, A, PAGE);
    m.store(A, buf, 0x11);
    const p = new Int32Array(1);
    expect(as(m, A, () => pin_user_pages_fast(k, buf, 1, FOLL_WRITE | FOLL_LONGTERM, p))).toBe(1);
    const B = m.fork(A);
    expect(m.translate(A, buf)).toBe(p[0]);
    expect(m.translate(B, buf)).not.toBe(p[0]);
    expect(m.page(p[0]).anonExclusive).toBe(true);
    expect(m.writable(A, buf)).toBe(true);
    m.store(A, buf, 0x22);
    expect(k.memmap.content(p[0])).toBe(0x22); // the device sees the parent's write
    expect(m.load(B, buf)).toBe(0x11);
    unpin_user_pages(k, p, 1);
  });
});
