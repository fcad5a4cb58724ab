/**
 * Path names (fs/namei.c), kept small: absolute paths, "/"-separated, no
 * symlinks, "." or "..". Directories are mount points and mkdir()ed paths;
 * regular files live in a path → inode table.
 */
import { EEXIST, EISDIR, ENAMETOOLONG, ENOENT, ENOTDIR } from "../include/errno.js";
import type { Kernel } from "../kernel.js";
import type { Task } from "../kernel/task.js";
import { type Inode, iput_final, vfs } from "./inode.js";

/** include/uapi/linux/limits.h */
export const NAME_MAX = 255;
export const PATH_MAX = 4096;

/** "/data//f/" → "/data/f"; null for a relative or empty path. */
export function normalize_path(path: string): string | null {
  if (!path.startsWith("/")) return null;
  const parts = path.split("/").filter((s) => s.length > 0);
  return "/" + parts.join("/");
}

/** The directory part of a normalized path ("/data/f" → "/data", "/f" → "/"). */
export function path_parent(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** getname() + the component checks: -ENOENT, -ENAMETOOLONG, or the normalized path. */
export function check_path(path: string): string | number {
  if (path.length === 0) return -ENOENT;
  if (path.length >= PATH_MAX) return -ENAMETOOLONG;
  const p = normalize_path(path);
  if (p === null) return -ENOENT;
  if (p.split("/").some((c) => c.length > NAME_MAX)) return -ENAMETOOLONG;
  return p;
}

/** The parent directory must exist: 0, -ENOENT or -ENOTDIR. */
export function check_parent(k: Kernel, path: string): number {
  const v = vfs(k);
  const parent = path_parent(path);
  if (v.dirs.has(parent)) return 0;
  // a component that is a regular file
  for (let d = parent; d !== "/"; d = path_parent(d)) if (v.dentries.has(d)) return -ENOTDIR;
  return -ENOENT;
}

/** The regular file at path, or undefined (kernel-side lookup for "kernel: writeback(/data/f)"). */
export function lookup_inode(k: Kernel, path: string): Inode | undefined {
  const p = normalize_path(path);
  return p === null ? undefined : vfs(k).dentries.get(p);
}

/** mkdir(path, mode): 0, -EEXIST, -ENOENT, -ENOTDIR. */
export function sys_mkdir(k: Kernel, _task: Task, path: string, _mode = 0o755): number {
  const p = check_path(path);
  if (typeof p === "number") return p;
  const v = vfs(k);
  if (v.dirs.has(p) || v.dentries.has(p)) return -EEXIST;
  const r = check_parent(k, p);
  if (r) return r;
  v.dirs.add(p);
  return 0;
}

/**
 * unlink(path): the name goes; the inode lives on while it is open or
 * mapped (fs/namei.c: vfs_unlink() → iput()). 0, -ENOENT, -EISDIR.
 */
export function sys_unlink(k: Kernel, _task: Task, path: string): number {
  const p = check_path(path);
  if (typeof p === "number") return p;
  const v = vfs(k);
  if (v.dirs.has(p)) return -EISDIR;
  const inode = v.dentries.get(p);
  if (!inode) return -ENOENT;
  v.dentries.delete(p);
  inode.nlink = 0;
  iput_final(k, inode);
  return 0;
}
