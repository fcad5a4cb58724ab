/**
 * memfd_pin_folios() (mm/gup.c): pin the page-cache folios of a memfd
 * (shmem or hugetlbfs) directly, without a page-table walk — udmabuf and
 * iommufd's way in. One pin per folio (not per page), always with
 * long-term semantics (memalloc_pin_save() plus the movable check), no
 * mm involved (MMF_HAS_PINNED untouched, [ACCT-10]). Release with
 * unpin_folios() / unpin_folio().
 *
 * A hole of a hugetlb memfd is filled from the pool (memfd_alloc_folio() →
 * alloc_hugetlb_folio_reserve() → hugetlb_add_to_page_cache()).
 */
import { EEXIST, EINVAL, ENOMEM, EAGAIN } from "../include/errno.js";
import { FOLL_PIN } from "../include/foll_flags.js";
import { PAGE_SHIFT } from "../include/mmzone.js";
import type { Kernel } from "../kernel.js";
import type { FsFile } from "../fs/open.js";
import { alloc_file_folio, hugetlb_add_to_page_cache } from "../fs/hugetlbfs.js";
import { page_cache_lookup } from "./filemap.js";
import { folio_put } from "./folio.js";
import { check_and_migrate_movable_folios, memalloc_pin_restore, memalloc_pin_save } from "./gup_longterm.js";
import { gup_set_page, type GupPages, try_grab_folio, unpin_folios } from "./gup_refs.js";
import { NIL } from "./memmap.js";
import { SGP_CACHE, shmem_get_folio } from "./shmem.js";

/**
 * filemap_get_folios_contig(): the folios caching [*start, end] up to the
 * first hole, in order; *start moves past the last one found.
 */
function filemap_get_folios_contig(k: Kernel, file: FsFile, start: { value: number }, end: number): number[] {
  const mapping = file.inode!.mapping;
  const out: number[] = [];
  let idx = start.value;
  while (idx <= end) {
    const f = page_cache_lookup(mapping, idx);
    if (f === NIL) break;
    out.push(f);
    idx = k.memmap.index(f) + (1 << k.memmap.order(f));
  }
  start.value = idx;
  return out;
}

/** memfd_alloc_folio() (mm/memfd.c): a folio for a hole, with a reference; -errno. */
function memfd_alloc_folio(k: Kernel, file: FsFile, idx: number): number {
  const inode = file.inode!;
  if (inode.sb.type === "hugetlbfs") {
    // a hugetlb memfd: a pool folio added to the page cache at its huge index
    const nr = 1 << inode.hugetlb!.h.order;
    const hidx = Math.floor(idx / nr);
    const folio = alloc_file_folio(k, inode, hidx);
    if (folio === NIL) return -ENOMEM;
    const r = hugetlb_add_to_page_cache(k, inode, folio, hidx);
    if (r) {
      folio_put(k, folio);
      return r;
    }
    return folio;
  }
  return shmem_get_folio(k, inode, idx, SGP_CACHE);
}

/**
 * memfd_pin_folios(memfd, start, end, folios, max_folios, offset): pin the
 * folios covering bytes [start, end] (end inclusive), at most max_folios.
 * Returns the number of folios pinned ([MEMFD-4]) with offset.value the
 * offset of start in the first folio, or -errno:
 *  - -EINVAL ([MEMFD-1]): start < 0, start > end, max_folios 0, no file,
 *    a file that is neither shmem nor hugetlbfs, end ≥ i_size, or a grab failure;
 *  - -ENOMEM: a hole could not be filled, or migration failed.
 * Holes are allocated and inserted into the page cache ([MEMFD-3]);
 * movable folios are migrated and the whole range pinned again.
 */
export function memfd_pin_folios(
  k: Kernel,
  memfd: FsFile | null,
  start: number,
  end: number,
  folios: GupPages,
  max_folios: number,
  offset: { value: number },
): number {
  if (start < 0 || start > end || !max_folios) return -EINVAL;
  if (!memfd || !memfd.inode) return -EINVAL;
  const inode = memfd.inode;
  const type = inode.sb.type;
  if (type !== "tmpfs" && type !== "hugetlbfs") return -EINVAL;
  if (end >= inode.i_size) return -EINVAL;
  // [MEMFD-2]: hugetlbfs indexes by base page of the huge page
  let pgshift = PAGE_SHIFT;
  let horder = 0;
  if (type === "hugetlbfs") {
    const h = inode.hugetlb!.h;
    horder = h.order;
    pgshift = PAGE_SHIFT + h.order;
  }
  const scope = memalloc_pin_save(k);
  let nr_folios = 0;
  let ret = 0;
  try {
    do {
      nr_folios = 0;
      const start_idx = { value: Math.floor(start / 2 ** pgshift) * 2 ** horder };
      const end_idx = Math.floor(end / 2 ** pgshift) * 2 ** horder;
      let held = NIL; // the reference memfd_alloc_folio() returned, dropped on the next round
      while (start_idx.value <= end_idx && nr_folios < max_folios) {
        const found = filemap_get_folios_contig(k, memfd, start_idx, end_idx);
        if (held !== NIL) {
          folio_put(k, held);
          held = NIL;
        }
        for (const folio of found) {
          if (try_grab_folio(k, folio, 1, FOLL_PIN)) {
            unpin_folios(k, folios, nr_folios);
            return -EINVAL;
          }
          // offset_in_folio(folio, start)
          if (nr_folios === 0) offset.value = start % 2 ** (PAGE_SHIFT + k.memmap.order(folio));
          gup_set_page(folios, nr_folios, folio);
          if (++nr_folios === max_folios) break;
        }
        if (!found.length) {
          const f = memfd_alloc_folio(k, memfd, start_idx.value);
          if (f < 0) {
            if (f !== -EEXIST) {
              unpin_folios(k, folios, nr_folios);
              return f;
            }
          } else {
            held = f;
          }
        }
      }
      if (held !== NIL) folio_put(k, held);
      ret = check_and_migrate_movable_folios(k, nr_folios, folios);
    } while (ret === -EAGAIN);
  } finally {
    memalloc_pin_restore(k, scope);
  }
  return ret ? ret : nr_folios;
}
