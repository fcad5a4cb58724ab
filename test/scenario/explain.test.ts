/** `pinlab explain`: errnos, spec rules, kernel functions, events, files, hazards and calls; unknown input. */
import { describe, expect, it } from "vitest";
import { explain, normalizeQuery } from "../../src/cli/explain.js";
import { pinlab } from "./cli_io.js";

describe("pinlab explain", () => {
  it("an errno: its meaning, the GUP spec's summary and where the model returns it", () => {
    const r = pinlab(["explain", "EFAULT"]);
    expect(r.status).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe("-EFAULT (errno 14): Bad address");
    expect(r.out).toContain(
      "In GUP (gup-api.md §13):\n  no VMA ([SLOW-6]), check_vma_flags ([VMA-1,2,5,6,7,8,9])",
    );
    expect(r.out).toMatch(/Where the model returns -EFAULT \(\d+ kernel functions\):/);
    expect(r.out).toContain(
      "  mm/gup.c: check_vma_flags() — may GUP touch this VMA with these flags? 0 or -errno, in the kernel's order ([VMA-1] … [VMA-9]).\n" +
        "      returns -EFAULT, -EOPNOTSUPP; cites VMA-1, VMA-2, VMA-3, VMA-4, VMA-5, VMA-6, VMA-7, VMA-8, VMA-9; model: src/kernel/mm/gup_slow.ts\n",
    );
    expect(pinlab(["explain", "-efault"]).out).toBe(r.out);
  });
  it("a compact spec rule: its text and the model functions that decide it", () => {
    const r = pinlab(["explain", "P5"]);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(
      /^\[P5\] \(gup-semantics\.md §8\. Rules in compact form \(for the simulator\)\)\n {2}LONGTERM pins must end in non-movable, non-CMA/,
    );
    expect(r.out).toContain("Decided in the model by:\n  mm/gup.c: __gup_longterm_locked()");
    expect(r.out).toContain("mm/gup.c: check_and_migrate_movable_pages_or_folios()");
  });
  it("a detailed spec rule, with or without brackets", () => {
    const r = pinlab(["explain", "[VMA-3]"]);
    expect(r.out).toBe(pinlab(["explain", "vma-3"]).out);
    expect(r.out).toMatch(
      /^\[VMA-3\] \(gup-api\.md §6\.3 check_vma_flags — permission rules\)\n {2}FOLL_LONGTERM and the VMA is filesystem DAX \(vma_is_fsdax\) → -EOPNOTSUPP\.\n\nCited by the model in:\n {2}mm\/gup\.c: check_vma_flags\(\)/,
    );
  });
  it("a kernel function: file, what it decides, its events and model module", () => {
    const r = pinlab(["explain", "do_wp_page"]);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(
      /^mm\/memory\.c: do_wp_page\(\)\n {2}FAULT_FLAG_WRITE on a read-only PTE, or FAULT_FLAG_UNSHARE/,
    );
    expect(r.out).toContain("  trace events: cow_reuse\n  model: src/kernel/mm/memory.ts\n");
    expect(pinlab(["explain", "do_wp_page()"]).out).toBe(r.out);
  });
  it("a trace event, a kernel file, a hazard and a scenario call", () => {
    const ev = pinlab(["explain", "cow_copy"]).out;
    expect(ev).toMatch(/^trace event `cow_copy` — emitted by:\n/);
    expect(ev).toContain("  mm/memory.c: wp_page_copy() — break COW.");
    expect(ev).toContain("  watched by the hazard detector cpu_dev_divergence (every event)\n");
    expect(pinlab(["explain", "dma_write"]).out).toContain(
      "  watched by the hazard detectors cpu_dev_divergence (every event), lost_write, unstable_writeback\n",
    );
    expect(pinlab(["explain", "mm/cma.c"]).out).toMatch(
      /^mm\/cma\.c — \d+ functions in the model:\n {2}cma_alloc\(\)/,
    );
    expect(pinlab(["explain", "lost_write"]).out).toMatch(
      /^hazard lost_write: a device write through a pin never reaches the file .*\n {2}detector: src\/observe\/lost_write\.ts, watching dma_write, /,
    );
    const call = pinlab(["explain", "io_uring_register_buffers"]).out;
    expect(call).toMatch(/^scenario call io_uring_register_buffers\(addr, len\) — /);
  });
  it("one section per meaning when a name has several, and several queries at once", () => {
    const r = pinlab(["explain", "cma_alloc"]);
    expect(r.out).toMatch(/^scenario call cma_alloc\(size\)/);
    expect(r.out).toContain("\n\nmm/cma.c: cma_alloc()\n");
    expect(r.out).toContain("\n\ntrace event `cma_alloc` — emitted by:\n");
    const two = pinlab(["explain", "P8", "EBUSY"]);
    expect(two.out).toMatch(/^\[P8\][^]*\n\n-EBUSY \(errno 16\): Device or resource busy\n/);
  });
  it("unknown input: a clear message with a suggestion on stderr, exit 2", () => {
    const r = pinlab(["explain", "EFUALT"]);
    expect(r.status).toBe(2);
    expect(r.out).toBe("");
    expect(r.err.split("\n")[0]).toBe("pinlab explain: nothing is called 'EFUALT'; did you mean 'EFAULT'?");
    expect(pinlab(["explain", "do_wp_pgae"]).err).toContain("did you mean 'do_wp_page'?");
    expect(pinlab(["explain", "zzzzzzzzzz"]).err.split("\n")[0]).toBe(
      "pinlab explain: nothing is called 'zzzzzzzzzz'",
    );
    expect(pinlab(["explain"]).status).toBe(2);
  });
  it("normalizes queries", () => {
    expect(["[LT-2]", "-EBUSY", "ebusy", "p10", "do_wp_page()"].map(normalizeQuery)).toEqual([
      "LT-2",
      "EBUSY",
      "EBUSY",
      "P10",
      "do_wp_page",
    ]);
    expect(explain("LT-2").found).toBe(true);
  });
});
