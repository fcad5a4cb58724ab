/**
 * The GUP/PUP API of Linux 6.18 (mm/gup.c): the exported get_user_pages*()
 * and pin_user_pages*() entry points, get_dump_page(), fixup_user_fault(),
 * and the index of everything else GUP offers (the workers live in
 * gup_slow.ts, gup_fast.ts, gup_longterm.ts; counting and release in
 * gup_refs.ts). Remote access (access_remote_vm(), /proc/PID/mem) is in
 * gup_remote.ts.
 *
 * Each entry point is what the kernel's is: is_valid_gup_args() with its
 * own `to_set` flags, then one worker. Arguments are adapted to the model:
 *
 *   (k, [mm,] start, nr_pages, gup_flags, pages, [locked])
 *
 * `k.current` is `current` (entry points without an mm act on its mm);
 * `pages` receives one pfn per page (null where the kernel allows NULL);
 * `locked` is the kernel's `int *locked` as `{ value }`. The kernel's
 * get_user_pages_unlocked()/pin_user_pages_unlocked() take (start,
 * nr_pages, pages, gup_flags); here they use the common order.
 *
 * Return values are the kernel's: a count (possibly short) or -errno, and
 * for invalid arguments -EINVAL from the get_* family and
 * pin_user_pages_fast() but 0 from pin_user_pages(), pin_user_pages_remote()
 * and pin_user_pages_unlocked() ([ARG-7]).
 */
import { EFAULT, EINTR, EINVAL } from "../include/errno.js";
import { FAULT_FLAG, VM_FAULT, VM_FAULT_ERROR } from "../include/fault.js";
import {
  FOLL_DUMP,
  FOLL_FAST_ONLY,
  FOLL_FORCE,
  FOLL_GET,
  FOLL_LONGTERM,
  FOLL_PCI_P2PDMA,
  FOLL_PIN,
  FOLL_REMOTE,
  FOLL_TOUCH,
  FOLL_UNLOCKABLE,
  formatFoll,
  INTERNAL_GUP_FLAGS,
} from "../include/foll_flags.js";
import { VM_READ, VM_WRITE } from "../include/vm_flags.js";
import { PinlabError } from "../errors.js";
import type { Kernel } from "../kernel.js";
import { gup_fast_fallback } from "./gup_fast.js";
import { __gup_longterm_locked } from "./gup_longterm.js";
import { type GupPages, PAGE_NULL } from "./gup_refs.js";
import { __get_user_pages_locked, type GupLocked, gup_vma_lookup, vm_fault_to_errno } from "./gup_slow.js";
import { handle_mm_fault } from "./memory.js";
import type { MmStruct } from "./mm_types.js";

export type { GupPages } from "./gup_refs.js";
export type { GupLocked } from "./gup_slow.js";
export {
  folio_add_pin,
  folio_add_pins,
  folio_is_longterm_pinnable,
  gup_must_unshare,
  gup_put_folio,
  is_zero_pfn,
  PAGE_NULL,
  put_page,
  put_user_pages,
  try_grab_folio,
  try_grab_folio_fast,
  unpin_folio,
  unpin_folios,
  unpin_user_folio,
  unpin_user_page,
  unpin_user_page_range_dirty_lock,
  unpin_user_pages,
  unpin_user_pages_dirty_lock,
} from "./gup_refs.js";
export {
  __get_user_pages,
  __get_user_pages_locked,
  check_vma_flags,
  vma_needs_dirty_tracking,
  writable_file_mapping_allowed,
} from "./gup_slow.js";
export { FOLLOW_NULL, follow_page_mask } from "./gup_follow.js";
export { gup_fast, gup_fast_fallback, gup_fast_folio_allowed, GUP_FAST_FLAGS } from "./gup_fast.js";
export {
  __gup_longterm_locked,
  check_and_migrate_movable_folios,
  check_and_migrate_movable_pages,
  memalloc_pin_restore,
  memalloc_pin_save,
} from "./gup_longterm.js";

const WHERE_ARGS = "mm/gup.c: is_valid_gup_args()";

/**
 * is_valid_gup_args() ([ARG-1] … [ARG-6]): the flags the caller may pass,
 * plus `to_set`, plus FOLL_UNLOCKABLE when a `locked` is given. Returns the
 * updated flags, or -1 after a WARN_ON_ONCE (each rule is its own
 * WARN_ON_ONCE site).
 */
export function is_valid_gup_args(
  k: Kernel,
  pages: GupPages | null,
  locked: GupLocked | null | undefined,
  gup_flags: number,
  to_set: number,
): number {
  // FOLL_TOUCH/PIN/TRIED/FAST_ONLY/REMOTE/UNLOCKABLE/MADV_POPULATE are internal
  if (gup_flags & INTERNAL_GUP_FLAGS) {
    k.warn(`${WHERE_ARGS} [ARG-1]`, `internal flags passed: ${formatFoll(gup_flags & INTERNAL_GUP_FLAGS)}`);
    return -1;
  }
  gup_flags |= to_set;
  if (locked) {
    // at the external interface *locked must be 1
    if (locked.value !== 1) {
      k.warn(`${WHERE_ARGS} [ARG-2]`, `*locked is ${locked.value}, not 1`);
      return -1;
    }
    gup_flags |= FOLL_UNLOCKABLE;
  }
  if ((gup_flags & (FOLL_PIN | FOLL_GET)) === (FOLL_PIN | FOLL_GET)) {
    k.warn(`${WHERE_ARGS} [ARG-3]`, "FOLL_GET and FOLL_PIN are mutually exclusive");
    return -1;
  }
  if (!(gup_flags & FOLL_PIN) && gup_flags & FOLL_LONGTERM) {
    k.warn(`${WHERE_ARGS} [ARG-4]`, "FOLL_LONGTERM can only be specified when pinning");
    return -1;
  }
  if (gup_flags & (FOLL_GET | FOLL_PIN) && !pages) {
    k.warn(`${WHERE_ARGS} [ARG-5]`, "pages must be given with FOLL_GET/FOLL_PIN");
    return -1;
  }
  if (gup_flags & FOLL_LONGTERM && gup_flags & FOLL_PCI_P2PDMA) {
    // the pgmap must stay hot-unpluggable
    k.warn(`${WHERE_ARGS} [ARG-6]`, "FOLL_LONGTERM with FOLL_PCI_P2PDMA");
    return -1;
  }
  return gup_flags;
}

// --- argument hygiene of the TypeScript API (misuse throws) -------------------------------

function currentMm(k: Kernel, fn: string): MmStruct {
  const t = k.current;
  if (!t || !t.mm)
    throw new PinlabError(`${fn}: no current process with an mm; call it inside k.asTask(task, ...)`);
  return t.mm;
}

/** An unsigned long (user addresses above 2^53 lose their low bits in a double: page granularity is kept up to 2^64). */
function isAddress(a: number): boolean {
  return Number.isInteger(a) && a >= 0 && a < 2 ** 64;
}

/** Slow-path counts are unsigned long: the model refuses negative or fractional ones. */
function checkSlowArgs(fn: string, start: number, nr_pages: number, pages: GupPages | null): void {
  if (!isAddress(start)) throw new PinlabError(`${fn}: start ${start} is not an address`);
  if (!Number.isSafeInteger(nr_pages) || nr_pages < 0)
    throw new PinlabError(`${fn}: nr_pages ${nr_pages} must be a whole number ≥ 0`);
  if (pages && pages.length < nr_pages)
    throw new PinlabError(
      `${fn}: the page array holds ${pages.length} entries, fewer than nr_pages=${nr_pages}`,
    );
}

/** Fast-path counts are int: negative ones are meaningful ([ARG-10]). */
function checkFastArgs(fn: string, start: number, nr_pages: number): void {
  if (!isAddress(start)) throw new PinlabError(`${fn}: start ${start} is not an address`);
  if (!Number.isInteger(nr_pages) || nr_pages < -(2 ** 31) || nr_pages >= 2 ** 31)
    throw new PinlabError(`${fn}: nr_pages ${nr_pages} is not an int`);
}

function traceCall(
  k: Kernel,
  api: string,
  mm: MmStruct,
  start: number,
  nr: number,
  flags: number,
  ret: number,
): void {
  k.trace.emit(flags & FOLL_PIN ? "gup_pin" : "gup_get", `mm/gup.c: ${api}()`, {
    api,
    mm: mm.id,
    start,
    nr_pages: nr,
    flags: formatFoll(flags),
    ret,
  });
}

// --- the get_* family (FOLL_GET references) ----------------------------------------------

/**
 * get_user_pages_remote(): references to pages of another mm (FOLL_TOUCH |
 * FOLL_REMOTE, FOLL_GET when pages is given). The caller holds mm's lock;
 * with `locked` (which must be 1) GUP may drop it and reports that with
 * locked.value = 0. Returns the count (≥ 1, possibly short), -errno, or
 * -EINVAL for invalid arguments. Release with put_page().
 */
export function get_user_pages_remote(
  k: Kernel,
  mm: MmStruct,
  start: number,
  nr_pages: number,
  gup_flags: number,
  pages: GupPages | null,
  locked: GupLocked | null = null,
): number {
  checkSlowArgs("get_user_pages_remote", start, nr_pages, pages);
  const flags = is_valid_gup_args(k, pages, locked, gup_flags, FOLL_TOUCH | FOLL_REMOTE);
  if (flags < 0) return -EINVAL;
  const ret = __get_user_pages_locked(k, mm, start, nr_pages, pages, 0, locked ?? { value: 1 }, flags);
  if (k.trace.enabled) traceCall(k, "get_user_pages_remote", mm, start, nr_pages, flags, ret);
  return ret;
}

/**
 * get_user_pages(): references to pages of current's mm, whose lock the
 * caller holds and which is never dropped. Returns the count or -errno
 * (-EINVAL for invalid arguments).
 */
export function get_user_pages(
  k: Kernel,
  start: number,
  nr_pages: number,
  gup_flags: number,
  pages: GupPages | null,
): number {
  checkSlowArgs("get_user_pages", start, nr_pages, pages);
  const mm = currentMm(k, "get_user_pages");
  const flags = is_valid_gup_args(k, pages, null, gup_flags, FOLL_TOUCH);
  if (flags < 0) return -EINVAL;
  const ret = __get_user_pages_locked(k, mm, start, nr_pages, pages, 0, { value: 1 }, flags);
  if (k.trace.enabled) traceCall(k, "get_user_pages", mm, start, nr_pages, flags, ret);
  return ret;
}

/**
 * get_user_pages_unlocked(): like get_user_pages(), but GUP takes and
 * releases current's mmap_lock itself (FOLL_TOUCH | FOLL_UNLOCKABLE).
 */
export function get_user_pages_unlocked(
  k: Kernel,
  start: number,
  nr_pages: number,
  gup_flags: number,
  pages: GupPages | null,
): number {
  checkSlowArgs("get_user_pages_unlocked", start, nr_pages, pages);
  const mm = currentMm(k, "get_user_pages_unlocked");
  const flags = is_valid_gup_args(k, pages, null, gup_flags, FOLL_TOUCH | FOLL_UNLOCKABLE);
  if (flags < 0) return -EINVAL;
  const ret = __get_user_pages_locked(k, mm, start, nr_pages, pages, 0, { value: 0 }, flags);
  if (k.trace.enabled) traceCall(k, "get_user_pages_unlocked", mm, start, nr_pages, flags, ret);
  return ret;
}

/**
 * get_user_pages_fast(): references without mmap_lock where possible,
 * falling back to the slow path for the rest. Returns the count, -errno,
 * -EINVAL for invalid arguments or flags outside the fast set ([ARG-8]),
 * -EOVERFLOW / -EFAULT for bad ranges ([ARG-10]).
 */
export function get_user_pages_fast(
  k: Kernel,
  start: number,
  nr_pages: number,
  gup_flags: number,
  pages: GupPages,
): number {
  checkFastArgs("get_user_pages_fast", start, nr_pages);
  // the caller may or may not set FOLL_GET; GUP-fast always takes references
  const flags = is_valid_gup_args(k, pages, null, gup_flags, FOLL_GET);
  if (flags < 0) return -EINVAL;
  const ret = gup_fast_fallback(k, start, nr_pages, flags, pages);
  if (k.trace.enabled)
    traceCall(k, "get_user_pages_fast", currentMm(k, "get_user_pages_fast"), start, nr_pages, flags, ret);
  return ret;
}

/**
 * get_user_pages_fast_only(): the lockless walk only (FOLL_FAST_ONLY): never
 * faults, never sleeps, never falls back. Returns the prefix it took (0 …
 * nr_pages); only argument and range errors are negative ([FAST-2], §11.6).
 */
export function get_user_pages_fast_only(
  k: Kernel,
  start: number,
  nr_pages: number,
  gup_flags: number,
  pages: GupPages,
): number {
  checkFastArgs("get_user_pages_fast_only", start, nr_pages);
  const flags = is_valid_gup_args(k, pages, null, gup_flags, FOLL_GET | FOLL_FAST_ONLY);
  if (flags < 0) return -EINVAL;
  return gup_fast_fallback(k, start, nr_pages, flags, pages);
}

/** get_user_page_fast_only() (include/linux/mm.h): true iff exactly one page was taken. */
export function get_user_page_fast_only(
  k: Kernel,
  addr: number,
  gup_flags: number,
  pagep: GupPages,
): boolean {
  return get_user_pages_fast_only(k, addr, 1, gup_flags, pagep) === 1;
}

// --- the pin_* family (FOLL_PIN pins) -------------------------------------------------------

/**
 * pin_user_pages_fast(): pins without mmap_lock where possible (FOLL_PIN),
 * the rest through the slow path (with FOLL_LONGTERM migration). Returns
 * the count, -errno, and -EINVAL — not 0 — for invalid arguments ([ARG-7]).
 * Release with unpin_user_pages().
 */
export function pin_user_pages_fast(
  k: Kernel,
  start: number,
  nr_pages: number,
  gup_flags: number,
  pages: GupPages,
): number {
  checkFastArgs("pin_user_pages_fast", start, nr_pages);
  const flags = is_valid_gup_args(k, pages, null, gup_flags, FOLL_PIN);
  if (flags < 0) return -EINVAL;
  const ret = gup_fast_fallback(k, start, nr_pages, flags, pages);
  if (k.trace.enabled)
    traceCall(k, "pin_user_pages_fast", currentMm(k, "pin_user_pages_fast"), start, nr_pages, flags, ret);
  return ret;
}

/**
 * pin_user_pages_remote(): pins in another mm (FOLL_PIN | FOLL_TOUCH |
 * FOLL_REMOTE), lock contract as get_user_pages_remote(). Returns the
 * count, -errno, or 0 for invalid arguments ([ARG-7]).
 */
export function pin_user_pages_remote(
  k: Kernel,
  mm: MmStruct,
  start: number,
  nr_pages: number,
  gup_flags: number,
  pages: GupPages | null,
  locked: GupLocked | null = null,
): number {
  checkSlowArgs("pin_user_pages_remote", start, nr_pages, pages);
  const flags = is_valid_gup_args(k, pages, locked, gup_flags, FOLL_PIN | FOLL_TOUCH | FOLL_REMOTE);
  if (flags < 0) return 0;
  const ret = __gup_longterm_locked(k, mm, start, nr_pages, pages, 0, locked ?? { value: 1 }, flags);
  if (k.trace.enabled) traceCall(k, "pin_user_pages_remote", mm, start, nr_pages, flags, ret);
  return ret;
}

/**
 * pin_user_pages(): pins in current's mm, lock held by the caller and never
 * dropped. No FOLL_TOUCH. Returns the count, -errno, or 0 for invalid
 * arguments ([ARG-7]).
 */
export function pin_user_pages(
  k: Kernel,
  start: number,
  nr_pages: number,
  gup_flags: number,
  pages: GupPages | null,
): number {
  checkSlowArgs("pin_user_pages", start, nr_pages, pages);
  const mm = currentMm(k, "pin_user_pages");
  const flags = is_valid_gup_args(k, pages, null, gup_flags, FOLL_PIN);
  if (flags < 0) return 0;
  const ret = __gup_longterm_locked(k, mm, start, nr_pages, pages, 0, { value: 1 }, flags);
  if (k.trace.enabled) traceCall(k, "pin_user_pages", mm, start, nr_pages, flags, ret);
  return ret;
}

/**
 * pin_user_pages_unlocked(): pin_user_pages() taking and releasing the lock
 * itself (FOLL_PIN | FOLL_TOUCH | FOLL_UNLOCKABLE). 0 for invalid arguments.
 */
export function pin_user_pages_unlocked(
  k: Kernel,
  start: number,
  nr_pages: number,
  gup_flags: number,
  pages: GupPages | null,
): number {
  checkSlowArgs("pin_user_pages_unlocked", start, nr_pages, pages);
  const mm = currentMm(k, "pin_user_pages_unlocked");
  const flags = is_valid_gup_args(k, pages, null, gup_flags, FOLL_PIN | FOLL_TOUCH | FOLL_UNLOCKABLE);
  if (flags < 0) return 0;
  const ret = __gup_longterm_locked(k, mm, start, nr_pages, pages, 0, { value: 0 }, flags);
  if (k.trace.enabled) traceCall(k, "pin_user_pages_unlocked", mm, start, nr_pages, flags, ret);
  return ret;
}

// --- core dumps and fault fix-ups -------------------------------------------------------------

/**
 * get_dump_page(): one page of current's mm for a core dump
 * (FOLL_FORCE | FOLL_DUMP | FOLL_GET), or PAGE_NULL for a hole: an empty
 * anonymous entry, the zero page or huge zero folio, any special pfn, an
 * unreadable VMA. With locked.value 0 GUP takes and releases the lock.
 * Release the page with put_page().
 */
export function get_dump_page(k: Kernel, addr: number, locked: GupLocked): number {
  const mm = currentMm(k, "get_dump_page");
  const page: number[] = [PAGE_NULL];
  const ret = __get_user_pages_locked(k, mm, addr, 1, page, 0, locked, FOLL_FORCE | FOLL_DUMP | FOLL_GET);
  return ret === 1 ? page[0] : PAGE_NULL;
}

/**
 * fixup_user_fault(): resolve one fault the way the hardware fault path
 * would (futexes). With `unlocked` the fault may retry (ALLOW_RETRY |
 * KILLABLE) and unlocked.value becomes 1 if the lock was dropped on the
 * way. Returns 0 or -errno; never returns with the lock released.
 */
export function fixup_user_fault(
  k: Kernel,
  mm: MmStruct,
  address: number,
  fault_flags: number,
  unlocked: GupLocked | null,
): number {
  if (unlocked) fault_flags |= FAULT_FLAG.ALLOW_RETRY | FAULT_FLAG.KILLABLE;
  for (let rounds = 0; rounds < 64; rounds++) {
    const vma = gup_vma_lookup(k, mm, address);
    if (!vma) return -EFAULT;
    // vma_permits_fault(): VM_WRITE for a write, VM_READ otherwise (no pkeys in the model)
    if (!(vma.vm_flags & (fault_flags & FAULT_FLAG.WRITE ? VM_WRITE : VM_READ))) return -EFAULT;
    if (fault_flags & FAULT_FLAG.KILLABLE && k.current?.fatalSignal) return -EINTR;
    const ret = handle_mm_fault(k, vma, address, fault_flags);
    if (ret & VM_FAULT.COMPLETED) {
      if (unlocked) unlocked.value = 1;
      return 0;
    }
    if (ret & VM_FAULT_ERROR) {
      const err = vm_fault_to_errno(ret, 0);
      if (err) return err;
      k.bug("mm/gup.c: fixup_user_fault()", `fault returned 0x${ret.toString(16)} with no errno`);
      return -EFAULT;
    }
    if (!(ret & VM_FAULT.RETRY)) return 0;
    if (unlocked) unlocked.value = 1;
    fault_flags |= FAULT_FLAG.TRIED;
  }
  k.warn("mm/gup.c: fixup_user_fault()", "model: VM_FAULT_RETRY without end");
  return -EFAULT;
}
