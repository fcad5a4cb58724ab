/**
 * The page cache (mm/filemap.c, include/linux/pagemap.h): folios of a file
 * indexed by page offset in its address_space, the ->fault of ordinary
 * files, buffered read and write.
 *
 * References: the page cache holds one reference per page of a folio
 * (__filemap_add_folio(): folio_ref_add(folio, nr)), fs-private data holds
 * one more (folio_attach_private()), every mapping one, and whoever looked
 * the folio up one until folio_put(). Removing a folio from the cache drops
 * the cache's references; anything else keeps the folio alive as an orphan
 * with a NULL mapping (a pinned folio after truncate, P8).
 *
 * Page cache folios of ordinary files are order 0 and allocated with the
 * mapping's gfp mask (GFP_HIGHUSER_MOVABLE unless the file system says
 * otherwise); hugetlbfs keeps one huge folio per huge index at its first
 * base-page index. Readahead is not modelled: a miss reads one folio.
 */
import { ENOENT, ENOMEM, EEXIST } from "../include/errno.js";
import { VM_FAULT } from "../include/fault.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import type { Kernel } from "../kernel.js";
import { type AddressSpace, folio_file_mapping, type Inode, type ReadResult } from "../fs/inode.js";
import {
  folio_get,
  folio_maybe_dma_pinned,
  folio_mapped,
  folio_nr_pages,
  folio_put,
  folio_put_refs,
  folio_ref_add,
} from "./folio.js";
import { NIL } from "./memmap.js";
import type { VmFault } from "./mm_types.js";
import { folio_mark_dirty } from "./page_writeback.js";

export { filemap_write_and_wait_range } from "./page_writeback.js";

/** include/linux/pagemap.h: fgf_t */
export const FGP_ACCESSED = 0x1;
export const FGP_LOCK = 0x2;
export const FGP_CREAT = 0x4;
export const FGP_WRITE = 0x8;
export const FGP_NOFS = 0x10;
export const FGP_NOWAIT = 0x20;
export const FGP_FOR_MMAP = 0x40;
export const FGP_STABLE = 0x80;
export const FGP_WRITEBEGIN = FGP_LOCK | FGP_WRITE | FGP_CREAT | FGP_STABLE;

/** DIV_ROUND_UP(i_size, PAGE_SIZE): the first page index past EOF. */
export function i_size_pages(inode: Inode): number {
  return Math.ceil(inode.i_size / PAGE_SIZE);
}

// --- fs-private data ------------------------------------------------------------------

/** folio_attach_private(): PG_private, and a reference held by the private data. */
export function folio_attach_private(k: Kernel, folio: number): void {
  if (k.memmap.test(folio, PG.private)) return;
  folio_get(k, folio);
  k.memmap.set(folio, PG.private);
}

/** folio_detach_private(): drop PG_private and its reference. Returns true if there was any. */
export function folio_detach_private(k: Kernel, folio: number): boolean {
  if (!k.memmap.test(folio, PG.private)) return false;
  k.memmap.clear(folio, PG.private);
  folio_put(k, folio);
  return true;
}

// --- insertion and removal --------------------------------------------------------------

/** The folio caching page index, without taking a reference (xa_load()); NIL if none. */
export function page_cache_lookup(mapping: AddressSpace, index: number): number {
  const f = mapping.i_pages.get(index);
  if (f !== undefined) return f;
  const h = mapping.host.hugetlb;
  if (h) {
    // a huge folio covers 2^order indices; its entry sits at the first
    const nr = 1 << h.h.order;
    const g = mapping.i_pages.get(index - (index % nr));
    if (g !== undefined) return g;
  }
  return NIL;
}

/**
 * __filemap_add_folio(): insert a folio at index; the page cache takes
 * folio_nr_pages() references and the folio gets mapping and index.
 * Returns 0 or -EEXIST.
 */
export function __filemap_add_folio(k: Kernel, mapping: AddressSpace, folio: number, index: number): number {
  if (mapping.i_pages.has(index)) return -EEXIST;
  folio_ref_add(k, folio, folio_nr_pages(k, folio));
  k.memmap.setMapping(folio, mapping.id);
  k.memmap.setIndex(folio, index);
  mapping.i_pages.set(index, folio);
  if (k.trace.enabled)
    k.trace.emit("filemap_add_folio", "mm/filemap.c: __filemap_add_folio()", {
      pfn: folio,
      inode: mapping.id,
      index,
      nr: folio_nr_pages(k, folio),
    });
  return 0;
}

/** filemap_add_folio(): __filemap_add_folio() and folio_add_lru() (unevictable mappings on that list). */
export function filemap_add_folio(k: Kernel, mapping: AddressSpace, folio: number, index: number): number {
  const r = __filemap_add_folio(k, mapping, folio, index);
  if (r) return r;
  k.memmap.set(folio, PG.lru | (mapping.unevictable ? PG.unevictable : 0));
  return 0;
}

/**
 * __filemap_remove_folio() → page_cache_delete(): the folio leaves i_pages
 * and loses its mapping (index is kept: truncation relies on it). A folio
 * still mapped here is a bad page state (filemap_unaccount_folio()).
 */
export function __filemap_remove_folio(k: Kernel, folio: number): void {
  const id = k.memmap.mapping(folio);
  const mapping = folio_file_mapping(k, folio);
  if (!mapping) return;
  const index = k.memmap.index(folio);
  if (folio_mapped(k, folio))
    k.warn(
      "mm/filemap.c: filemap_unaccount_folio()",
      `BUG: Bad page cache: folio ${folio} still mapped when deleted`,
    );
  if (mapping.i_pages.get(index) === folio) mapping.i_pages.delete(index);
  k.memmap.setMapping(folio, 0);
  if (k.trace.enabled)
    k.trace.emit("filemap_remove_folio", "mm/filemap.c: __filemap_remove_folio()", {
      pfn: folio,
      inode: id,
      index,
      pinned: folio_maybe_dma_pinned(k, folio),
    });
}

/** filemap_free_folio(): ->free_folio, then drop the page cache's references. */
export function filemap_free_folio(k: Kernel, mapping: AddressSpace, folio: number): void {
  mapping.a_ops.free_folio?.(k, folio);
  folio_put_refs(k, folio, folio_nr_pages(k, folio));
}

/**
 * filemap_remove_folio(): remove a folio from the page cache and drop the
 * cache's references. The caller holds its own reference, so the folio is
 * not freed here; other holders (pins) keep it alive after the caller's put.
 */
export function filemap_remove_folio(k: Kernel, folio: number): void {
  const mapping = folio_file_mapping(k, folio);
  if (!mapping) return;
  __filemap_remove_folio(k, folio);
  filemap_free_folio(k, mapping, folio);
}

// --- lookup ---------------------------------------------------------------------------

/**
 * __filemap_get_folio(): the folio at index with a reference taken for the
 * caller. With FGP_CREAT a missing folio is allocated (mapping gfp mask),
 * filled by ->read_folio and inserted. Returns the folio's head pfn,
 * -ENOENT (not cached, no FGP_CREAT) or -ENOMEM.
 */
export function __filemap_get_folio(k: Kernel, mapping: AddressSpace, index: number, fgp: number): number {
  let folio = page_cache_lookup(mapping, index);
  if (folio !== NIL) {
    folio_get(k, folio);
    if (fgp & FGP_ACCESSED) k.memmap.set(folio, PG.referenced);
    return folio;
  }
  if (!(fgp & FGP_CREAT)) return -ENOENT;
  folio = k.pa.alloc_pages(mapping.gfp, 0);
  if (folio === NIL) return -ENOMEM;
  // filemap_read_folio(): the model reads before inserting (no one can see the folio meanwhile)
  mapping.a_ops.read_folio(k, mapping, folio, index);
  k.memmap.set(folio, PG.uptodate);
  const r = filemap_add_folio(k, mapping, folio, index);
  if (r) {
    folio_put(k, folio);
    return r;
  }
  if (fgp & FGP_ACCESSED) k.memmap.set(folio, PG.referenced);
  return folio;
}

/** filemap_get_folio(): a cached folio with a reference, or -ENOENT. */
export function filemap_get_folio(k: Kernel, mapping: AddressSpace, index: number): number {
  return __filemap_get_folio(k, mapping, index, 0);
}

/**
 * filemap_fault(): ->fault of ordinary files. A page at or beyond EOF is
 * SIGBUS; a cached folio is returned at once; a miss is a major fault that
 * reads the folio in (no readahead). On success vmf.page is the page with a
 * reference for the caller and the return is 0 (the kernel's
 * VM_FAULT_LOCKED|VM_FAULT_MAJOR are not part of the model's contract).
 */
export function filemap_fault(k: Kernel, inode: Inode, vmf: VmFault): number {
  const index = vmf.pgoff;
  if (index >= i_size_pages(inode)) return VM_FAULT.SIGBUS;
  const mapping = inode.mapping;
  let folio = filemap_get_folio(k, mapping, index);
  let major = false;
  if (folio < 0) {
    k.vmstat.pgmajfault++;
    major = true;
    folio = __filemap_get_folio(k, mapping, index, FGP_CREAT | FGP_FOR_MMAP);
    if (folio < 0) return VM_FAULT.OOM;
  }
  vmf.page = folio;
  if (k.trace.enabled)
    k.trace.emit("filemap_fault", "mm/filemap.c: filemap_fault()", {
      inode: inode.id,
      index,
      pfn: folio,
      major,
      mm: vmf.vma.vm_mm.id,
      addr: vmf.address,
    });
  return 0;
}

// --- read and write ---------------------------------------------------------------------

/**
 * filemap_read(): buffered read of [pos, pos+len) clamped to i_size; every
 * page touched is brought into the page cache. Returns the bytes read and
 * the content word of each page, or -ENOMEM if nothing could be read.
 */
export function filemap_read(k: Kernel, inode: Inode, pos: number, len: number): ReadResult | number {
  const end = Math.min(pos + len, inode.i_size);
  if (pos >= end) return { bytes: 0, contents: [] };
  const contents: number[] = [];
  const first = Math.floor(pos / PAGE_SIZE);
  const last = Math.floor((end - 1) / PAGE_SIZE);
  for (let index = first; index <= last; index++) {
    const folio = __filemap_get_folio(k, inode.mapping, index, FGP_CREAT | FGP_ACCESSED);
    if (folio < 0) {
      if (contents.length === 0) return folio;
      return { bytes: index * PAGE_SIZE - pos, contents };
    }
    contents.push(k.memmap.content(folio + (index - k.memmap.index(folio))));
    folio_put(k, folio);
  }
  return { bytes: end - pos, contents };
}

/**
 * generic_perform_write(): for every page of [pos, pos+len): ->write_begin
 * (find or create the folio, FGP_WRITEBEGIN; the file system attaches its
 * buffers), copy — here: the page's content word becomes `value` — and
 * ->write_end, which marks the folio dirty. i_size grows to cover the
 * write. Returns len, or -ENOMEM if nothing was written.
 */
export function generic_perform_write(
  k: Kernel,
  inode: Inode,
  pos: number,
  len: number,
  value: number,
): number {
  if (len <= 0) return 0;
  const mapping = inode.mapping;
  const first = Math.floor(pos / PAGE_SIZE);
  const last = Math.floor((pos + len - 1) / PAGE_SIZE);
  for (let index = first; index <= last; index++) {
    const folio = __filemap_get_folio(k, mapping, index, FGP_WRITEBEGIN);
    if (folio < 0) {
      if (index === first) return folio;
      return finish_write(inode, pos, index * PAGE_SIZE - pos);
    }
    mapping.a_ops.write_begin?.(k, mapping, folio);
    k.memmap.setContent(folio, value);
    folio_mark_dirty(k, folio);
    folio_put(k, folio);
  }
  return finish_write(inode, pos, len);
}

function finish_write(inode: Inode, pos: number, written: number): number {
  if (pos + written > inode.i_size) inode.i_size = pos + written;
  return written;
}

// --- migration support ---------------------------------------------------------------------

/**
 * __folio_migrate_mapping() for a page-cache folio: dst takes src's slot in
 * i_pages, its mapping, index, dirty bit and fs-private data with their
 * references; src keeps only the caller's references. The caller (mm/migrate)
 * has checked that src's refcount is the expected one and copied the content.
 * Returns 0, or -EAGAIN if src is no longer in the page cache.
 */
export function folio_migrate_mapping(k: Kernel, src: number, dst: number): number {
  const mapping = folio_file_mapping(k, src);
  if (!mapping) return -11; // -EAGAIN
  const mm = k.memmap;
  const index = mm.index(src);
  const nr = folio_nr_pages(k, src);
  folio_ref_add(k, dst, nr);
  mm.setMapping(dst, mapping.id);
  mm.setIndex(dst, index);
  mapping.i_pages.set(index, dst);
  const carry = PG.uptodate | PG.dirty | PG.swapbacked | PG.unevictable;
  mm.set(dst, mm.flags(src) & carry);
  mm.clear(src, PG.dirty);
  if (mm.test(src, PG.private)) {
    // buffer_migrate_folio(): the buffers move with their reference
    folio_attach_private(k, dst);
    mm.clear(src, PG.private);
    mm.addRefcount(src, -1);
  }
  mm.setMapping(src, 0);
  mm.addRefcount(src, -nr);
  return 0;
}
