/**
 * KSM (mm/ksm.c): ksmd scans VM_MERGEABLE anonymous memory and merges pages
 * of identical content into one write-protected KSM page. The model keeps
 * ksmd's structure — a stable tree of KSM pages, an unstable tree rebuilt
 * every full scan, a checksum that must be unchanged since the previous
 * visit — because the effect of a pin depends on it: write_protect_page()
 * refuses any page with an unexpected reference (a pin, P6) and
 * folio_try_share_anon_rmap_pte() refuses a maybe-pinned exclusive page,
 * so a pinned page never merges and, sitting in the unstable tree, can keep
 * identical neighbours from merging too (gup-semantics.md §3.4).
 *
 * Contents are compared as the model's content word; one ksm_scan() is one
 * full pass over every mergeable page in pid and address order.
 */
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { PTE } from "../include/pgtable.js";
import { VM_MERGEABLE } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import { folio_get, folio_mapcount, folio_maybe_dma_pinned, folio_put, folio_ref_count } from "./folio.js";
import type { MmStruct, VmArea } from "./mm_types.js";
import { pte_lookup } from "./memory.js";
import { folio_remove_rmap_ptes, rmap_add_ptes } from "./rmap.js";

interface RmapItem {
  mm: MmStruct;
  addr: number;
}

/** ksmd's state across scans. */
export class KsmState {
  /** stable tree: content → KSM page */
  readonly stable = new Map<number, number>();
  /** KSM page → its mappings (rmap_items of the stable node) */
  readonly stableRmap = new Map<number, RmapItem[]>();
  /** last checksum per (mm, addr) */
  readonly checksum = new Map<string, number>();
  pages_shared = 0;
  pages_sharing = 0;
  full_scans = 0;
}

const states = new WeakMap<Kernel, KsmState>();
export function ksm_state(k: Kernel): KsmState {
  let s = states.get(k);
  if (!s) states.set(k, (s = new KsmState()));
  return s;
}

/**
 * write_protect_page(): make the PTE read-only and clean, provided nobody
 * but the mappings and ksmd's own reference holds the page, and an
 * exclusive page can be shared (not maybe pinned). Returns success.
 */
function write_protect_page(k: Kernel, mm: MmStruct, addr: number, pfn: number): boolean {
  const pte = pte_lookup(mm, addr);
  if (!pte) return false;
  const [t, i] = pte;
  if (!(t.bits[i] & PTE.PRESENT) || t.pfn[i] !== pfn) return false;
  folio_get(k, pfn); // the reference ksmd holds while it looks at the page
  try {
    const swapped = k.memmap.test(pfn, PG.swapcache) ? 1 : 0;
    if (folio_mapcount(k, pfn) + 1 + swapped !== folio_ref_count(k, pfn)) {
      k.trace.emit("ksm_skip_refcount", "mm/ksm.c: write_protect_page()", {
        mm: mm.id,
        addr,
        pfn,
        pinned: folio_maybe_dma_pinned(k, pfn),
      });
      return false;
    }
    // folio_try_share_anon_rmap_pte(): -EBUSY when maybe pinned
    if (k.memmap.test(pfn, PG.anon_exclusive)) {
      if (folio_maybe_dma_pinned(k, pfn)) return false;
      k.memmap.clear(pfn, PG.anon_exclusive);
    }
    if (t.bits[i] & PTE.DIRTY) k.memmap.set(pfn, PG.dirty);
    t.bits[i] &= ~(PTE.WRITE | PTE.DIRTY);
    return true;
  } finally {
    folio_put(k, pfn);
  }
}

/** replace_page(): map kpage read-only where page was, and drop page. */
function replace_page(k: Kernel, vma: VmArea, addr: number, page: number, kpage: number): void {
  const [t, i] = pte_lookup(vma.vm_mm, addr)!;
  folio_get(k, kpage);
  rmap_add_ptes(k, kpage, kpage, 1, vma);
  t.pfn[i] = kpage;
  t.bits[i] = PTE.PRESENT | PTE.YOUNG;
  folio_remove_rmap_ptes(k, page, page, 1, vma);
  folio_put(k, page);
}

function mergeable_pages(k: Kernel): { vma: VmArea; addr: number; pfn: number }[] {
  const out: { vma: VmArea; addr: number; pfn: number }[] = [];
  const tasks = [...k.tasks.values()].sort((a, b) => a.pid - b.pid);
  const seen = new Set<MmStruct>();
  for (const t of tasks) {
    if (!t.mm || seen.has(t.mm)) continue;
    seen.add(t.mm);
    for (const vma of t.mm.vmas) {
      if (!(vma.vm_flags & VM_MERGEABLE) || !vma.isAnonymous()) continue;
      for (let a = vma.vm_start; a < vma.vm_end; a += PAGE_SIZE) {
        const pte = pte_lookup(t.mm, a);
        if (!pte) continue;
        const [pt, i] = pte;
        if (!(pt.bits[i] & PTE.PRESENT) || pt.bits[i] & PTE.SPECIAL) continue;
        const pfn = pt.pfn[i];
        if (!k.memmap.test(pfn, PG.anon) || k.memmap.order(pfn) > 0) continue;
        out.push({ vma, addr: a, pfn });
      }
    }
  }
  return out;
}

/** One full ksmd pass (ksm_do_scan() over every mm_slot). Returns pages newly merged. */
export function ksm_scan(k: Kernel): number {
  if (!k.config.kconfig.KSM) return 0;
  const s = ksm_state(k);
  const unstable = new Map<number, { vma: VmArea; addr: number; pfn: number }>();
  let merged = 0;
  for (const item of mergeable_pages(k)) {
    const { vma, addr, pfn } = item;
    if (k.memmap.test(pfn, PG.ksm)) continue;
    const content = k.memmap.content(pfn);
    // stable_tree_search()
    const kpage = s.stable.get(content);
    if (kpage !== undefined && k.memmap.content(kpage) === content) {
      if (write_protect_page(k, vma.vm_mm, addr, pfn)) {
        replace_page(k, vma, addr, pfn, kpage);
        s.stableRmap.get(kpage)!.push({ mm: vma.vm_mm, addr });
        s.pages_sharing++;
        merged++;
        k.trace.emit("ksm_merge", "mm/ksm.c: try_to_merge_with_ksm_page()", {
          mm: vma.vm_mm.id,
          addr,
          into: kpage,
        });
        continue;
      }
    }
    // the checksum must be unchanged since the previous visit
    const key = `${vma.vm_mm.id}:${addr}`;
    const last = s.checksum.get(key);
    s.checksum.set(key, content);
    if (last !== content) continue;
    // unstable_tree_search_insert()
    const tree = unstable.get(content);
    if (!tree) {
      unstable.set(content, item);
      continue;
    }
    // try_to_merge_two_pages(): this page becomes the KSM page, then the tree page merges into it
    if (!write_protect_page(k, vma.vm_mm, addr, pfn)) continue;
    if (!write_protect_page(k, tree.vma.vm_mm, tree.addr, tree.pfn)) {
      // break_cow(): the first page stays an ordinary (now shared-looking) anon page
      k.trace.emit("ksm_merge_failed", "mm/ksm.c: try_to_merge_two_pages()", {
        mm: tree.vma.vm_mm.id,
        addr: tree.addr,
      });
      continue;
    }
    k.memmap.set(pfn, PG.ksm);
    replace_page(k, tree.vma, tree.addr, tree.pfn, pfn);
    unstable.delete(content);
    s.stable.set(content, pfn);
    s.stableRmap.set(pfn, [
      { mm: vma.vm_mm, addr },
      { mm: tree.vma.vm_mm, addr: tree.addr },
    ]);
    s.pages_shared++;
    s.pages_sharing++;
    merged += 2;
    k.trace.emit("ksm_merge", "mm/ksm.c: try_to_merge_two_pages()", { mm: vma.vm_mm.id, addr, into: pfn });
  }
  // forget KSM pages nobody maps any more
  for (const [content, kp] of s.stable)
    if (k.memmap.refcount(kp) === 0 || !k.memmap.test(kp, PG.ksm)) {
      s.stable.delete(content);
      s.stableRmap.delete(kp);
    }
  s.full_scans++;
  return merged;
}
