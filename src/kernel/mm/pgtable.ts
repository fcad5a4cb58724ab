/**
 * Page tables: a 4-level x86-64 radix (PGD → PUD → PMD → PTE), 512 entries per
 * level, each table a pair of typed arrays (pfn, bits). PMD and PUD entries
 * are either a pointer to the next table or a leaf (PTE.LEAF: a THP, hugetlb
 * or huge zero mapping). Address arithmetic stays in doubles because user
 * addresses are 47 bits wide.
 */
import { PAGE_SIZE } from "../include/mmzone.js";
import { PTE } from "../include/pgtable.js";

export const PTRS_PER_TABLE = 512;
export const PMD_SIZE = PAGE_SIZE * PTRS_PER_TABLE; // 2 MiB
export const PUD_SIZE = PMD_SIZE * PTRS_PER_TABLE; // 1 GiB
export const PGDIR_SIZE = PUD_SIZE * PTRS_PER_TABLE; // 512 GiB
/** x86-64 4-level: TASK_SIZE_MAX = 2^47 - PAGE_SIZE */
export const TASK_SIZE = 2 ** 47 - PAGE_SIZE;

/** Bytes of one table: 512 × (u32 pfn + u16 bits). */
export const TABLE_BYTES = PTRS_PER_TABLE * 6;

export class PteTable {
  readonly pfn = new Uint32Array(PTRS_PER_TABLE);
  readonly bits = new Uint16Array(PTRS_PER_TABLE);
  /** entries that are not pte_none() */
  used = 0;
}

export class PmdTable {
  readonly pte: (PteTable | null)[] = new Array<PteTable | null>(PTRS_PER_TABLE).fill(null);
  readonly pfn = new Uint32Array(PTRS_PER_TABLE);
  readonly bits = new Uint16Array(PTRS_PER_TABLE);
}

export class PudTable {
  readonly pmd: (PmdTable | null)[] = new Array<PmdTable | null>(PTRS_PER_TABLE).fill(null);
  readonly pfn = new Uint32Array(PTRS_PER_TABLE);
  readonly bits = new Uint16Array(PTRS_PER_TABLE);
}

export function pgd_index(addr: number): number {
  return Math.floor(addr / PGDIR_SIZE) % PTRS_PER_TABLE;
}
export function pud_index(addr: number): number {
  // ToInt32 keeps the low 32 bits, a multiple of 512: the low 9 bits are exact
  return Math.floor(addr / PUD_SIZE) & (PTRS_PER_TABLE - 1);
}
export function pmd_index(addr: number): number {
  // ToInt32 keeps the low 32 bits, a multiple of 512: the low 9 bits are exact
  return Math.floor(addr / PMD_SIZE) & (PTRS_PER_TABLE - 1);
}
export function pte_index(addr: number): number {
  // ToInt32 keeps the low 32 bits, a multiple of 512: the low 9 bits are exact
  return Math.floor(addr / PAGE_SIZE) & (PTRS_PER_TABLE - 1);
}

export function pte_present(bits: number): boolean {
  return (bits & PTE.PRESENT) !== 0;
}
export function pte_none(bits: number): boolean {
  return bits === 0;
}
export function pte_write(bits: number): boolean {
  return (bits & PTE.WRITE) !== 0;
}

/** The page tables of one mm. */
export class PageTables {
  readonly pgd: (PudTable | null)[] = new Array<PudTable | null>(PTRS_PER_TABLE).fill(null);
  private nrTables = 0;

  bytes(): number {
    return this.nrTables * TABLE_BYTES;
  }

  /** pud_offset(): the PUD table covering addr. */
  pudTable(addr: number, alloc: boolean): PudTable | null {
    const i = pgd_index(addr);
    let t = this.pgd[i];
    if (!t && alloc) {
      t = this.pgd[i] = new PudTable();
      this.nrTables++;
    }
    return t;
  }

  /** pmd_offset(): the PMD table covering addr; null if absent or under a PUD leaf. */
  pmdTable(addr: number, alloc: boolean): PmdTable | null {
    const pud = this.pudTable(addr, alloc);
    if (!pud) return null;
    const i = pud_index(addr);
    if (pud.bits[i] & PTE.LEAF) return null;
    let t = pud.pmd[i];
    if (!t && alloc) {
      t = pud.pmd[i] = new PmdTable();
      this.nrTables++;
    }
    return t;
  }

  /** pte_offset_map(): the PTE table covering addr; null if absent or under a huge leaf. */
  pteTable(addr: number, alloc: boolean): PteTable | null {
    const pmd = this.pmdTable(addr, alloc);
    if (!pmd) return null;
    const i = pmd_index(addr);
    if (pmd.bits[i] & PTE.LEAF) return null;
    let t = pmd.pte[i];
    if (!t && alloc) {
      t = pmd.pte[i] = new PteTable();
      this.nrTables++;
    }
    return t;
  }

  /** Install a fresh PTE table under a PMD (split of a PMD leaf). */
  installPteTable(pmd: PmdTable, i: number, t: PteTable): void {
    if (!pmd.pte[i]) this.nrTables++;
    pmd.pte[i] = t;
  }

  /** free_pte_range(): drop an empty PTE table. */
  freePteTable(pmd: PmdTable, i: number): void {
    if (pmd.pte[i]) {
      pmd.pte[i] = null;
      this.nrTables--;
    }
  }

  /** Visit every non-none PTE in [start, end): fn(addr, table, index). */
  forEachPte(start: number, end: number, fn: (addr: number, t: PteTable, i: number) => void): void {
    let addr = start;
    while (addr < end) {
      const next = Math.min(end, (Math.floor(addr / PMD_SIZE) + 1) * PMD_SIZE);
      const t = this.pteTable(addr, false);
      if (t) {
        for (let a = addr; a < next; a += PAGE_SIZE) {
          const i = pte_index(a);
          if (t.bits[i] !== 0) fn(a, t, i);
        }
      }
      addr = next;
    }
  }
}
