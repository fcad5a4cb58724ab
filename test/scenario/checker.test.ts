/**
 * The checker: DESIGN.md examples check clean; names resolve once; machine
 * and process settings become the Machine's configuration; the call table
 * is coherent (every call and observer can be written and checks clean).
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type ArgSpec,
  CALL_NAMES,
  CALLS,
  compile,
  ENTRY_POINTS,
  type HandleKind,
  OBSERVER_NAMES,
  OBSERVERS,
  vocab,
} from "../../src/scenario/index.js";

const DESIGN = new URL("./fixtures/design/", import.meta.url).pathname;

describe("DESIGN.md examples", () => {
  for (const f of readdirSync(DESIGN).filter((x) => x.endsWith(".pin")))
    it(`${f} checks without diagnostics`, () => {
      expect(compile(readFileSync(DESIGN + f, "utf8")).diagnostics).toEqual([]);
    });
});

describe("name resolution", () => {
  it("bindings, processes, constants and symbols resolve once, by node", () => {
    const c = compile(
      "process A\nA: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\nA: B = fork()\nassert zone(B, buf) == MOVABLE\nA: munmap(buf, 4K) = -EFAULT",
    );
    expect(c.diagnostics).toEqual([]);
    const byName = new Map<string, unknown>();
    const s = c.program.statements;
    const walk = (n: unknown): void => {
      if (!n || typeof n !== "object") return;
      const o = n as { kind?: string; id?: number; name?: string };
      if (o.kind === "name" && o.id !== undefined && c.names.has(o.id))
        byName.set(o.name!, c.names.get(o.id));
      Object.values(n).forEach(walk);
    };
    walk(s);
    expect(Object.fromEntries(byName)).toEqual({
      A: { kind: "process", name: "A" },
      B: { kind: "process", name: "B" },
      buf: { kind: "binding", name: "buf" },
      NULL: { kind: "const", value: 0 },
      PROT_READ: { kind: "const", value: 1 },
      PROT_WRITE: { kind: "const", value: 2 },
      MAP_PRIVATE: { kind: "const", value: 2 },
      MAP_ANONYMOUS: { kind: "const", value: 0x20 },
      MOVABLE: { kind: "sym", vocab: "zone", name: "MOVABLE" },
      EFAULT: { kind: "const", value: 14 },
    });
  });
  it("a binding is visible from the next line on, to every process", () => {
    const c = compile("process A\nprocess B\nA: x = load(x)\nB: load(x)");
    expect(c.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ["PL102", "`x` is used before it is defined"],
    ]);
  });
  it("zone and migratetype symbols accept any case and their prefix", () => {
    const src = "process A\nA: b = mmap(NULL, 4K, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)\n";
    for (const s of ["Movable", "ZONE_MOVABLE", "movable", "DMA32", "Normal"])
      expect(compile(src + `assert zone(A, b) == ${s}`).diagnostics).toEqual([]);
    for (const s of ["CMA", "MIGRATE_UNMOVABLE", "Isolate"])
      expect(compile(src + `assert migratetype(A, b) != ${s}`).diagnostics).toEqual([]);
    expect(compile(src + "assert MOVABLE == zone(A, b)").diagnostics).toEqual([]);
  });
});

describe("settings", () => {
  it("machine settings become the Machine configuration", () => {
    const c = compile(
      "machine memory=8G movable=2G cma=64M thp=always thp.zero_page=off hugetlb.2M=16 hugetlb.1G=2 hugetlb.2M.overcommit=4 memlock=64K overcommit=1 seed=42 kconfig.DEBUG_VM=on",
    );
    expect(c.diagnostics).toEqual([]);
    expect(c.config).toEqual({
      memory: 8 * 2 ** 30,
      movable: 2 * 2 ** 30,
      cma: 64 * 2 ** 20,
      thp: "always",
      thpUseZeroPage: false,
      hugetlb2M: 16,
      hugetlb1G: 2,
      hugetlbOvercommit2M: 4,
      memlockLimit: 65536,
      overcommitMemory: 1,
      seed: 42,
      kconfig: { DEBUG_VM: true },
    });
  });
  it("the MachineConfig field names are accepted too", () => {
    expect(compile("machine memlockLimit=1M hugetlb2M=2 thpUseZeroPage=true").config).toEqual({
      memlockLimit: 2 ** 20,
      hugetlb2M: 2,
      thpUseZeroPage: true,
    });
  });
  it("the kernel's own config check speaks for cross-field problems", () => {
    const ds = compile("machine memory=64M movable=62M").diagnostics;
    expect(ds.map((d) => d.code)).toEqual(["PL302"]);
    expect(ds[0].message).toMatch(/leave less than 32M of kernel memory/);
  });
  it("process settings become spawn options", () => {
    const c = compile("process U uid=1000 memlock=64K caps=CAP_IPC_LOCK|CAP_SYS_PTRACE");
    expect([...c.spawn.values()]).toEqual([{ uid: 1000, memlock: 65536, caps: [14, 19] }]);
    expect([...compile("process V caps=none").spawn.values()]).toEqual([{ caps: [] }]);
  });
});

describe("the call table", () => {
  // one binding of each handle kind, and an fd, to pass as arguments
  const PRELUDE = [
    "mount ext4 /data",
    "process A",
    "process B",
    "A: buf = mmap(NULL, 4K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
    'A: fd = memfd_create("m", 0)',
    "kernel: pins = pin_user_pages_fast(A, buf, 1, FOLL_WRITE)",
    "kernel: refs = get_user_pages_fast(A, buf, 1, 0)",
    "A: ring = io_uring_register_buffers(buf, 4K)",
    "A: pp = pipe()",
    "kernel: area = cma_alloc(2M)",
    "A: st = move_pages(A, buf, 0, MPOL_MF_MOVE)",
  ].join("\n");
  const HANDLE_BINDING: Record<HandleKind, string> = {
    pins: "pins",
    refs: "refs",
    io_uring: "ring",
    pipe: "pp",
    cma: "area",
    status: "st",
  };
  const sample = (a: ArgSpec): string => {
    switch (a.kind) {
      case "process":
        return "B";
      case "address":
        return "buf + 4K";
      case "size":
        return "4K";
      case "int":
        return "0";
      case "byte":
        return "0x55";
      case "fd":
        return "fd";
      case "flags":
        return Object.keys(vocab.FLAG_FAMILIES[a.family!])[0];
      case "handle":
        return HANDLE_BINDING[a.handles![0]];
      case "string":
        return '"s"';
      case "path":
        return "/data/f";
    }
  };
  const ACTOR = { process: "A", kernel: "kernel", device: "dev" } as const;
  it("the prelude itself checks clean", () => expect(compile(PRELUDE).diagnostics).toEqual([]));
  for (const name of CALL_NAMES)
    it(`${name} can be written from its table entry and checks clean`, () => {
      const spec = CALLS[name];
      for (const n of [spec.args.filter((a) => !("optional" in a)).length, spec.args.length]) {
        const args = spec.args.slice(0, n).map(sample).join(", ");
        const src = `${PRELUDE}\n${ACTOR[spec.caller]}: r = ${name}(${args})`;
        expect(compile(src).diagnostics, src).toEqual([]);
      }
      expect(spec.kernel).not.toBe("");
      expect(ENTRY_POINTS[name]).toBeDefined();
    });
  for (const name of OBSERVER_NAMES)
    it(`observer ${name} can be written from its table entry and checks clean`, () => {
      const spec = OBSERVERS[name];
      const call = `${name}(${spec.args.map(sample).join(", ")})`;
      const cond =
        spec.result === "bool"
          ? call
          : spec.result === "int"
            ? `${call} >= 0`
            : `${call} != ${vocab.SYMBOLS[spec.result][0]}`;
      expect(compile(`${PRELUDE}\nassert ${cond}`).diagnostics).toEqual([]);
    });
  it("optional arguments are trailing; flags name a family; handles name kinds", () => {
    for (const spec of [...Object.values(CALLS), ...Object.values(OBSERVERS)]) {
      const args: readonly ArgSpec[] = spec.args;
      const firstOpt = args.findIndex((a) => a.optional);
      if (firstOpt >= 0) expect(args.slice(firstOpt).every((a) => a.optional)).toBe(true);
      for (const a of args) {
        if (a.kind === "flags") expect(a.family).toBeDefined();
        if (a.kind === "handle") expect(a.handles?.length).toBeGreaterThan(0);
      }
    }
  });
  it("no call is also an observer except load, the user read versus the observation", () => {
    expect(CALL_NAMES.filter((n) => (OBSERVER_NAMES as string[]).includes(n))).toEqual(["load"]);
  });
});

describe("vocabularies", () => {
  it("flag names map to one family with the kernel's value", () => {
    expect(vocab.FLAGS.get("FOLL_LONGTERM")).toEqual({ family: "FOLL", value: 0x100 });
    expect(vocab.FLAGS.get("MAP_HUGE_1GB")).toEqual({ family: "MAP", value: 30 << 26 });
    expect(vocab.FLAGS.get("MCL_CURRENT")).toEqual({ family: "MCL", value: 1 });
    expect(vocab.FLAGS.get("MLOCK_ONFAULT")).toEqual({ family: "MLOCK", value: 1 });
  });
  it("flag unions wider than 31 bits stay exact", () => {
    const c = compile(
      "process A\nA: mmap(NULL, 1G, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_1GB|0x100000000, -1, 0)",
    );
    expect(c.diagnostics).toEqual([]);
  });
});
