/**
 * The pin users (gup-semantics.md §5, §1.3, §7): each driver's entry point,
 * flags, accounting, limits and errors, and what the device sees.
 */
import { describe, expect, it } from "vitest";
import { EBUSY, EFAULT, EIO, ENOMEM, ENXIO } from "../../src/kernel/include/errno.js";
import {
  MADV,
  MAP_ANONYMOUS,
  MAP_HUGETLB,
  MAP_PRIVATE,
  MAP_SHARED,
  MFD,
  O_CREAT,
  O_DIRECT,
  O_RDONLY,
  O_RDWR,
  PROT_READ,
  PROT_WRITE,
} from "../../src/kernel/include/mman.js";
import { FOLL_LONGTERM, FOLL_WRITE } from "../../src/kernel/include/foll_flags.js";
import { Machine, PFNMAP_DEVICE_PATH } from "../../src/kernel/machine.js";
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE } from "../../src/kernel/drivers/vfio.js";
import { IB_ACCESS_LOCAL_WRITE } from "../../src/kernel/drivers/rdma.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const K4 = 4096;
const M2 = 2 * 1024 * 1024;

function boot(cfg = {}, user = false) {
  const m = new Machine(cfg);
  const A = user ? m.spawn("A", { uid: 1000, caps: [], memlock: 64 * 1024 }) : m.spawn("A");
  return { m, A };
}

describe("io_uring fixed buffers (io_uring/rsrc.c)", () => {
  it("pins with FOLL_WRITE|FOLL_LONGTERM, counts VmPin, unregister releases everything", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, 8 * K4, RW, ANON, -1, 0);
    const acq = m.k.vmstat.nr_foll_pin_acquired;
    expect(m.io_uring_register_buffers(A, buf, 8 * K4)).toBe(0);
    expect(m.k.vmstat.nr_foll_pin_acquired - acq).toBe(8);
    expect(m.status(A).VmPin).toBe(32);
    const pin = m.io_uring_buffer(A)!;
    expect(pin.flags).toBe(FOLL_WRITE | FOLL_LONGTERM);
    expect(m.page(pin.pages[0]).maybeDmaPinned).toBe(true);
    expect(m.io_uring_register_buffers(A, buf, K4)).toBe(-EBUSY);
    expect(m.io_uring_unregister_buffers(A)).toBe(0);
    expect(m.status(A).VmPin).toBe(0);
    expect(m.page(pin.pages[0]).maybeDmaPinned).toBe(false);
    expect(m.k.vmstat.nr_foll_pin_released).toBe(m.k.vmstat.nr_foll_pin_acquired);
    expect(m.io_uring_unregister_buffers(A)).toBe(-ENXIO);
  });
  it("a MAP_SHARED ext4 mapping is -EFAULT (writable long-term pin of a dirty-tracked file), memfd and tmpfs succeed", () => {
    const { m, A } = boot();
    m.mount("ext4", "/data");
    m.mount("tmpfs", "/tmp");
    for (const [path, ok] of [
      ["/data/f", false],
      ["/tmp/f", true],
    ] as const) {
      const fd = m.open(A, path, O_RDWR | O_CREAT);
      m.ftruncate(A, fd, K4);
      const buf = m.mmap(A, 0, K4, RW, MAP_SHARED, fd, 0);
      m.memset(A, buf, 0xaa, K4);
      expect(m.io_uring_register_buffers(A, buf, K4)).toBe(ok ? 0 : -EFAULT);
      if (ok) m.io_uring_unregister_buffers(A);
    }
    const mfd = m.memfd_create(A, "x", 0);
    m.ftruncate(A, mfd, K4);
    const mb = m.mmap(A, 0, K4, RW, MAP_SHARED, mfd, 0);
    expect(m.io_uring_register_buffers(A, mb, K4)).toBe(0);
  });
  it("a MAP_PRIVATE ext4 mapping registers: the write fault copies into anon memory first", () => {
    const { m, A } = boot();
    m.mount("ext4", "/data");
    const fd = m.open(A, "/data/f", O_RDWR | O_CREAT);
    m.ftruncate(A, fd, K4);
    const buf = m.mmap(A, 0, K4, RW, MAP_PRIVATE, fd, 0);
    expect(m.io_uring_register_buffers(A, buf, K4)).toBe(0);
    expect(m.page(m.translate(A, buf)).anon).toBe(true);
  });
  it("beyond RLIMIT_MEMLOCK without CAP_IPC_LOCK: -ENOMEM; secretmem and PROT_READ: -EFAULT; over 1 GiB: -EFAULT", () => {
    const { m, A } = boot({}, true);
    const big = m.mmap(A, 0, 128 * 1024, RW, ANON, -1, 0);
    expect(m.io_uring_register_buffers(A, big, 128 * 1024)).toBe(-ENOMEM);
    expect(m.io_uring_register_buffers(A, big, 64 * 1024)).toBe(0);
    expect(m.k.user(1000).locked_vm).toBe(16);
    m.io_uring_unregister_buffers(A);
    expect(m.k.user(1000).locked_vm).toBe(0);
    const ro = m.mmap(A, 0, K4, PROT_READ, ANON, -1, 0);
    expect(m.io_uring_register_buffers(A, ro, K4)).toBe(-EFAULT);
    const sfd = m.memfd_secret(A, 0);
    m.ftruncate(A, sfd, K4);
    const sec = m.mmap(A, 0, K4, RW, MAP_SHARED, sfd, 0);
    m.store(A, sec, 1);
    expect(m.io_uring_register_buffers(A, sec, K4)).toBe(-EFAULT);
    expect(m.io_uring_register_buffers(A, big, 1024 * 1024 * 1024 + K4)).toBe(-EFAULT);
  });
  it("4 KiB inside a THP accounts the whole 2 MiB; the pages are coalesced to one pin per folio", () => {
    const { m, A } = boot({ thp: "always" });
    const buf = m.mmap(A, 0, M2, RW, ANON, -1, 0);
    m.memset(A, buf, 1, M2);
    expect(m.io_uring_register_buffers(A, buf, K4)).toBe(0);
    expect(m.status(A).VmPin).toBe(2048);
    const m2 = boot({ thp: "always" });
    const b2 = m2.m.mmap(m2.A, 0, M2, RW, ANON, -1, 0);
    m2.m.memset(m2.A, b2, 1, M2);
    expect(m2.m.io_uring_register_buffers(m2.A, b2, M2)).toBe(0);
    const folio = m2.m.page(m2.m.translate(m2.A, b2)).folio;
    expect(m2.m.page(folio).pincount).toBe(1);
  });
  it("a page registered before fork stays the parent's: device writes land in what the parent sees, not the child", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    m.memset(A, buf, 0x11, K4);
    m.io_uring_register_buffers(A, buf, K4);
    const pin = m.io_uring_buffer(A)!;
    const B = m.fork(A);
    m.memset(A, buf, 0x22, K4);
    expect(m.dma_read(pin)).toBe(0x22);
    m.dma_write(pin, 0x33);
    expect(m.load(A, buf)).toBe(0x33);
    expect(m.load(B, buf)).toBe(0x11);
    m.exit(B);
    expect(m.io_uring_unregister_buffers(A)).toBe(0);
  });
  it("exit closes the ring: buffers are unregistered and accounting returns to zero", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, 4 * K4, RW, ANON, -1, 0);
    m.io_uring_register_buffers(A, buf, 4 * K4);
    m.exit(A);
    expect(m.k.vmstat.nr_foll_pin_released).toBe(m.k.vmstat.nr_foll_pin_acquired);
    expect(m.pins()).toEqual([]);
  });
});

describe("vfio type1 (drivers/vfio/vfio_iommu_type1.c)", () => {
  it("MAP_DMA pins long-term and charges locked_vm (VmLck, not VmPin); over the limit -ENOMEM", () => {
    const { m, A } = boot({}, true);
    const buf = m.mmap(A, 0, 128 * 1024, RW, ANON, -1, 0);
    expect(
      m.vfio_map_dma(A, buf, 0x100000, 128 * 1024, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE),
    ).toBe(-ENOMEM);
    expect(m.pins()).toEqual([]);
    expect(
      m.vfio_map_dma(A, buf, 0x100000, 64 * 1024, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE),
    ).toBe(0);
    expect(m.status(A)).toMatchObject({ VmLck: 64, VmPin: 0 });
    expect(m.vfio_pin(A, 0x100000)!.longterm).toBe(true);
    expect(m.vfio_unmap_dma(A, 0x100000, 64 * 1024)).toBe(64 * 1024);
    expect(m.status(A).VmLck).toBe(0);
  });
  it("a VM_PFNMAP range is mapped without pinning", () => {
    const { m, A } = boot();
    const fd = m.open(A, PFNMAP_DEVICE_PATH, O_RDWR);
    const dev = m.mmap(A, 0, 4 * K4, RW, MAP_SHARED, fd, 0);
    const acq = m.k.vmstat.nr_foll_pin_acquired;
    expect(m.vfio_map_dma(A, dev, 0x200000, 4 * K4, VFIO_DMA_MAP_FLAG_WRITE)).toBe(0);
    expect(m.k.vmstat.nr_foll_pin_acquired).toBe(acq);
    expect(m.status(A).VmLck).toBe(0);
  });
});

describe("RDMA (drivers/infiniband/core/umem.c, umem_odp.c)", () => {
  it("ib_umem_get pins long-term and charges pinned_vm; ODP pins nothing and follows the mapping", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, 2 * K4, RW, ANON, -1, 0);
    m.memset(A, buf, 5, 2 * K4);
    const umem = m.rdma_reg_mr(A, buf, 2 * K4, IB_ACCESS_LOCAL_WRITE);
    if (typeof umem === "number") throw new Error(`reg_mr ${umem}`);
    expect(m.status(A).VmPin).toBe(8);
    m.rdma_dereg_mr(umem);
    expect(m.status(A).VmPin).toBe(0);
    const odp = m.rdma_reg_odp_mr(A, buf, 2 * K4, IB_ACCESS_LOCAL_WRITE);
    expect(m.pins()).toEqual([]);
    const B = m.fork(A);
    m.store(A, buf, 9); // COW: A moves to a new page
    expect(m.odp_dma_read(odp, 0)).toBe(9); // the device follows A's current page
    expect(m.load(B, buf)).toBe(5);
  });
  it("without MADV_DONTFORK, a pinned MR stays coherent across fork in 6.18 (the parent keeps the page)", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    m.store(A, buf, 1);
    const umem = m.rdma_reg_mr(A, buf, K4, IB_ACCESS_LOCAL_WRITE);
    if (typeof umem === "number") throw new Error("reg_mr");
    const B = m.fork(A);
    m.store(A, buf, 2);
    expect(m.dma_read(umem.rec)).toBe(2);
    expect(m.load(B, buf)).toBe(1);
  });
});

describe("process_vm_readv/writev (mm/process_vm_access.c)", () => {
  it("a range partly unmapped in the target returns the bytes copied before the hole", () => {
    const { m, A } = boot();
    const B = m.fork(A);
    const src = m.mmap(B, 0, 4 * K4, RW, ANON, -1, 0);
    m.memset(B, src, 7, 4 * K4);
    m.munmap(B, src + 2 * K4, 2 * K4);
    const dst = m.mmap(A, 0, 4 * K4, RW, ANON, -1, 0);
    expect(m.process_vm_readv(A, B, dst, 4 * K4, src, 4 * K4, 0)).toBe(2 * K4);
    expect(m.load(A, dst + K4)).toBe(7);
    expect(m.process_vm_readv(A, B, dst, K4, src + 3 * K4, K4, 0)).toBe(-EFAULT);
  });
  it("each batch's pin is released like every pin: unpinned, pin_release traced, nothing left in the table", () => {
    const { m, A } = boot();
    const B = m.fork(A);
    const src = m.mmap(B, 0, 2 * K4, RW, ANON, -1, 0);
    m.memset(B, src, 7, 2 * K4);
    const dst = m.mmap(A, 0, 2 * K4, RW, ANON, -1, 0);
    const released: unknown[] = [];
    m.k.trace.subscribe((e) => {
      if (e.name === "pin_release") released.push(e.args.owner);
    });
    const before = m.k.vmstat.nr_foll_pin_released;
    expect(m.process_vm_readv(A, B, dst, 2 * K4, src, 2 * K4, 0)).toBe(2 * K4);
    expect(released).toEqual(["process_vm_readv"]);
    expect(m.k.vmstat.nr_foll_pin_released - before).toBe(2);
    expect(m.k.vmstat.nr_foll_pin_acquired).toBe(m.k.vmstat.nr_foll_pin_released);
    expect(m.pins().filter((p) => !p.released)).toEqual([]);
  });
  it("writev into a PROT_READ private mapping is -EFAULT (no FOLL_FORCE)", () => {
    const { m, A } = boot();
    const B = m.fork(A);
    const ro = m.mmap(B, 0, K4, PROT_READ, ANON, -1, 0);
    const src = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    expect(m.process_vm_writev(A, B, src, K4, ro, K4, 0)).toBe(-EFAULT);
  });
  it("a R/O remote pin unshares a COW-shared page in the target (EXP-9a)", () => {
    const { m, A } = boot();
    const buf = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    m.store(A, buf, 3);
    const shared = m.translate(A, buf);
    const B = m.fork(A);
    const dst = m.mmap(B, 0, K4, RW, ANON, -1, 0);
    expect(m.process_vm_readv(B, A, dst, K4, buf, K4, 0)).toBe(K4);
    expect(m.translate(A, buf)).not.toBe(shared);
    expect(m.translate(B, buf)).toBe(shared);
  });
});

describe("/proc/PID/mem (fs/proc/base.c: mem_rw())", () => {
  it("a write into a PROT_READ private file mapping succeeds by COW and leaves the file untouched", () => {
    const { m, A } = boot();
    m.mount("ext4", "/data");
    const fd = m.open(A, "/data/f", O_RDWR | O_CREAT);
    const src = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    m.store(A, src, 0x41);
    m.write(A, fd, src, K4);
    const ro = m.mmap(A, 0, K4, PROT_READ, MAP_PRIVATE, fd, 0);
    const mem = m.open(A, "/proc/self/mem", O_RDWR);
    m.store(A, src, 0x42);
    expect(m.pwrite(A, mem, src, K4, ro)).toBe(K4);
    expect(m.load(A, ro)).toBe(0x42);
    expect(m.page(m.translate(A, ro)).anon).toBe(true);
    expect(m.pread(A, fd, src, K4, 0)).toBe(K4);
    expect(m.load(A, src)).toBe(0x41);
  });
  it("a write into a PROT_READ MAP_SHARED mapping is -EIO (EXP-5d)", () => {
    const { m, A } = boot();
    m.mount("ext4", "/data");
    const fd = m.open(A, "/data/f", O_RDWR | O_CREAT);
    m.ftruncate(A, fd, K4);
    const ro = m.mmap(A, 0, K4, PROT_READ, MAP_SHARED, fd, 0);
    const src = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    const mem = m.open(A, "/proc/self/mem", O_RDWR);
    expect(m.pwrite(A, mem, src, K4, ro)).toBe(-EIO);
    void O_RDONLY;
  });
});

describe("vmsplice (fs/splice.c) and fork: FOLL_GET references, P10", () => {
  function cve(hugetlb: boolean) {
    const { m, A } = boot({ hugetlb2M: 4 });
    const len = hugetlb ? M2 : K4;
    const buf = m.mmap(A, 0, len, RW, ANON | (hugetlb ? MAP_HUGETLB : 0), -1, 0);
    m.memset(A, buf, 0xff, len);
    const B = m.fork(A);
    const [r, w] = m.pipe(B);
    expect(m.vmsplice(B, w, buf, K4, 0)).toBe(K4);
    expect(m.munmap(B, buf, len)).toBe(0);
    m.memset(A, buf, 0x00, len);
    return m.read(B, r, K4);
  }
  it("small anon pages: the child's pipe keeps the old data (CVE-2020-29374 fixed)", () => {
    expect(cve(false)).toBe(0xff);
  });
  it("hugetlb: the parent's later write leaks through the pipe (mapcount-based reuse, still in 6.18)", () => {
    expect(cve(true)).toBe(0x00);
  });
});

describe("O_DIRECT (short-term FOLL_PIN on the user buffer)", () => {
  it("an O_DIRECT write from a buffer COW-shared with a child unshares it in the writer (EXP: §2.3)", () => {
    const { m, A } = boot();
    m.mount("ext4", "/data");
    const fd = m.open(A, "/data/f", O_RDWR | O_CREAT | O_DIRECT);
    const buf = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    m.store(A, buf, 0x77);
    const shared = m.translate(A, buf);
    const B = m.fork(A);
    expect(m.write(A, fd, buf, K4)).toBe(K4);
    expect(m.translate(A, buf)).not.toBe(shared);
    expect(m.translate(B, buf)).toBe(shared);
    expect(m.pins()).toEqual([]);
    const fd2 = m.open(A, "/data/f", O_RDONLY);
    expect(m.read(A, fd2, K4)).toBe(0x77);
  });
  it("O_DIRECT with a misaligned buffer or length is -EINVAL", () => {
    const { m, A } = boot();
    m.mount("ext4", "/data");
    const fd = m.open(A, "/data/f", O_RDWR | O_CREAT | O_DIRECT);
    const buf = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    expect(m.write(A, fd, buf + 1, 512)).toBe(-22);
    expect(m.write(A, fd, buf, 100)).toBe(-22);
    void MADV;
    void MFD;
  });
});

describe("AF_XDP umem (net/xdp/xdp_umem.c) and KVM (virt/kvm/kvm_main.c)", () => {
  it("XDP_UMEM_REG charges user->locked_vm (-ENOBUFS over RLIMIT_MEMLOCK) and pins long-term; release undoes both", () => {
    const { m, A } = boot({}, true);
    const buf = m.mmap(A, 0, 128 * 1024, RW, ANON, -1, 0);
    expect(m.xdp_umem_reg(A, buf, 128 * 1024)).toBe(-105); // -ENOBUFS
    const umem = m.xdp_umem_reg(A, buf, 64 * 1024);
    if (typeof umem === "number") throw new Error(`xdp ${umem}`);
    expect(m.k.user(1000).locked_vm).toBe(16);
    expect(umem.rec.flags).toBe(FOLL_WRITE | FOLL_LONGTERM);
    expect(m.status(A).VmPin).toBe(0); // not per-process visible
    m.xdp_umem_release(umem);
    expect(m.k.user(1000).locked_vm).toBe(0);
    expect(m.pins()).toEqual([]);
  });
  it("KVM reaches guest memory through FOLL_GET references held only for the access: nothing stays pinned", () => {
    const { m, A } = boot();
    const guest = m.mmap(A, 0, K4, RW, ANON, -1, 0);
    const acq = m.k.vmstat.nr_foll_pin_acquired;
    expect(m.kvm_write_guest(A, guest, 0x61)).toBe(0);
    expect(m.load(A, guest)).toBe(0x61);
    expect(m.kvm_read_guest(A, guest)).toBe(0x61);
    expect(m.k.vmstat.nr_foll_pin_acquired).toBe(acq);
    expect(m.page(m.translate(A, guest)).refcount).toBe(1);
  });
});
