/**
 * accounting_drift: pinned_vm, locked_vm and user->locked_vm against the
 * pins held. The model accounts like the kernel, so drift is forced through
 * the kernel API: an RDMA memory region deregistered twice gives its
 * pinned_vm back twice (the second driver_release() is a no-op, the
 * uncharge is not).
 */
import { describe, expect, it } from "vitest";
import { IB_ACCESS_LOCAL_WRITE, type IbUmem } from "../../src/kernel/drivers/rdma.js";
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE } from "../../src/kernel/drivers/vfio.js";
import type { XdpUmem } from "../../src/kernel/drivers/xdp.js";
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from "../../src/kernel/include/mman.js";
import { Machine } from "../../src/kernel/machine.js";
import { accounting_drift } from "../../src/observe/accounting_drift.js";
import { HazardWatch } from "../../src/observe/watch.js";
import { found, ranClean, runSrc } from "./helpers.js";

function rdma() {
  const m = new Machine();
  const w = new HazardWatch(m, [accounting_drift], { processName: () => "A" });
  w.attach();
  const A = m.spawn("A", { caps: [], uid: 1000 });
  const buf = m.mmap(A, 0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  m.memset(A, buf, 0x11, 4 * 4096);
  let step = 0;
  const step_ = (f: () => void) => {
    w.beginStep({ step: ++step, actor: "rdma", call: "test" });
    f();
    w.endStep();
  };
  return { m, w, A, buf, step: step_ };
}

describe("accounting_drift", () => {
  it("fires when an RDMA MR is deregistered twice: pinned_vm goes below the pins held", () => {
    const { m, w, A, buf, step } = rdma();
    let mr: IbUmem | number = 0;
    step(() => (mr = m.rdma_reg_mr(A, buf, 4 * 4096, IB_ACCESS_LOCAL_WRITE)));
    expect(m.status(A).VmPin).toBe(16);
    step(() => m.rdma_dereg_mr(mr as IbUmem));
    expect(w.findings).toEqual([]);
    step(() => m.rdma_dereg_mr(mr as IbUmem));
    expect(w.findings.map((f) => [f.hazard, f.step])).toEqual([["accounting_drift", 3]]);
    expect(w.findings[0].message).toBe(
      "process A: pinned_vm is -4 pages but 0 pages are accounted for — no pin holds a charge",
    );
    expect(w.findings[0].rule).toMatch(/^mm->pinned_vm:/);
    // the same difference is not reported again
    step(() => {});
    expect(w.findings).toHaveLength(1);
    expect(w.failures).toEqual([]);
  });
  it("stays quiet for one registration and one deregistration", () => {
    const { m, w, A, buf, step } = rdma();
    let mr: IbUmem | number = 0;
    step(() => (mr = m.rdma_reg_mr(A, buf, 4 * 4096, IB_ACCESS_LOCAL_WRITE)));
    step(() => {});
    step(() => m.rdma_dereg_mr(mr as IbUmem));
    expect(w.findings).toEqual([]);
    expect(m.status(A).VmPin).toBe(0);
  });
  it("fires when a counter is charged behind the pins' back, naming the pins it does hold", () => {
    const { m, w, A, buf, step } = rdma();
    step(() => void m.rdma_reg_mr(A, buf, 4 * 4096, IB_ACCESS_LOCAL_WRITE));
    step(() => (m.task(A).mm!.pinned_vm += 1));
    expect(w.findings).toHaveLength(1);
    expect(w.findings[0].message).toBe(
      "process A: pinned_vm is 5 pages but 4 pages are accounted for (4 pages charged by the pins held: " +
        "long-term pinned by rdma (pin_user_pages_fast FOLL_WRITE|FOLL_LONGTERM) of process A at step 0)",
    );
  });
  it("stays quiet through vfio's locked_vm and XDP's user->locked_vm, charged and given back", () => {
    const { m, w, A, buf, step } = rdma();
    step(() =>
      expect(
        m.vfio_map_dma(A, buf, 0x100000, 2 * 4096, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE),
      ).toBe(0),
    );
    expect(m.status(A).VmLck).toBe(8);
    let umem: XdpUmem | number = 0;
    step(() => (umem = m.xdp_umem_reg(A, buf + 2 * 4096, 2 * 4096)));
    expect(m.k.user(1000).locked_vm).toBe(2);
    step(() => m.vfio_unmap_dma(A, 0x100000, 2 * 4096));
    step(() => m.xdp_umem_release(umem as XdpUmem));
    expect(w.findings).toEqual([]);
    // and a user->locked_vm given back twice is drift
    step(() => m.xdp_umem_release(umem as XdpUmem));
    expect(w.findings.map((f) => f.message)).toEqual([
      "uid 1000: user->locked_vm is -2 pages but 0 pages are accounted for — no pin holds a charge",
    ]);
  });
  it("stays quiet through io_uring registration of an unprivileged user, mlock, fork and mlockall", () => {
    const r = runSrc(`process U uid=1000 memlock=8M caps=none
U: buf = mmap(NULL, 4M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
U: lk = mmap(NULL, 64K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
U: mlock(lk, 64K) = 0
U: fixed = io_uring_register_buffers(buf, 2M) = 0
assert vmpin(U) == 2M
U: B = fork()
B: munlock(lk, 32K) = 0
U: munlock(lk + 32K, 32K) = 0
U: io_uring_unregister_buffers(fixed) = 0
U: mlockall(MCL_CURRENT) = 0
assert vmlck(U) == 4M + 64K
U: munlockall() = 0
`);
    ranClean(r);
    expect(found(r, "accounting_drift")).toEqual([]);
  });
});
