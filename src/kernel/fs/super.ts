/**
 * Mounting and the file-system type table (fs/namespace.c: do_new_mount(),
 * fs/super.c; each fs's fill_super). A mount is a super block at a path;
 * files created under it get that file system's inodes.
 */
import { EBUSY, EINVAL, ENODEV, ENOENT } from "../include/errno.js";
import { HPAGE_PMD_SIZE } from "../include/mmzone.js";
import { PinlabError } from "../errors.js";
import type { Kernel } from "../kernel.js";
import { hstateForSize } from "../mm/hugetlb.js";
import { shmem_get_inode } from "../mm/shmem.js";
import { blockfs_new_inode, is_blockfs_type } from "./blockfs.js";
import { dax_new_inode } from "./dax.js";
import { hugetlbfs_get_inode } from "./hugetlbfs.js";
import { type Inode, MOUNTABLE_FS_TYPES, type MountableFsType, SuperBlock, vfs } from "./inode.js";
import { normalize_path } from "./namei.js";

export interface MountOptions {
  /** hugetlbfs: pagesize= in bytes (default the default huge page size, 2 MiB) */
  pagesize?: number;
}

/**
 * mount(type, path): a new super block at path. The mount point becomes a
 * directory. Returns 0, -ENODEV (unknown type), -EINVAL (hugetlbfs page
 * size without a pool size), -EBUSY (something is mounted there already),
 * -ENOENT (not an absolute path).
 */
export function do_mount(k: Kernel, type: string, path: string, opts: MountOptions = {}): number {
  if (!(MOUNTABLE_FS_TYPES as readonly string[]).includes(type)) return -ENODEV;
  const p = normalize_path(path);
  if (p === null) return -ENOENT;
  const v = vfs(k);
  if (v.mounts.has(p)) return -EBUSY;
  let sb: SuperBlock;
  if (type === "hugetlbfs") {
    // hugetlbfs_parse_param(): pagesize= must name an hstate
    const h = hstateForSize(k, opts.pagesize ?? HPAGE_PMD_SIZE);
    if (!h) return -EINVAL;
    sb = new SuperBlock("hugetlbfs", p, h);
  } else {
    sb = new SuperBlock(type as MountableFsType, p);
  }
  v.mounts.set(p, sb);
  v.dirs.add(p);
  k.trace.emit("mount", "fs/namespace.c: do_new_mount()", { type, path: p });
  return 0;
}

/** The super block a path lives on: the mount with the longest matching mount point, or null. */
export function sb_of_path(k: Kernel, path: string): SuperBlock | null {
  let best: SuperBlock | null = null;
  let bestLen = -1;
  for (const [mp, sb] of vfs(k).mounts) {
    const inside = mp === "/" || path === mp || path.startsWith(mp + "/");
    if (inside && mp.length > bestLen) {
      best = sb;
      bestLen = mp.length;
    }
  }
  return best;
}

/** ->create(): a new regular-file inode of the super block's kind. */
export function fs_new_inode(k: Kernel, sb: SuperBlock, mode: number, uid: number): Inode {
  if (is_blockfs_type(sb.type)) return blockfs_new_inode(k, sb, mode, uid);
  switch (sb.type) {
    case "tmpfs":
      return shmem_get_inode(k, sb, mode, uid);
    case "hugetlbfs":
      return hugetlbfs_get_inode(k, sb, mode, uid);
    case "fsdax":
      return dax_new_inode(k, sb, mode, uid);
    default:
      throw new PinlabError(`fs_new_inode: cannot create files on a ${sb.type} super block`);
  }
}
