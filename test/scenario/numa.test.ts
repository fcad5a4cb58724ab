/**
 * The scenario side of NUMA and move_pages(2): `machine nodes=`, `process …
 * node=`, the node() observer, move_pages over several pages with its status
 * array, move_pages_stat (nodes == NULL), and their diagnostics.
 */
import { describe, expect, it } from "vitest";
import { compile, run } from "../../src/scenario/index.js";

const codes = (src: string) => compile(src).diagnostics.map((d) => `${d.code} ${d.message}`);

function runOk(src: string) {
  const checked = compile(src);
  expect(checked.diagnostics).toEqual([]);
  const r = run(checked);
  const bad = r.steps.filter(
    (s) => s.status === "error" || s.expect?.met === false || s.assert?.met === false,
  );
  expect(bad.map((s) => `${s.text}: ${s.assert?.detail ?? s.error?.message ?? s.result?.kind}`)).toEqual([]);
  return r;
}

const PRELUDE = `machine nodes=2
process A
A: buf = mmap(NULL, 16K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
A: memset(buf, 0x5a, 8K) = 0
`;

describe("scenarios on two NUMA nodes", () => {
  it("move_pages moves nr_pages pages and its binding holds each page's status", () => {
    runOk(
      PRELUDE +
        `A: r = move_pages(A, buf, 1, MPOL_MF_MOVE, 4) = 0
assert move_status(r, 0) == 1
assert move_status(r, 1) == 1
assert move_status(r, 2) == -ENOENT
assert move_status(r, 3) == -ENOENT
assert node(A, buf + 4K) == 1
assert load(A, buf + 4K) == 0x5a
A: q = move_pages_stat(A, buf, 3) = 0
assert move_status(q, 0) == 1
assert move_status(q, 2) == -ENOENT
assert node(A, buf + 8K) == -EFAULT
`,
    );
  });
  it("a pinned page: the syscall returns the pages not migrated and writes no status", () => {
    runOk(
      PRELUDE +
        `kernel: p = pin_user_pages_fast(A, buf, 1, FOLL_WRITE|FOLL_LONGTERM) = 1
A: r = move_pages(A, buf, 1, MPOL_MF_MOVE, 2) = 1
assert move_status(r, 0) == -2147483648
assert move_status(r, 1) == -2147483648
assert node(A, buf) == 0
kernel: unpin_user_pages(p) = 0
A: move_pages(A, buf, 1, MPOL_MF_MOVE) = 0
assert node(A, buf) == 1
assert no hazards
`,
    );
  });
  it("a process placed on node 1 allocates there; a child inherits it", () => {
    runOk(`machine nodes=2
process B node=1
B: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
B: store(buf, 1) = 0
assert node(B, buf) == 1
B: C = fork() = ok
C: store(buf, 2) = 0
assert node(C, buf) == 1
`);
  });
  it("one node: the old single-page call is unchanged, other nodes are -ENODEV", () => {
    runOk(`process A
A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ok
A: store(buf, 1) = 0
A: move_pages(A, buf, 0, 0) = 0
A: r = move_pages(A, buf, 1, MPOL_MF_MOVE) = -ENODEV
assert move_status(r, 0) == -2147483648
A: move_pages(A, buf, 0, MPOL_MF_STRICT) = -EINVAL
assert node(A, buf) == 0
`);
  });
});

describe("diagnostics", () => {
  it("machine nodes=0 and nodes that do not fit memory are PL302 naming the fix", () => {
    expect(codes("machine nodes=0")).toEqual([
      expect.stringMatching(/^PL302 .*nodes=0 must be a whole number from 1 to 64/),
    ]);
    expect(codes("machine memory=64M nodes=4")).toEqual([
      expect.stringMatching(/^PL302 .*lower nodes or raise memory/),
    ]);
    expect(codes("machine nodes=2 movable=1G")).toEqual([
      expect.stringMatching(/^PL302 .*drop movable= or use nodes=1/),
    ]);
  });
  it("a process on a node the machine lacks is PL303 with the range", () => {
    const ds = compile("machine nodes=2\nprocess A node=2").diagnostics;
    expect(ds.map((d) => d.code)).toEqual(["PL303"]);
    expect(ds[0].message).toBe("node=2 is out of range: the machine has 2 node(s)");
    expect(ds[0].hint).toMatch(/machine nodes=3/);
    expect(compile("process A node=1").diagnostics.map((d) => d.code)).toEqual(["PL303"]);
  });
  it("move_status beyond the call's pages is PL506; MPOL_MF takes no other family", () => {
    const r = run(
      compile(PRELUDE + "A: r = move_pages(A, buf, 1, MPOL_MF_MOVE)\nassert move_status(r, 1) == 1"),
    );
    const st = r.steps.find((s) => s.status === "error");
    expect(st?.error?.code).toBe("PL506");
    expect(st?.error?.message).toMatch(/index 1 is outside the call's 1 page/);
    expect(codes(PRELUDE + "A: move_pages(A, buf, 1, MAP_SHARED)").map((c) => c.slice(0, 5))).toEqual([
      "PL204",
    ]);
  });
});
