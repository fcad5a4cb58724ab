/** pin_leak: pins still held when their process exits or the scenario ends. */
import { describe, expect, it } from "vitest";
import { ANON, found, ranClean, runSrc } from "./helpers.js";

describe("pin_leak", () => {
  it("fires at the end for a pin never released, after the last action and before the closing asserts", () => {
    const r = runSrc(`${ANON}vfio: p = pin_user_pages_remote(A, buf, 1, FOLL_WRITE|FOLL_LONGTERM) = 1
assert hazard pin_leak
`);
    ranClean(r);
    const f = found(r, "pin_leak");
    expect(f.map((x) => [x.step, x.line])).toEqual([[4, 4]]);
    expect(f[0].message).toBe(
      "pin 1 on 1 page of process A (pfn 0x400) is still held when the scenario ends: " +
        "long-term pinned by vfio (pin_user_pages_remote FOLL_WRITE|FOLL_LONGTERM) of process A at line 4",
    );
    expect(r.passed).toBe(true);
  });
  it("stays quiet when the pin is released", () => {
    const r = runSrc(`${ANON}vfio: p = pin_user_pages_remote(A, buf, 1, FOLL_WRITE|FOLL_LONGTERM) = 1
vfio: unpin_user_pages(p) = 0
assert no hazards
`);
    ranClean(r);
    expect(r.hazards).toEqual([]);
  });
  it("fires when the pinned process exits, at its exit", () => {
    const r = runSrc(`${ANON}A: B = fork()
kernel: p = pin_user_pages_fast(B, buf, 1, FOLL_WRITE) = 1
B: exit(0) = 0
assert hazard pin_leak
kernel: unpin_user_pages(p) = 0
`);
    ranClean(r);
    const f = found(r, "pin_leak");
    expect(f.map((x) => x.line)).toEqual([6]);
    expect(f[0].message).toContain("is still held after process B exited");
    expect(f[0].rule).toMatch(/^kernel\/exit\.c: do_exit\(\)/);
  });
  it("stays quiet when another process exits, and for references (not pins)", () => {
    const r = runSrc(`${ANON}A: B = fork()
kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE) = 1
kernel: r = get_user_pages(A, buf, 1, 0) = 1
B: exit(0) = 0
kernel: unpin_user_pages(p) = 0
`);
    ranClean(r);
    expect(r.hazards).toEqual([]);
  });
  it("reports an io_uring registration still held by a forked child when the parent exits", () => {
    const r = runSrc(`${ANON}A: fixed = io_uring_register_buffers(buf, 4K) = 0
A: B = fork()
A: exit(0) = 0
`);
    const f = found(r, "pin_leak");
    expect(f.map((x) => [x.line, x.provenance[0].owner])).toEqual([[6, "io_uring"]]);
  });
});
