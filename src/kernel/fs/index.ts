/**
 * The file-system layer's public surface, and its registration with
 * mm/mmap.ts (which cannot import fs/ without a cycle): shmem_zero_setup for
 * MAP_SHARED|MAP_ANONYMOUS, hugetlb_file_setup for MAP_HUGETLB anonymous
 * memory, the munmap-side vma_close_file, and the huge page size of
 * hugetlbfs files. Importing this module registers the hooks.
 */
import type { Kernel } from "../kernel.js";
import { hugetlb_vma } from "../mm/hugetlb_fault.js";
import { type MmapFsHooks, register_mmap_fs_hooks } from "../mm/mmap.js";
import type { VmArea } from "../mm/mm_types.js";
import { shmem_zero_setup } from "../mm/shmem.js";
import type { OpenFile } from "./file.js";
import { hugetlb_file_setup, hugetlbfs_inode_page_size } from "./hugetlbfs.js";
import { vma_close_file } from "./inode.js";
import { FsFile } from "./open.js";

/** The huge page size (bytes) of a file on hugetlbfs, else 0 (is_file_hugepages()). */
export function hugetlbfs_page_size(file: OpenFile): number {
  return file instanceof FsFile && file.inode ? hugetlbfs_inode_page_size(file.inode) : 0;
}

/** MAP_HUGETLB anonymous memory: the VMA's hstate is already set by do_mmap(). */
function hugetlb_anon_setup(k: Kernel, vma: VmArea): number {
  return hugetlb_file_setup(k, vma, hugetlb_vma(vma).h);
}

export const fs_mmap_hooks: MmapFsHooks = {
  shmem_zero_setup,
  hugetlb_anon_shared_setup: hugetlb_anon_setup,
  vma_close: vma_close_file,
  hugetlbfs_page_size,
};

/** Register the hooks with mm/mmap.ts (idempotent; also done on import). */
export function fs_init(): void {
  register_mmap_fs_hooks(fs_mmap_hooks);
}
fs_init();

export {
  type FsType,
  type MountableFsType,
  MOUNTABLE_FS_TYPES,
  Inode,
  AddressSpace,
  SuperBlock,
  vfs,
  inode_by_id,
  folio_file_mapping,
  vma_close_file,
  iput_final,
  WB_SYNC_ALL,
  WB_SYNC_NONE,
  type ReadResult,
  type WritebackControl,
} from "./inode.js";
export { do_mount, sb_of_path, type MountOptions } from "./super.js";
export { lookup_inode, sys_mkdir, sys_unlink } from "./namei.js";
export {
  FsFile,
  fd_file,
  fd_inode,
  sys_open,
  sys_close,
  sys_ftruncate,
  sys_fallocate,
  sys_fsync,
  sys_fdatasync,
  do_truncate,
  vfs_fallocate,
} from "./open.js";
export {
  sys_read,
  sys_write,
  sys_pread64,
  sys_pwrite64,
  sys_lseek,
  vfs_read,
  vfs_write,
  dio_read_blocks,
  dio_write_blocks,
  SEEK_SET,
  SEEK_CUR,
  SEEK_END,
} from "./read_write.js";
export { memfd_create } from "./memfd.js";
export { folio_is_fsdax, vma_is_fsdax, vma_is_dax, dax_break_layout } from "./dax.js";
export {
  hugetlb_file_setup,
  hugetlb_reserve_pages,
  hugetlbfs_file_mmap,
  remove_inode_hugepages,
} from "./hugetlbfs.js";
export { try_to_free_buffers, create_empty_buffers } from "./buffer.js";
export { block_read_backing, type BlockFsType } from "./blockfs.js";
export * from "./falloc.js";
export {
  folio_mark_dirty,
  writeback_inode,
  writeback_mapping,
  writeback_complete,
  filemap_write_and_wait_range,
} from "../mm/page_writeback.js";
export { shmem_zero_setup, shmem_mapping, shmem_get_folio, shmem_file_setup } from "../mm/shmem.js";
export {
  memfd_secret,
  vma_is_secretmem,
  secretmem_mapping,
  folio_is_secretmem,
  secretmem_active,
} from "../mm/secretmem.js";
