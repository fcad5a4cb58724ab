/**
 * Invariants that hold between any two steps of the model, checked by the
 * property tests: a violated one names the rule and the page.
 *  - refcount ≥ mapcount (+1 per page-cache slot is the fs layer's to add)
 *  - every present, non-special entry points at an allocated folio
 *  - free lists hold only free, unreferenced pages, each block inside its zone and node
 */
import { PG } from "./include/page_flags.js";
import { PTE } from "./include/pgtable.js";
import type { Kernel } from "./kernel.js";
import { folio_mapcount, folio_pincount } from "./mm/folio.js";
import { PMD_SIZE, PUD_SIZE, PTRS_PER_TABLE } from "./mm/pgtable.js";
import { PAGE_SIZE } from "./include/mmzone.js";

export function check_invariants(k: Kernel): string[] {
  const errs: string[] = [];
  const mm = k.memmap;
  // free lists
  for (const z of k.pa.zones) {
    if (!z) continue;
    for (const [pfn, order] of k.pa.freeBlocks(z)) {
      if (!mm.test(pfn, PG.buddy)) errs.push(`free list holds pfn ${pfn} without PG_buddy`);
      if (mm.refcount(pfn) !== 0)
        errs.push(`free block ${pfn} (order ${order}) has refcount ${mm.refcount(pfn)}`);
      if (mm.order(pfn) !== order)
        errs.push(`free block ${pfn} on order-${order} list has order ${mm.order(pfn)}`);
      // buddies never merge across a zone or node boundary (page_is_buddy() checks the zone)
      if (!z.contains(pfn) || !z.contains(pfn + (1 << order) - 1) || k.pa.page_to_nid(pfn) !== z.nid)
        errs.push(`free block ${pfn} (order ${order}) lies outside zone ${z.name} of node ${z.nid}`);
    }
  }
  // page tables → allocated folios
  const mapped = new Set<number>();
  const seen = new Set<number>();
  for (const t of k.tasks.values()) {
    const m = t.mm;
    if (!m || seen.has(m.id)) continue;
    seen.add(m.id);
    const pg = m.pgtables.pgd;
    for (let a = 0; a < PTRS_PER_TABLE; a++) {
      const pud = pg[a];
      if (!pud) continue;
      for (let b = 0; b < PTRS_PER_TABLE; b++) {
        const check = (pfn: number, bits: number, where: string) => {
          if (!(bits & PTE.PRESENT) || bits & PTE.SPECIAL) return;
          const folio = mm.head(pfn);
          mapped.add(folio);
          if (mm.test(folio, PG.buddy) || mm.refcount(folio) <= 0)
            errs.push(
              `${where} maps pfn ${pfn} whose folio ${folio} is free (refcount ${mm.refcount(folio)})`,
            );
        };
        const base = (a * PTRS_PER_TABLE + b) * PUD_SIZE;
        if (pud.bits[b] & PTE.LEAF) check(pud.pfn[b], pud.bits[b], `mm ${m.id} PUD ${base.toString(16)}`);
        const pmd = pud.pmd[b];
        if (!pmd) continue;
        for (let c = 0; c < PTRS_PER_TABLE; c++) {
          const pbase = base + c * PMD_SIZE;
          if (pmd.bits[c] & PTE.LEAF) check(pmd.pfn[c], pmd.bits[c], `mm ${m.id} PMD ${pbase.toString(16)}`);
          const pte = pmd.pte[c];
          if (!pte) continue;
          for (let d = 0; d < PTRS_PER_TABLE; d++)
            if (pte.bits[d])
              check(pte.pfn[d], pte.bits[d], `mm ${m.id} PTE ${(pbase + d * PAGE_SIZE).toString(16)}`);
        }
      }
    }
  }
  for (const folio of mapped) {
    const mc = folio_mapcount(k, folio);
    if (mm.refcount(folio) < mc) errs.push(`folio ${folio}: refcount ${mm.refcount(folio)} < mapcount ${mc}`);
    // each pin of a large folio also holds a reference (try_grab_folio())
    if (mm.order(folio) > 0 && folio_pincount(k, folio) > mm.refcount(folio))
      errs.push(`folio ${folio}: _pincount ${folio_pincount(k, folio)} > refcount ${mm.refcount(folio)}`);
  }
  return errs;
}
