/**
 * memfd_secret() (mm/secretmem.c): memory removed from the kernel's direct
 * map, mappable only by the process that owns the file. Its pages are
 * unmovable (GFP_HIGHUSER: secretmem_migrate_folio() refuses with -EBUSY),
 * unevictable, zeroed on allocation and again when they leave the page
 * cache. GUP refuses secretmem VMAs (-EFAULT, check_vma_flags()) and
 * GUP-fast rejects secretmem folios (gup_fast_folio_allowed()).
 *
 * mmap() requires a shared mapping (-EINVAL) and makes it VM_LOCKED |
 * VM_DONTDUMP, checked against RLIMIT_MEMLOCK (-EAGAIN) — locked_vm
 * accounting follows the VMA's final flags, which mm/mmap.ts must read.
 * The direct-map removal is a tracepoint; the page's mapping says it is
 * secret (secretmem_mapping()).
 */
import { EAGAIN, EINVAL, ENOSYS } from "../include/errno.js";
import { VM_FAULT } from "../include/fault.js";
import { __GFP_ZERO, GFP_HIGHUSER } from "../include/gfp.js";
import { O } from "../include/mman.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import { PG } from "../include/page_flags.js";
import { VM_DONTDUMP, VM_LOCKED, VM_MAYSHARE, VM_SHARED } from "../include/vm_flags.js";
import type { Kernel } from "../kernel.js";
import type { Task } from "../kernel/task.js";
import {
  type AddressSpaceOps,
  type Inode,
  type InodeOps,
  inode_by_id,
  kern_mount,
  new_inode,
  vfs,
  vma_set_file,
} from "../fs/inode.js";
import { FsFile } from "../fs/open.js";
import { filemap_add_folio, page_cache_lookup } from "./filemap.js";
import { folio_get, folio_put } from "./folio.js";
import { NIL } from "./memmap.js";
import { mlock_future_ok } from "./mmap.js";
import type { VmArea, VmFault } from "./mm_types.js";
import { noop_dirty_folio } from "./page_writeback.js";
import { truncate_inode_pages_final } from "./truncate.js";

/** vma_is_secretmem(): the VMA maps a memfd_secret() file. */
export function vma_is_secretmem(vma: VmArea): boolean {
  return vma.vm_ops?.name === "secretmem";
}

/** secretmem_mapping(): the address_space of a memfd_secret() file. */
export function secretmem_mapping(k: Kernel, mappingId: number): boolean {
  return inode_by_id(k, mappingId)?.sb.type === "secretmem";
}

/** folio_is_secretmem(): a page-cache folio of a secretmem file. */
export function folio_is_secretmem(k: Kernel, folio: number): boolean {
  const f = k.memmap.head(folio);
  return !k.memmap.test(f, PG.anon) && secretmem_mapping(k, k.memmap.mapping(f));
}

/** secretmem_active(): some memfd_secret() file is open. */
export function secretmem_active(k: Kernel): boolean {
  return vfs(k).secretmemUsers > 0;
}

/** secretmem_aops: no dirty tracking; ->free_folio restores the direct map and zeroes the page. */
const secretmem_aops: AddressSpaceOps = {
  name: "secretmem_aops",
  read_folio: (k, _m, folio) => k.memmap.setContent(folio, 0),
  dirty_folio: noop_dirty_folio,
  free_folio(k, folio) {
    // secretmem_free_folio(): set_direct_map_default_noflush(), folio_zero_segment()
    k.memmap.setContent(folio, 0);
  },
};

/**
 * secretmem_fault(): past EOF is SIGBUS (vmf_error(-EINVAL)); a missing page
 * is allocated zeroed, dropped from the direct map and added to the page cache.
 */
function secretmem_fault(k: Kernel, inode: Inode, vmf: VmFault): number {
  if (vmf.pgoff * PAGE_SIZE >= inode.i_size) return VM_FAULT.SIGBUS;
  const mapping = inode.mapping;
  let folio = page_cache_lookup(mapping, vmf.pgoff);
  if (folio !== NIL) {
    folio_get(k, folio);
  } else {
    folio = k.pa.alloc_pages(mapping.gfp | __GFP_ZERO, 0);
    if (folio === NIL) return VM_FAULT.OOM;
    // set_direct_map_invalid_noflush()
    if (k.trace.enabled)
      k.trace.emit("secretmem_direct_map_invalid", "mm/secretmem.c: secretmem_fault()", {
        pfn: folio,
        inode: inode.id,
        index: vmf.pgoff,
      });
    k.memmap.set(folio, PG.uptodate);
    if (filemap_add_folio(k, mapping, folio, vmf.pgoff)) {
      folio_put(k, folio);
      return VM_FAULT.OOM;
    }
  }
  vmf.page = folio;
  return 0;
}

/** secretmem_mmap_prepare(): shared only; VM_LOCKED|VM_DONTDUMP within RLIMIT_MEMLOCK. */
function secretmem_mmap(k: Kernel, inode: Inode, vma: VmArea, writable: boolean): number {
  if ((vma.vm_flags & (VM_SHARED | VM_MAYSHARE)) === 0) return -EINVAL;
  const task = k.current;
  if (task && !mlock_future_ok(task, vma.vm_mm, vma.vm_end - vma.vm_start)) return -EAGAIN;
  vma.vm_flags |= VM_LOCKED | VM_DONTDUMP;
  vma_set_file(vma, inode, writable);
  return 0;
}

const secretmem_fops: InodeOps = {
  name: "secretmem_fops",
  canDirectIO: false,
  mmap: secretmem_mmap,
  // secretmem_setattr(): the size can be set once, while it is 0
  setsize(_k, inode, size) {
    if (inode.i_size) return -EINVAL;
    inode.i_size = size;
    return 0;
  },
  release(k) {
    vfs(k).secretmemUsers--;
  },
  evict(k, inode) {
    truncate_inode_pages_final(k, inode.mapping);
  },
};

/** secretmem_file_create(): an unnamed inode of size 0, GFP_HIGHUSER, unevictable. */
function secretmem_file_create(k: Kernel, uid: number): Inode {
  const inode = new_inode(k, kern_mount(k, "secretmem", "secretmem"), secretmem_fops, secretmem_aops, {
    gfp: GFP_HIGHUSER,
    canWriteback: false,
    mode: 0o600,
    uid,
    unevictable: true,
  });
  inode.path = "secretmem (deleted)";
  inode.vm_ops = { name: "secretmem", fault: (vmf) => secretmem_fault(k, inode, vmf) };
  vfs(k).secretmemUsers++;
  return inode;
}

/**
 * memfd_secret(flags): a new secretmem file, opened O_RDWR. Returns the
 * descriptor; -ENOSYS without CONFIG_SECRETMEM; -EINVAL for flags other
 * than O_CLOEXEC.
 */
export function memfd_secret(k: Kernel, task: Task, flags: number): number {
  if (!k.config.kconfig.SECRETMEM) return -ENOSYS;
  if (flags & ~O.O_CLOEXEC) return -EINVAL;
  const inode = secretmem_file_create(k, task.uid);
  const fd = task.allocFd(new FsFile(k, "secretmem", inode, O.O_RDWR | O.O_LARGEFILE));
  k.trace.emit("memfd_secret", "mm/secretmem.c: memfd_secret()", { pid: task.pid, fd, inode: inode.id });
  return fd;
}
