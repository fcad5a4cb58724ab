/**
 * Inodes, address_spaces, super blocks and the per-kernel VFS state
 * (include/linux/fs.h: struct inode, struct address_space, struct super_block,
 * struct address_space_operations; fs/inode.c: iput(), evict()).
 *
 * Identity: an inode's id is also the id of its address_space — the key in
 * `k.mappings`, the `mapping` field of its page-cache folios and
 * `MappedFile.inodeId` of the VMAs that map it.
 *
 * Operation tables mirror the kernel's split: `AddressSpaceOps` is
 * a_ops (what the page cache and writeback ask of the file system),
 * `InodeOps` gathers the f_op/i_op/s_op entries the syscalls use, and every
 * inode carries the `VmOperations` its mappings get. Each file-system kind
 * (fs/blockfs.ts, mm/shmem.ts, fs/hugetlbfs.ts, fs/dax.ts, mm/secretmem.ts)
 * builds its inodes with `new_inode()`.
 *
 * Lifetime: an inode lives while it has a name (nlink), an open file, or a
 * VMA in its i_mmap (a VMA holds its struct file, which holds the inode).
 * When all three are gone `iput_final()` evicts it: its page cache is
 * truncated (pinned folios survive as orphans) and its address_space leaves
 * `k.mappings`.
 */
import { PG } from "../include/page_flags.js";
import type { AddressSpaceRef, Kernel } from "../kernel.js";
import type { HState } from "../mm/hugetlb.js";
import type { MappedFile, VmArea, VmOperations } from "../mm/mm_types.js";

/** Kinds of super block. "fsdax" is ext4 mounted with -o dax on pmem; "secretmem" is internal. */
export type FsType = "ext4" | "xfs" | "btrfs" | "tmpfs" | "hugetlbfs" | "fsdax" | "secretmem";
/** The kinds `mount` accepts (the scenario language's list). */
export const MOUNTABLE_FS_TYPES = ["ext4", "xfs", "btrfs", "tmpfs", "hugetlbfs", "fsdax"] as const;
export type MountableFsType = (typeof MOUNTABLE_FS_TYPES)[number];

/** include/linux/writeback.h: enum writeback_sync_modes */
export const WB_SYNC_NONE = 0;
export const WB_SYNC_ALL = 1;

/** struct writeback_control, the fields the model uses. */
export interface WritebackControl {
  /** WB_SYNC_NONE: background, skip folios under writeback; WB_SYNC_ALL: data integrity */
  sync_mode: number;
  /** byte range, inclusive */
  range_start: number;
  range_end: number;
  /**
   * Model only: leave the I/O of started folios in flight (PG_writeback set)
   * until `writeback_complete()` or a data-integrity wait. The device reads
   * the folio's content when the I/O completes.
   */
  async?: boolean;
}

/** What a file system's ->writepages decides for one dirty folio before cleaning it. */
export type WritepageVerdict = "write" | "skip";

/** struct address_space_operations, as the page cache and writeback call it. */
export interface AddressSpaceOps {
  /** the kernel's table name, e.g. "ext4_da_aops" */
  readonly name: string;
  /** ->read_folio(): fill a new folio at index from the file's storage (content per page) */
  read_folio(k: Kernel, mapping: AddressSpace, folio: number, index: number): void;
  /** ->dirty_folio(): returns true if the folio became dirty */
  dirty_folio(k: Kernel, mapping: AddressSpace, folio: number): boolean;
  /** ->write_begin() beyond finding the folio (attach buffers) */
  write_begin?(k: Kernel, mapping: AddressSpace, folio: number): void;
  /** the file system's check of a dirty folio in ->writepages, before folio_clear_dirty_for_io() */
  writepage_prepare?(k: Kernel, mapping: AddressSpace, folio: number): WritepageVerdict;
  /**
   * after folio_clear_dirty_for_io(): false if the file system refuses to
   * write the folio now; it is re-dirtied (folio_redirty_for_writepage()) and skipped
   */
  writepage_fixup?(k: Kernel, mapping: AddressSpace, folio: number): boolean;
  /** I/O completion of a written folio: the storage now holds its content */
  write_io?(k: Kernel, mapping: AddressSpace, folio: number): void;
  /** ->release_folio(): drop fs-private data of a clean folio; false if busy */
  release_folio?(k: Kernel, folio: number): boolean;
  /** ->free_folio(): the folio left the page cache (secretmem restores the direct map) */
  free_folio?(k: Kernel, folio: number): void;
}

/** What read() found: bytes read and the content word of every page touched. */
export interface ReadResult {
  bytes: number;
  contents: number[];
}

/** The file and inode operations the syscalls use (f_op, i_op, s_op entries). */
export interface InodeOps {
  /** the kernel's table name, e.g. "ext4_file_operations" */
  readonly name: string;
  /** FMODE_CAN_ODIRECT: open(O_DIRECT) is allowed */
  readonly canDirectIO: boolean;
  /** f_op->mmap / ->mmap_prepare: vm_ops, vm_file, vm_flags; 0 or -errno. writable: FMODE_WRITE */
  mmap(k: Kernel, inode: Inode, vma: VmArea, writable: boolean): number;
  /** f_op->read_iter (absent: read() is -EINVAL) */
  read_iter?(k: Kernel, inode: Inode, pos: number, len: number): ReadResult | number;
  /** f_op->write_iter (absent: write() is -EINVAL); every page of the range gets value */
  write_iter?(k: Kernel, inode: Inode, pos: number, len: number, value: number): number;
  /**
   * The block side of O_DIRECT (absent: O_DIRECT I/O is buffered, as on
   * tmpfs): read nr blocks from index, stopping at EOF; write contents[i] to
   * block index+i. They keep the page cache coherent as the kernel does.
   */
  dio_read_blocks?(k: Kernel, inode: Inode, index: number, nr: number): number[];
  dio_write_blocks?(k: Kernel, inode: Inode, index: number, contents: readonly number[]): number;
  /** i_op->setattr(ATTR_SIZE): truncate or extend; 0 or -errno */
  setsize(k: Kernel, inode: Inode, size: number): number;
  /** f_op->fallocate (absent: -EOPNOTSUPP); mode already checked by vfs_fallocate() */
  fallocate?(k: Kernel, inode: Inode, mode: number, off: number, len: number): number;
  /** f_op->fsync (absent: -EINVAL) */
  fsync?(k: Kernel, inode: Inode, start: number, end: number): number;
  /** f_op->release: the last reference to an open file went */
  release?(k: Kernel, inode: Inode): void;
  /** s_op->evict_inode: free everything the inode holds */
  evict(k: Kernel, inode: Inode): void;
}

let nextSbId = 1;

export class SuperBlock {
  readonly id = nextSbId++;
  constructor(
    readonly type: FsType,
    /** where it is mounted; null for kernel-internal mounts (shm_mnt, hugetlbfs_vfsmount[], secretmem) */
    readonly mountpoint: string | null,
    /** hugetlbfs: the hstate of the mount (pagesize=) */
    readonly hstate: HState | null = null,
  ) {}
}

/** struct address_space */
export class AddressSpace implements AddressSpaceRef {
  /** every VMA mapping the file (also private ones) */
  readonly i_mmap = new Set<VmArea>();
  /** i_pages: page index → folio head pfn (hugetlb folios at their first base-page index) */
  readonly i_pages = new Map<number, number>();
  /** folios whose writeback I/O is in flight (WritebackControl.async) */
  readonly inflight = new Set<number>();
  constructor(
    readonly id: number,
    readonly host: Inode,
    public a_ops: AddressSpaceOps,
    /** mapping_gfp_mask() */
    public gfp: number,
    /** mapping_can_writeback(): the BDI writes dirty folios back (BDI_CAP_WRITEBACK) */
    readonly canWriteback: boolean,
    /** mapping_unevictable() (secretmem, ramfs) */
    readonly unevictable: boolean,
  ) {}
  get nrpages(): number {
    return this.i_pages.size;
  }
}

/** Per-inode state of hugetlbfs files (fs/hugetlbfs/inode.c: hugetlbfs_inode_info). */
export interface HugetlbInodeInfo {
  h: HState;
  /**
   * inode_resv_map(): huge indices that hold a reservation or a page
   * (region_add()); an index here without a page-cache folio is still
   * counted in h.resvHugePages.
   */
  resv: Set<number>;
}

/** i_flags bits the model uses (include/linux/fs.h) */
export const S_PRIVATE = 0x200;

export class Inode {
  readonly mapping: AddressSpace;
  /** i_size, bytes */
  i_size = 0;
  /** i_nlink: names in the directory tree (0 for memfd, shm, secretmem, unlinked files) */
  nlink = 0;
  /** the path it was created at, for traces; null for unnamed inodes */
  path: string | null = null;
  /** open struct files (each fd table entry may share one) */
  openCount = 0;
  i_flags = 0;
  /** the "disk": block index → content word; absent = hole (reads as zero) */
  readonly backing = new Map<number, number>();
  /** hugetlbfs state */
  hugetlb: HugetlbInodeInfo | null = null;
  /** fsdax: file block index → device page pfn */
  dax: Map<number, number> | null = null;
  /** the vm_operations_struct of its mappings */
  vm_ops: VmOperations | null = null;
  evicted = false;
  constructor(
    readonly id: number,
    readonly sb: SuperBlock,
    public ops: InodeOps,
    a_ops: AddressSpaceOps,
    gfp: number,
    canWriteback: boolean,
    /** i_mode permission bits */
    public mode: number,
    public uid: number,
    unevictable = false,
  ) {
    this.mapping = new AddressSpace(id, this, a_ops, gfp, canWriteback, unevictable);
  }
  /** a name for traces */
  get name(): string {
    return this.path ?? `${this.sb.type}:[${this.id}]`;
  }
}

/** The VFS state of one kernel: mounts, the directory tree, live inodes, device pools. */
export class Vfs {
  /** mount point → super block */
  readonly mounts = new Map<string, SuperBlock>();
  /** directories (mount points and mkdir'ed paths) */
  readonly dirs = new Set<string>(["/"]);
  /** path → inode of a regular file */
  readonly dentries = new Map<string, Inode>();
  /** id → every live inode, named or not */
  readonly inodes = new Map<number, Inode>();
  /** kern_mount()ed internal super blocks by name ("shm", "secretmem", "hugetlbfs-2M") */
  readonly kernMounts = new Map<string, SuperBlock>();
  /** fsdax: every device page ever handed out (folio_is_fsdax()) and the free ones */
  readonly daxPages = new Set<number>();
  readonly daxFree: number[] = [];
  /** secretmem_users */
  secretmemUsers = 0;
}

const vfsOf = new WeakMap<Kernel, Vfs>();

/** The kernel's VFS state, created on first use. */
export function vfs(k: Kernel): Vfs {
  let v = vfsOf.get(k);
  if (!v) vfsOf.set(k, (v = new Vfs()));
  return v;
}

/**
 * new_inode() + inode_init_always(): a fresh inode on sb, registered as a
 * live inode and its address_space in k.mappings.
 */
export function new_inode(
  k: Kernel,
  sb: SuperBlock,
  ops: InodeOps,
  a_ops: AddressSpaceOps,
  opts: { gfp: number; canWriteback: boolean; mode: number; uid: number; unevictable?: boolean },
): Inode {
  const id = k.newId("mapping");
  const inode = new Inode(
    id,
    sb,
    ops,
    a_ops,
    opts.gfp,
    opts.canWriteback,
    opts.mode,
    opts.uid,
    opts.unevictable,
  );
  k.mappings.set(id, inode.mapping);
  vfs(k).inodes.set(id, inode);
  return inode;
}

/** The live inode with this id (= address_space id), or undefined. */
export function inode_by_id(k: Kernel, id: number): Inode | undefined {
  return vfs(k).inodes.get(id);
}

/** folio_mapping() for page-cache folios: the AddressSpace, or null (anon, orphaned, free). */
export function folio_file_mapping(k: Kernel, folio: number): AddressSpace | null {
  const mm = k.memmap;
  if (mm.test(folio, PG.anon)) return null;
  const id = mm.mapping(folio);
  if (id === 0) return null;
  return vfs(k).inodes.get(id)?.mapping ?? null;
}

/**
 * iput() of the last reference: an inode without name, open file or
 * mapping is evicted (fs/inode.c: iput_final() → evict() → ->evict_inode).
 */
export function iput_final(k: Kernel, inode: Inode): void {
  if (inode.evicted || inode.nlink > 0 || inode.openCount > 0 || inode.mapping.i_mmap.size > 0) return;
  inode.evicted = true;
  inode.ops.evict(k, inode);
  k.mappings.delete(inode.id);
  vfs(k).inodes.delete(inode.id);
  k.trace.emit("inode_evict", "fs/inode.c: evict()", { inode: inode.id, name: inode.name });
}

/** The VMA's struct file side (vma->vm_file) for an inode. */
export function mapped_file(inode: Inode, writable: boolean): MappedFile {
  return { inodeId: inode.id, canWriteback: inode.mapping.canWriteback, writable };
}

/**
 * Attach a VMA to an inode: vm_file, vm_ops and i_mmap (what f_op->mmap
 * and vma_link_file() do together). Called by every fs's mmap.
 */
export function vma_set_file(vma: VmArea, inode: Inode, writable: boolean): void {
  vma.vm_file = mapped_file(inode, writable);
  vma.vm_ops = inode.vm_ops;
  inode.mapping.i_mmap.add(vma);
}

/**
 * The munmap side (->close + fput of vma->vm_file): the VMA leaves i_mmap,
 * and an unnamed, unopened inode whose last mapping this was is evicted.
 */
export function vma_close_file(k: Kernel, vma: VmArea): void {
  if (!vma.vm_file) return;
  const inode = inode_by_id(k, vma.vm_file.inodeId);
  if (!inode) return;
  inode.mapping.i_mmap.delete(vma);
  iput_final(k, inode);
}

/**
 * kern_mount(): an internal super block, created once per kernel (shm_mnt,
 * hugetlbfs_vfsmount[], secretmem_mnt). `name` keys it.
 */
export function kern_mount(k: Kernel, name: string, type: FsType, hstate: HState | null = null): SuperBlock {
  const v = vfs(k);
  let sb = v.kernMounts.get(name);
  if (!sb) v.kernMounts.set(name, (sb = new SuperBlock(type, null, hstate)));
  return sb;
}
