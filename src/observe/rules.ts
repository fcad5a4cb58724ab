/**
 * The kernel rules the model implements, for `pinlab explain` and for
 * anyone who wants to know where a decision is made: the generated index
 * (rule_table.ts, built from src/kernel by rule_extract.ts), the spec's
 * rule identifiers (spec_rules.ts) and the errnos' meanings, with lookups
 * by function, errno, spec rule, trace event and kernel file.
 */
import { ERRNO } from "../kernel/include/errno.js";
import type { KernelRule } from "./rule_extract.js";
import { RULE_TABLE } from "./rule_table.js";
import { SPEC_ERRNOS, SPEC_RULES, type SpecRule } from "./spec_rules.js";

export type { KernelRule, SpecRule };
export { RULE_TABLE, SPEC_ERRNOS, SPEC_RULES };

/** strerror() of each errno the model uses (glibc's wording). */
export const ERRNO_TEXT: { readonly [E in keyof typeof ERRNO]: string } = {
  EPERM: "Operation not permitted",
  ENOENT: "No such file or directory",
  ESRCH: "No such process",
  EINTR: "Interrupted system call",
  EIO: "Input/output error",
  ENXIO: "No such device or address",
  E2BIG: "Argument list too long",
  EBADF: "Bad file descriptor",
  ECHILD: "No child processes",
  EAGAIN: "Resource temporarily unavailable",
  ENOMEM: "Cannot allocate memory",
  EACCES: "Permission denied",
  EFAULT: "Bad address",
  EBUSY: "Device or resource busy",
  EEXIST: "File exists",
  EXDEV: "Invalid cross-device link",
  ENODEV: "No such device",
  ENOTDIR: "Not a directory",
  EISDIR: "Is a directory",
  EINVAL: "Invalid argument",
  ENFILE: "Too many open files in system",
  EMFILE: "Too many open files",
  ENOTTY: "Inappropriate ioctl for device",
  ETXTBSY: "Text file busy",
  EFBIG: "File too large",
  ENOSPC: "No space left on device",
  ESPIPE: "Illegal seek",
  EROFS: "Read-only file system",
  EPIPE: "Broken pipe",
  ERANGE: "Numerical result out of range",
  EDEADLK: "Resource deadlock avoided",
  ENAMETOOLONG: "File name too long",
  ENOSYS: "Function not implemented",
  EOVERFLOW: "Value too large for defined data type",
  EOPNOTSUPP: "Operation not supported",
  ENOBUFS: "No buffer space available",
  ETIMEDOUT: "Connection timed out",
  EHWPOISON: "Memory page has hardware error",
};

/**
 * The compact rules P1–P10 of gup-semantics.md §8 summarise behaviour that
 * the model implements across many functions, most of which cite the
 * detailed rules instead: the functions where each is decided.
 */
export const P_RULE_FUNCTIONS: Readonly<Record<string, readonly string[]>> = {
  P1: ["try_grab_folio", "folio_maybe_dma_pinned"],
  P2: ["gup_must_unshare", "do_wp_page", "wp_page_copy"],
  P3: ["folio_needs_cow_for_dma", "copy_present_page", "copy_hugetlb_page_range", "write_protect_page"],
  P4: ["mm_set_has_pinned_flag", "folio_needs_cow_for_dma"],
  P5: ["__gup_longterm_locked", "check_and_migrate_movable_pages_or_folios", "folio_is_longterm_pinnable"],
  P6: [
    "migrate_folio_to",
    "alloc_contig_range",
    "offline_pages",
    "isolate_migratepages_block",
    "can_split_folio",
  ],
  P7: ["shrink_folio_list", "pageout"],
  P8: ["truncate_inode_folio", "zap_present_ptes", "unmap_mapping_range"],
  P9: ["folio_clear_dirty_for_io", "folio_mkclean", "folio_mark_dirty", "unpin_user_pages_dirty_lock"],
  P10: ["hugetlb_wp", "copy_hugetlb_page_range"],
};

export function isErrnoName(s: string): s is keyof typeof ERRNO {
  return Object.prototype.hasOwnProperty.call(ERRNO, s);
}

/** "mm/memory.c: wp_page_copy()" */
export function ruleName(r: KernelRule): string {
  return r.file ? `${r.file}: ${r.fn}()` : `${r.fn}() (the model's own)`;
}

export const rulesByFunction = (fn: string): KernelRule[] => RULE_TABLE.filter((r) => r.fn === fn);
export const rulesByErrno = (errno: string): KernelRule[] =>
  RULE_TABLE.filter((r) => r.errnos.includes(errno));
export const rulesBySpec = (id: string): KernelRule[] => RULE_TABLE.filter((r) => r.spec.includes(id));
export const rulesByEvent = (event: string): KernelRule[] =>
  RULE_TABLE.filter((r) => r.events.includes(event));
export const rulesByFile = (file: string): KernelRule[] => RULE_TABLE.filter((r) => r.file === file);

/** Every kernel function, trace event and kernel file the index knows (for "did you mean"). */
export function ruleVocabulary(): string[] {
  const out = new Set<string>();
  for (const r of RULE_TABLE) {
    out.add(r.fn);
    if (r.file) out.add(r.file);
    for (const e of r.events) out.add(e);
  }
  return [...out];
}
