/**
 * A read-only page-table walk to the entry that maps one address, whatever
 * its level (PTE, PMD leaf, PUD leaf) — what follow_page_mask(),
 * GUP-fast and user accesses share. The result is written to a reused
 * record so hot paths allocate nothing.
 */
import { PAGE_SIZE } from "../include/mmzone.js";
import { PTE } from "../include/pgtable.js";
import type { MmStruct } from "./mm_types.js";
import { PMD_SIZE, PUD_SIZE, pmd_index, pte_index, pud_index } from "./pgtable.js";

export const LEVEL_NONE = 0;
export const LEVEL_PTE = 1;
export const LEVEL_PMD = 2;
export const LEVEL_PUD = 3;

export interface WalkResult {
  /** LEVEL_* of the entry found (NONE: no entry) */
  level: number;
  /** entry bits (PTE.*) */
  bits: number;
  /** pfn of the page mapping addr itself (leaf pfn + offset within the leaf) */
  pfn: number;
  /** pfn stored in the entry (the leaf's first page) */
  entryPfn: number;
}

export const walk: WalkResult = { level: LEVEL_NONE, bits: 0, pfn: 0, entryPfn: 0 };

/** Walk mm's page tables to addr; fills and returns `walk`. */
export function walk_addr(mm: MmStruct, addr: number): WalkResult {
  walk.level = LEVEL_NONE;
  walk.bits = 0;
  walk.pfn = 0;
  walk.entryPfn = 0;
  const pud = mm.pgtables.pudTable(addr, false);
  if (!pud) return walk;
  const ui = pud_index(addr);
  if (pud.bits[ui] & PTE.LEAF) {
    walk.level = LEVEL_PUD;
    walk.bits = pud.bits[ui];
    walk.entryPfn = pud.pfn[ui];
    walk.pfn = walk.entryPfn + Math.floor((addr % PUD_SIZE) / PAGE_SIZE);
    return walk;
  }
  const pmd = pud.pmd[ui];
  if (!pmd) return walk;
  const mi = pmd_index(addr);
  if (pmd.bits[mi] & PTE.LEAF) {
    walk.level = LEVEL_PMD;
    walk.bits = pmd.bits[mi];
    walk.entryPfn = pmd.pfn[mi];
    walk.pfn = walk.entryPfn + Math.floor((addr % PMD_SIZE) / PAGE_SIZE);
    return walk;
  }
  const t = pmd.pte[mi];
  if (!t) return walk;
  const i = pte_index(addr);
  if (t.bits[i] === 0) return walk;
  walk.level = LEVEL_PTE;
  walk.bits = t.bits[i];
  walk.pfn = walk.entryPfn = t.pfn[i];
  return walk;
}
