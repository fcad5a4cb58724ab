/**
 * Fuzzing the front end and the runner: thousands of random texts and of
 * DESIGN.md and fixture scenarios mutated by deleting, duplicating and
 * replacing characters, tokens and lines. For every input the parser,
 * checker, printer and runner must return — no JS exception, no hang —
 * and a scenario that checks clean must print back to the same tree.
 * The hazard detectors run on every run: a detector that throws becomes a
 * PL599 diagnostic, which fails the property; generated pin-heavy
 * scenarios (files, pins, DMA, writeback, truncate, fork, exit, CMA,
 * offlining) give each detector something to chew on.
 * Seeds are printed by fast-check on failure; rerun with that seed.
 */
import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compile,
  compileJson,
  formatDiagnostic,
  parse,
  printProgram,
  run,
  type RunOptions,
} from "../../src/scenario/index.js";

const dirs = ["design", "anon", "files"].map((d) => new URL(`./fixtures/${d}/`, import.meta.url).pathname);
const SEEDS = dirs.flatMap((d) =>
  readdirSync(d)
    .filter((f) => f.endsWith(".pin"))
    .map((f) => readFileSync(d + f, "utf8")),
);

const TOKEN_RE = /(\s+|[(),:=|+\-!#"<>])/;
const EXTRA_TOKENS = [
  "\n",
  " ",
  "#",
  '"',
  "(",
  ")",
  ",",
  ":",
  "=",
  "==",
  "!=",
  "<=",
  "|",
  "+",
  "-",
  "!",
  "0",
  "1",
  "-1",
  "0x",
  "4G",
  "64T",
  "1T",
  "99999999999999999",
  "NULL",
  "ok",
  "assert",
  "process",
  "machine",
  "kernel",
  "mount",
  "scenario",
  "hazard",
  "no",
  "hazards",
  "fork()",
  "exit(0)",
  "B",
  "C",
  "kernel:",
  "dev:",
  "/data",
  "MADV_DONTNEED",
  "MAP_POPULATE",
  "MCL_CURRENT",
  "mlockall",
  "mremap",
  "munmap",
  "mlock",
  "madvise",
  "MADV_POPULATE_WRITE",
  "hugetlb.1G",
  "memory",
  "é",
  "\t",
  "\r\n",
  "@",
  "'",
];
const TOKENS = [...new Set([...SEEDS.flatMap((s) => s.split(TOKEN_RE)), ...EXTRA_TOKENS])].filter(
  (t) => t !== "",
);

type Mutation = (s: string) => string;
const at = (s: string, i: number) => (s.length === 0 ? 0 : i % (s.length + 1));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 12 })).map(
    ([i, n]): Mutation =>
      (s) =>
        s.slice(0, at(s, i)) + s.slice(at(s, i) + n),
  ),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 40 }), fc.nat()).map(([i, n, j]): Mutation => (s) => {
    const part = s.slice(at(s, i), at(s, i) + n);
    return s.slice(0, at(s, j)) + part + s.slice(at(s, j));
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...TOKENS.filter((t) => t.length === 1))).map(
    ([i, c]): Mutation =>
      (s) =>
        s.slice(0, at(s, i)) + c + s.slice(at(s, i) + 1),
  ),
  fc.tuple(fc.nat(), fc.constantFrom(...TOKENS)).map(([i, t]): Mutation => (s) => {
    const parts = s.split(TOKEN_RE);
    parts[i % parts.length] = t;
    return parts.join("");
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...TOKENS)).map(([i, t]): Mutation => (s) => {
    const parts = s.split(TOKEN_RE);
    parts.splice(i % (parts.length + 1), 0, t);
    return parts.join("");
  }),
  fc.nat().map((i): Mutation => (s) => {
    const parts = s.split(TOKEN_RE);
    parts.splice(i % parts.length, 1);
    return parts.join("");
  }),
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]): Mutation => (s) => {
    const lines = s.split("\n");
    const a = i % lines.length;
    const b = j % lines.length;
    [lines[a], lines[b]] = [lines[b], lines[a]];
    return lines.join("\n");
  }),
  fc.tuple(fc.nat(), fc.nat()).map(([i, j]): Mutation => (s) => {
    const lines = s.split("\n");
    lines.splice(j % (lines.length + 1), 0, lines[i % lines.length]);
    return lines.join("\n");
  }),
);

const mutated = fc
  .tuple(fc.constantFrom(...SEEDS), fc.array(mutation, { minLength: 1, maxLength: 8 }))
  .map(([seed, ms]) => ms.reduce((s, m) => m(s), seed));

const tokenSoup = fc
  .array(fc.array(fc.constantFrom(...TOKENS), { maxLength: 14 }), { maxLength: 12 })
  .map((lines) => lines.map((l) => l.join(" ")).join("\n"));

/** Valid anonymous-memory scenarios, generated: every one must check clean and run to its end. */
const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);
const proc = pick("A", "B");
const bind = pick("b0", "b1", "b2");
const size = pick("4K", "8K", "64K", "2M", "4M");
const off = pick("0", "4K", "1M", "2M - 4K");
const byte = pick("0", "0x11", "0x22", "0xff");
const prot = pick("PROT_NONE", "PROT_READ", "PROT_READ|PROT_WRITE", "PROT_WRITE");
const mapFlags = pick(
  "MAP_PRIVATE|MAP_ANONYMOUS",
  "MAP_SHARED|MAP_ANONYMOUS",
  "MAP_PRIVATE|MAP_ANONYMOUS|MAP_POPULATE",
  "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB",
  "MAP_PRIVATE|MAP_ANONYMOUS|MAP_LOCKED",
);
const madv = pick(
  "MADV_DONTNEED",
  "MADV_FREE",
  "MADV_HUGEPAGE",
  "MADV_NOHUGEPAGE",
  "MADV_DONTFORK",
  "MADV_DOFORK",
  "MADV_WIPEONFORK",
  "MADV_POPULATE_READ",
  "MADV_POPULATE_WRITE",
  "MADV_COLLAPSE",
  "MADV_PAGEOUT",
  "MADV_COLD",
  "MADV_MERGEABLE",
  "MADV_REMOVE",
);
const validStep = fc.oneof(
  fc
    .tuple(proc, bind, size, prot, mapFlags)
    .map(([p, b, n, pr, f]) => `${p}: ${b} = mmap(NULL, ${n}, ${pr}, ${f}, -1, 0)`),
  fc.tuple(proc, bind, off, byte, size).map(([p, b, o, v, n]) => `${p}: memset(${b} + ${o}, ${v}, ${n})`),
  fc.tuple(proc, bind, off, byte).map(([p, b, o, v]) => `${p}: store(${b} + ${o}, ${v})`),
  fc.tuple(proc, bind, off).map(([p, b, o]) => `${p}: v = load(${b} + ${o})`),
  fc.tuple(proc, bind, size).map(([p, b, n]) => `${p}: munmap(${b}, ${n})`),
  fc.tuple(proc, bind, size, prot).map(([p, b, n, pr]) => `${p}: mprotect(${b}, ${n}, ${pr})`),
  fc.tuple(proc, bind, size, madv).map(([p, b, n, a]) => `${p}: madvise(${b}, ${n}, ${a})`),
  fc.tuple(proc, bind, size).map(([p, b, n]) => `${p}: mlock(${b}, ${n})`),
  fc.tuple(proc, bind, size).map(([p, b, n]) => `${p}: munlock(${b}, ${n})`),
  fc
    .tuple(proc, bind, size, size)
    .map(([p, b, n, m]) => `${p}: ${b} = mremap(${b}, ${n}, ${m}, MREMAP_MAYMOVE)`),
  fc
    .tuple(proc, pick("MCL_CURRENT", "MCL_FUTURE", "MCL_CURRENT|MCL_ONFAULT"))
    .map(([p, f]) => `${p}: mlockall(${f})`),
  proc.map((p) => `${p}: munlockall()`),
  fc.tuple(proc, bind, byte).map(([p, b, v]) => `assert load(${p}, ${b}) == ${v}`),
  fc.tuple(proc, bind).map(([p, b]) => `assert pfn(${p}, ${b}) != pfn(A, b0) + 1`),
  fc
    .tuple(
      proc,
      bind,
      pick("anon_exclusive", "maybe_pinned", "dirty", "mapped", "writable", "zero_page", "hugetlb"),
    )
    .map(([p, b, o]) => `assert !${o}(${p}, ${b})`),
  fc.tuple(proc, bind).map(([p, b]) => `assert zone(${p}, ${b}) != MOVABLE`),
  fc
    .tuple(proc, bind)
    .map(([p, b]) => `assert refcount(${p}, ${b}) + mapcount(${p}, ${b}) + order(${p}, ${b}) >= 0`),
  proc.map((p) => `assert vmlck(${p}) + vmpin(${p}) + rss(${p}) >= 0`),
);
const validScenario = fc
  .tuple(
    pick(
      "",
      "machine thp=always",
      "machine movable=1G hugetlb.2M=8",
      "machine memory=256M thp=never",
      "machine cma=64M hugetlb.1G=1",
    ),
    fc.array(validStep, { maxLength: 12 }),
    fc.array(validStep, { maxLength: 12 }),
  )
  .map(([machine, before, after]) =>
    [
      machine,
      "process A",
      "A: b0 = mmap(NULL, 2M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
      "A: b1 = mmap(NULL, 4M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
      "A: b2 = mmap(NULL, 8K, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0)",
      ...before.map((l) => l.replace(/\bB\b/g, "A")),
      "A: B = fork()",
      ...after,
    ].join("\n"),
  );

const LIMITS: RunOptions = {
  maxSteps: 300,
  maxPagesPerStep: 2048,
  maxEventsPerStep: 50,
  maxBootPages: 1 << 16,
};

/** Strip ids and spellings: what the tree means. */
function shape(n: unknown): unknown {
  if (Array.isArray(n)) return n.map(shape);
  if (n && typeof n === "object")
    return Object.fromEntries(
      Object.entries(n)
        .filter(([k]) => k !== "id" && k !== "text")
        .map(([k, v]) => [k, shape(v)]),
    );
  return n;
}

const internal: string[] = [];
let slowest = 0;
let ran = 0;

function exercise(text: string): void {
  const c = compile(text);
  for (const d of c.diagnostics) formatDiagnostic(d, "fuzz.pin", text);
  if (c.diagnostics.length) return;
  const again = parse(printProgram(c.program));
  expect(again.diagnostics).toEqual([]);
  expect(shape(again.program)).toEqual(shape(c.program));
  const t0 = performance.now();
  const r = run(c, LIMITS);
  ran++;
  slowest = Math.max(slowest, performance.now() - t0);
  for (const d of r.diagnostics)
    if (d.code === "PL599") internal.push(`${d.message}\n--- scenario:\n${text}`);
}

/** Pin-heavy scenarios, generated: every detector must get through them without throwing. */
const pinBuf = pick("f", "a", "a + 16K", "f + 32K", "s");
const pinHandle = pick("p0", "p1", "p2", "p3");
const pinStep = fc.oneof(
  fc.tuple(pinHandle, byte).map(([p, v]) => `dev: dma_write(${p}, ${v})`),
  fc.tuple(pinHandle, pick("0", "1", "3")).map(([p, i]) => `dev: v = dma_read(${p}, ${i})`),
  pick(
    "kernel: writeback(/data/f)",
    "kernel: filemap_fdatawrite(/data/f)",
    "kernel: filemap_fdatawait(/data/f)",
    "kernel: compact()",
    "kernel: ksm_scan()",
    "kernel: c = cma_alloc(4M)",
    "kernel: offline_pages(0x18000, 0x200)",
    "A: ftruncate(fd, 0)",
    "A: ftruncate(fd, 64K)",
    "A: fallocate(fd, FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE, 0, 16K)",
    "A: io_uring_unregister_buffers(p2)",
    "A: fsync(fd)",
    "assert no hazards",
    "assert hazard lost_write",
    "assert no hazard pin_leak",
  ),
  fc.tuple(pick("p0", "p1")).map(([p]) => `kernel: unpin_user_pages(${p})`),
  fc.tuple(pick("p0", "p1")).map(([p]) => `kernel: unpin_user_pages_dirty_lock(${p}, 1)`),
  pick("kernel: put_page(p3)"),
  fc
    .tuple(
      pick("kernel", "vfio", "v4l2"),
      pick("p0", "p1"),
      pick("pin_user_pages_fast", "pin_user_pages_remote", "pin_user_pages_unlocked", "pin_user_pages"),
      proc,
      pinBuf,
      pick("FOLL_WRITE", "FOLL_WRITE|FOLL_LONGTERM", "0", "FOLL_LONGTERM"),
    )
    .map(([actor, p, api, who, b, f]) => `${actor}: ${p} = ${api}(${who}, ${b}, 2, ${f})`),
  fc.tuple(proc, pinBuf).map(([who, b]) => `kernel: p3 = get_user_pages(${who}, ${b}, 1, FOLL_WRITE)`),
  fc.tuple(proc, pinBuf, byte).map(([who, b, v]) => `${who}: memset(${b}, ${v}, 4K)`),
  fc
    .tuple(proc, pinBuf, pick("MADV_DONTNEED", "MADV_DONTFORK", "MADV_PAGEOUT", "MADV_REMOVE"))
    .map(([who, b, a]) => `${who}: madvise(${b}, 4K, ${a})`),
  fc.tuple(proc, pinBuf).map(([who, b]) => `${who}: munmap(${b}, 4K)`),
  fc.tuple(proc, pinBuf).map(([who, b]) => `${who}: v = load(${b})`),
);
const pinScenario = fc
  .tuple(
    pick("ext4", "xfs", "btrfs", "tmpfs"),
    pick("", " kconfig.MIGRATION=off"),
    fc.array(pinStep, { maxLength: 14 }),
    // exits end the scenario: a process that exited takes no more steps (PL112)
    pick("", "B: exit(0)", "A: exit(0)", "A: C = fork()\nC: exit(0)\nkernel: compact()"),
  )
  .map(([fs, kconfig, steps, tail]) =>
    [
      `machine memory=512M movable=128M cma=64M${kconfig}`,
      `mount ${fs} /data`,
      "mount tmpfs /shm",
      "process A",
      'A: fd = open("/data/f", O_RDWR|O_CREAT)',
      "A: ftruncate(fd, 64K)",
      "A: f = mmap(NULL, 64K, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)",
      "A: a = mmap(NULL, 64K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
      'A: sfd = open("/shm/s", O_RDWR|O_CREAT)',
      "A: ftruncate(sfd, 16K)",
      "A: s = mmap(NULL, 16K, PROT_READ|PROT_WRITE, MAP_SHARED, sfd, 0)",
      "A: memset(f, 1, 64K)",
      "A: memset(a, 2, 64K)",
      "A: memset(s, 3, 16K)",
      "kernel: p0 = pin_user_pages_fast(A, f, 4, FOLL_WRITE)",
      "io_uring: p1 = pin_user_pages(A, a, 4, FOLL_WRITE|FOLL_LONGTERM)",
      "A: p2 = io_uring_register_buffers(a + 16K, 16K)",
      "kernel: p3 = get_user_pages(A, s, 1, FOLL_WRITE)",
      "A: B = fork()",
      ...steps,
      tail,
    ].join("\n"),
  );

describe("fuzz: the front end and the runner never throw and never hang", () => {
  it("mutated DESIGN.md and fixture scenarios", () => {
    ran = 0;
    fc.assert(
      fc.property(mutated, (t) => exercise(t)),
      { numRuns: 2500 },
    );
    expect(internal.slice(0, 3)).toEqual([]);
    // the mutations must leave enough scenarios valid to exercise the runner
    expect(ran).toBeGreaterThan(100);
    expect(slowest).toBeLessThan(5000);
  });
  it("generated valid anonymous-memory scenarios check clean and run to the end", () => {
    fc.assert(
      fc.property(validScenario, (t) => {
        const c = compile(t);
        expect(c.diagnostics).toEqual([]);
        const r = run(c, { ...LIMITS, maxPagesPerStep: 1 << 16 });
        const errors = r.steps
          .filter((s) => s.status === "error" || s.status === "not-run")
          .map((s) => `${s.text}: ${s.error?.message}`);
        expect(errors).toEqual([]);
      }),
      { numRuns: 800 },
    );
  });
  it("generated pin-heavy scenarios: the hazard detectors never throw, and find the same for the same seed", () => {
    let withHazards = 0;
    fc.assert(
      fc.property(pinScenario, fc.boolean(), (t, twice) => {
        const c = compile(t);
        expect(c.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
        const r = run(c, LIMITS);
        expect(r.diagnostics.filter((d) => d.code === "PL599").map((d) => d.message)).toEqual([]);
        if (r.hazards.length) withHazards++;
        if (twice) expect(JSON.stringify(run(c, LIMITS).hazards)).toBe(JSON.stringify(r.hazards));
      }),
      { numRuns: 400 },
    );
    // the generator must reach the detectors
    expect(withHazards).toBeGreaterThan(50);
  });
  it("random token soup", () => {
    fc.assert(
      fc.property(tokenSoup, (t) => exercise(t)),
      { numRuns: 1500 },
    );
  });
  it("random characters", () => {
    const chars = fc.constantFrom(...'abcAB_0129xKMG:=()|,+-!<>#"\n /.\t\\é');
    fc.assert(
      fc.property(fc.string({ unit: chars, maxLength: 200 }), (t) => exercise(t)),
      { numRuns: 1500 },
    );
  });
  it("random JSON values as scenarios", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        compileJson(v);
        compileJson({ format: "pinlab-scenario", version: 1, program: v });
      }),
      { numRuns: 1000 },
    );
  });
  it("mutated JSON forms of the fixtures", () => {
    const docs = SEEDS.map((s) => JSON.parse(JSON.stringify(parse(s).program)) as unknown);
    fc.assert(
      fc.property(
        fc.constantFrom(...docs),
        fc.array(fc.tuple(fc.nat(), fc.jsonValue({ maxDepth: 2 })), { maxLength: 4 }),
        (doc, edits) => {
          const copy = structuredClone(doc);
          // replace random sub-values
          for (const [i, v] of edits) {
            const slots: [Record<string, unknown>, string][] = [];
            const walk = (o: unknown) => {
              if (o && typeof o === "object")
                for (const [k, x] of Object.entries(o as Record<string, unknown>)) {
                  slots.push([o as Record<string, unknown>, k]);
                  walk(x);
                }
            };
            walk(copy);
            if (slots.length) {
              const [o, k] = slots[i % slots.length];
              o[k] = v;
            }
          }
          const c = compileJson(copy);
          if (c.diagnostics.length === 0) run(c, LIMITS);
        },
      ),
      { numRuns: 800 },
    );
  });
});
