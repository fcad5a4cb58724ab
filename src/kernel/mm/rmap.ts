/**
 * Reverse mapping and mapcounts (mm/rmap.c, include/linux/rmap.h) with
 * CONFIG_PAGE_MAPCOUNT: per-page mapcounts, plus _large_mapcount and
 * _entire_mapcount for large folios. Each mapping of a page also holds one
 * folio reference, taken by the caller (the kernel's rule: refcount is
 * raised before the mapcount and dropped after it).
 */
import { PG } from "../include/page_flags.js";
import type { Kernel } from "../kernel.js";
import {
  folio_large_mapcount,
  folio_add_entire_mapcount,
  folio_add_large_mapcount,
  folio_entire_mapcount,
  folio_nr_pages,
  folio_test_large,
} from "./folio.js";
import type { VmArea } from "./mm_types.js";

/** folio_add_new_anon_rmap(): a freshly allocated anon folio gets its first mapping. */
export function folio_add_new_anon_rmap(
  k: Kernel,
  folio: number,
  vma: VmArea,
  addr: number,
  exclusive: boolean,
  pmdMapped: boolean,
): void {
  const mm = k.memmap;
  if (!vma.anon_vma) anon_vma_prepare(k, vma);
  const nr = folio_nr_pages(k, folio);
  mm.set(folio, PG.anon | PG.swapbacked | PG.uptodate | PG.lru);
  mm.setMapping(folio, vma.anon_vma!.id);
  mm.setIndex(folio, vma.pgoffOf(addr));
  if (!folio_test_large(k, folio)) {
    mm.setMapcount(folio, 1);
    if (exclusive) mm.set(folio, PG.anon_exclusive);
  } else if (!pmdMapped) {
    for (let p = folio; p < folio + nr; p++) {
      mm.setMapcount(p, 1);
      if (exclusive) mm.set(p, PG.anon_exclusive);
    }
    folio_add_large_mapcount(k, folio, nr);
  } else {
    folio_add_entire_mapcount(k, folio, 1);
    folio_add_large_mapcount(k, folio, 1);
    if (exclusive) mm.set(folio, PG.anon_exclusive);
  }
  vma.vm_mm.rss.anon += nr;
}

/** anon_vma_prepare(): the VMA's first anonymous page needs an anon_vma. */
export function anon_vma_prepare(k: Kernel, vma: VmArea): void {
  if (vma.anon_vma) return;
  const av = k.newAnonVma(null);
  vma.anon_vma = av;
  vma.anonVmaChain.push(av);
  av.vmas.add(vma);
}

/** folio_add_file_rmap_ptes() / folio_dup_file_rmap_ptes() / anon dup: nr PTE mappings of pages [page, page+nr). */
export function rmap_add_ptes(k: Kernel, folio: number, page: number, nr: number, vma: VmArea): void {
  const mm = k.memmap;
  for (let p = page; p < page + nr; p++) mm.addMapcount(p, 1);
  if (folio_test_large(k, folio)) folio_add_large_mapcount(k, folio, nr);
  rssAdd(k, folio, vma, nr);
}

/** folio_add_file_rmap_pmd(): one PMD/PUD mapping of the whole folio. */
export function rmap_add_entire(k: Kernel, folio: number, vma: VmArea): void {
  folio_add_entire_mapcount(k, folio, 1);
  folio_add_large_mapcount(k, folio, 1);
  rssAdd(k, folio, vma, folio_nr_pages(k, folio));
}

/**
 * folio_remove_rmap_ptes(). An anon large folio left partly mapped is queued
 * for deferred split (__folio_remove_rmap() → deferred_split_folio()).
 */
export function folio_remove_rmap_ptes(
  k: Kernel,
  folio: number,
  page: number,
  nr: number,
  vma: VmArea,
): void {
  const mm = k.memmap;
  for (let p = page; p < page + nr; p++) mm.addMapcount(p, -1);
  if (folio_test_large(k, folio)) {
    folio_add_large_mapcount(k, folio, -nr);
    const partly = folio_large_mapcount(k, folio) > 0 && folio_entire_mapcount(k, folio) === 0;
    if (partly && mm.test(folio, PG.anon) && !mm.test(folio, PG.hugetlb)) k.deferredSplit.add(folio);
  }
  rssAdd(k, folio, vma, -nr);
}

/** folio_remove_rmap_pmd() / _pud() */
export function folio_remove_rmap_entire(k: Kernel, folio: number, vma: VmArea): void {
  folio_add_entire_mapcount(k, folio, -1);
  folio_add_large_mapcount(k, folio, -1);
  rssAdd(k, folio, vma, -folio_nr_pages(k, folio));
}

function rssAdd(k: Kernel, folio: number, vma: VmArea, nr: number): void {
  const rss = vma.vm_mm.rss;
  if (k.memmap.test(folio, PG.anon)) rss.anon += nr;
  else if (vma.vm_ops?.name === "shmem") rss.shmem += nr;
  else rss.file += nr;
}

/** page_mapcount() with CONFIG_PAGE_MAPCOUNT: PTE mappings of the page plus entire mappings. */
export function page_mapcount(k: Kernel, pfn: number): number {
  const folio = k.memmap.head(pfn);
  const entire = folio_test_large(k, folio) ? folio_entire_mapcount(k, folio) : 0;
  return k.memmap.mapcount(pfn) + entire;
}

/** folio_move_anon_rmap(): an exclusively owned anon folio moves to the VMA's own anon_vma. */
export function folio_move_anon_rmap(k: Kernel, folio: number, vma: VmArea): void {
  if (vma.anon_vma) k.memmap.setMapping(folio, vma.anon_vma.id);
}

/**
 * rmap_walk(): every VMA where pages of the folio may be mapped, with the
 * address of the first such page, the index of that page within the folio
 * and how many consecutive pages fall inside the VMA. Anon folios search
 * their anon_vma's VMAs (which include forked children), file folios the
 * address_space's i_mmap. The callback inspects the page tables itself.
 */
export function rmap_walk(
  k: Kernel,
  folio: number,
  fn: (vma: VmArea, addr: number, firstPage: number, nr: number) => void,
): void {
  const mm = k.memmap;
  const id = mm.mapping(folio);
  const nr = folio_nr_pages(k, folio);
  let vmas: VmArea[];
  if (mm.test(folio, PG.anon)) {
    const av = k.anonVmas.get(id);
    if (!av) return;
    vmas = [...av.vmas];
  } else {
    const as = k.mappings.get(id);
    if (!as) return;
    vmas = [...as.i_mmap];
  }
  const first = mm.index(folio);
  for (const vma of vmas) {
    let i = 0;
    while (i < nr && vma.addressOf((first + i) >>> 0) < 0) i++;
    if (i === nr) continue;
    let j = i;
    while (j < nr && vma.addressOf((first + j) >>> 0) >= 0) j++;
    fn(vma, vma.addressOf((first + i) >>> 0), i, j - i);
  }
}
