/**
 * AF_XDP umem registration (net/xdp/xdp_umem.c: xdp_umem_reg(),
 * xdp_umem_pin_pages(), xdp_umem_account_pages()): charge user->locked_vm
 * unless CAP_IPC_LOCK (over RLIMIT_MEMLOCK: -ENOBUFS), then
 * pin_user_pages(FOLL_WRITE | FOLL_LONGTERM) under mmap_read_lock; a short
 * pin is released and reported as -ENOMEM.
 */
import { ENOBUFS, ENOMEM, EINVAL } from "../include/errno.js";
import { FOLL_LONGTERM, FOLL_WRITE } from "../include/foll_flags.js";
import { PAGE_SIZE } from "../include/mmzone.js";
import type { Kernel } from "../kernel.js";
import { CAP_IPC_LOCK, type Task } from "../kernel/task.js";
import { driver_gup, driver_release } from "./pin_user.js";
import type { PinRecord } from "./pin_table.js";

export interface XdpUmem {
  rec: PinRecord;
  task: Task;
  npgs: number;
  accounted: boolean;
}

export function xdp_umem_reg(k: Kernel, task: Task, addr: number, size: number): XdpUmem | number {
  if (!size || addr % PAGE_SIZE) return -EINVAL;
  const npgs = Math.ceil(size / PAGE_SIZE);
  const accounted = !task.capable(CAP_IPC_LOCK);
  if (accounted) {
    const u = k.user(task.uid);
    if (u.locked_vm + npgs > Math.floor(task.rlimitMemlock / PAGE_SIZE)) return -ENOBUFS;
    u.locked_vm += npgs;
  }
  const { ret, rec } = driver_gup(k, {
    owner: "xdp",
    api: "pin_user_pages",
    caller: task,
    target: task,
    start: addr,
    nrPages: npgs,
    flags: FOLL_WRITE | FOLL_LONGTERM,
  });
  if (ret !== npgs) {
    if (rec) driver_release(k, rec);
    if (accounted) k.user(task.uid).locked_vm -= npgs;
    return ret < 0 ? ret : -ENOMEM;
  }
  k.trace.emit("xdp_umem_reg", "net/xdp/xdp_umem.c: xdp_umem_reg()", {
    pid: task.pid,
    pin: rec!.id,
    pages: npgs,
    uid: task.uid,
    accounted,
  });
  return { rec: rec!, task, npgs, accounted };
}

export function xdp_umem_release(k: Kernel, umem: XdpUmem): void {
  driver_release(k, umem.rec, true);
  if (umem.accounted) k.user(umem.task.uid).locked_vm -= umem.npgs;
}
