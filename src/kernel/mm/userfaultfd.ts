/**
 * UFFDIO_MOVE (mm/userfaultfd.c: move_pages(), move_pages_pte(),
 * move_present_pte()): move anonymous pages between addresses by remapping
 * them, without copying. A source folio that is maybe pinned or not
 * exclusive cannot be moved (-EBUSY); a large folio is split first, which a
 * pin also prevents. Registration of the ranges with a userfaultfd is taken
 * as given: both ranges must be private anonymous memory.
 */
import { EBUSY, EEXIST, EINVAL, ENOENT } from "../include/errno.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import { VM_SHARED } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { folio_maybe_dma_pinned, PageAnonExclusive } from "./folio.js";
import { __split_huge_pmd, split_folio } from "./huge_memory.js";
import { set_pte } from "./memory.js";
import type { MmStruct, VmArea } from "./mm_types.js";
import { PMD_SIZE, pmd_index, pte_index } from "./pgtable.js";
import { anon_vma_prepare } from "./rmap.js";

/** include/uapi/linux/userfaultfd.h */
export const UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES = 1 << 1;

export interface UffdMoveResult {
  /** 0, or -errno of the page that stopped the move */
  ret: number;
  /** uffdio_move.move: bytes moved before it stopped */
  moved: number;
}

function anonPrivate(v: VmArea | null): v is VmArea {
  return v !== null && v.isAnonymous() && !(v.vm_flags & VM_SHARED);
}

export function uffdio_move(
  k: Kernel,
  mm: MmStruct,
  dst: number,
  src: number,
  len: number,
  mode: number,
): UffdMoveResult {
  if (dst % PAGE_SIZE || src % PAGE_SIZE || len % PAGE_SIZE || len <= 0) return { ret: -EINVAL, moved: 0 };
  if (src < dst + len && dst < src + len) return { ret: -EINVAL, moved: 0 };
  let moved = 0;
  for (let off = 0; off < len; off += PAGE_SIZE) {
    const r = move_one(k, mm, dst + off, src + off, mode);
    if (r < 0) {
      k.trace.emit("uffd_move_failed", "mm/userfaultfd.c: move_pages_pte()", {
        mm: mm.id,
        src: src + off,
        err: r,
      });
      return { ret: r, moved };
    }
    moved += PAGE_SIZE;
  }
  return { ret: 0, moved };
}

function move_one(k: Kernel, mm: MmStruct, dst: number, src: number, mode: number): number {
  const sv = mm.vma_lookup(src);
  const dv = mm.vma_lookup(dst);
  if (!anonPrivate(sv) || !anonPrivate(dv)) return -EINVAL;
  // a PMD-mapped THP is split (split_huge_pmd) before moving pages out of it
  const spmd = mm.pgtables.pmdTable(src, false);
  if (spmd && spmd.bits[pmd_index(src)] & PTE.LEAF)
    __split_huge_pmd(k, sv, Math.floor(src / PMD_SIZE) * PMD_SIZE);
  const st = mm.pgtables.pteTable(src, false);
  const si = pte_index(src);
  const dt = mm.pgtables.pteTable(dst, true);
  if (!dt) return -EINVAL;
  const di = pte_index(dst);
  if (dt.bits[di] !== 0) return -EEXIST;
  if (!st || st.bits[si] === 0) return mode & UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ? 0 : -ENOENT;
  const bits = st.bits[si];
  const pfn = st.pfn[si];
  if (bits & PTE.SPECIAL) {
    // move_zeropage_pte()
    set_pte(dt, di, pfn, bits);
    set_pte(st, si, 0, 0);
    return 0;
  }
  let folio = k.memmap.head(pfn);
  if (!k.memmap.test(folio, PG.anon) || !PageAnonExclusive(k, pfn)) return -EBUSY;
  if (k.memmap.order(folio) > 0) {
    if (split_folio(k, folio) < 0) return -EBUSY;
    folio = pfn;
  }
  if (folio_maybe_dma_pinned(k, folio)) return -EBUSY;
  // move_present_pte(): the folio now belongs to the destination VMA
  anon_vma_prepare(k, dv);
  k.memmap.setMapping(folio, dv.anon_vma!.id);
  k.memmap.setIndex(folio, dv.pgoffOf(dst));
  set_pte(dt, di, pfn, bits);
  set_pte(st, si, 0, 0);
  return 0;
}
