/**
 * errno values of x86-64 Linux (include/uapi/asm-generic/errno-base.h, errno.h).
 * Kernel functions in the model return `-errno` like the kernel; one const list
 * is the source of every errno name the parser and the CLI accept.
 */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EPIPE: 32,
  ERANGE: 34,
  EDEADLK: 35,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  ENOBUFS: 105,
  ETIMEDOUT: 110,
  EHWPOISON: 133,
} as const;

export type ErrnoName = keyof typeof ERRNO;

export const {
  EPERM,
  ENOENT,
  ESRCH,
  EINTR,
  EIO,
  ENXIO,
  E2BIG,
  EBADF,
  ECHILD,
  EAGAIN,
  ENOMEM,
  EACCES,
  EFAULT,
  EBUSY,
  EEXIST,
  EXDEV,
  ENODEV,
  ENOTDIR,
  EISDIR,
  EINVAL,
  ENFILE,
  EMFILE,
  ENOTTY,
  ETXTBSY,
  EFBIG,
  ENOSPC,
  ESPIPE,
  EROFS,
  EPIPE,
  ERANGE,
  EDEADLK,
  ENAMETOOLONG,
  ENOSYS,
  EOVERFLOW,
  EOPNOTSUPP,
  ENOBUFS,
  ETIMEDOUT,
  EHWPOISON,
} = ERRNO;

const byNumber = new Map<number, ErrnoName>(
  (Object.entries(ERRNO) as [ErrnoName, number][]).map(([k, v]) => [v, k]),
);

/** `-EFAULT` → "EFAULT"; `undefined` for a value that is not a negative errno. */
export function errnoName(ret: number): ErrnoName | undefined {
  return ret < 0 ? byNumber.get(-ret) : undefined;
}

/** A kernel return value as the kernel's logs would show it: "-EFAULT" or the number. */
export function formatRet(ret: number): string {
  const name = errnoName(ret);
  return name ? `-${name}` : String(ret);
}

/** IS_ERR_VALUE-style test for the model's `≥ 0 | -errno` convention. */
export function isErr(ret: number): boolean {
  return ret < 0;
}
