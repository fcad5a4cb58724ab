/**
 * The differential corpus of test/oracle/corpus: portable scenarios over
 * the matrix memory kind × pin mechanism × event (docs/oracle.md
 * "Corpus"). Each scenario is written here as steps and observations
 * without values; the values are filled in from a run on the model (each
 * step's result as `= value`, each observation as an assert), so the
 * corpus states what the model says, and `pinlab oracle` checks that the
 * live kernel agrees. `npm run gen:oracle-corpus` rewrites the files;
 * test/oracle/corpus.test.ts checks the committed files are what this
 * generator makes.
 *
 * What matters is taken from the kernel's own tests
 * (tools/testing/selftests/mm/cow.c, gup_longterm.c): whether a pin and
 * the page table still agree after fork, COW, unsharing, MADV_DONTNEED,
 * mprotect, truncation, THP split and collapse, KSM; whether a long-term
 * pin of each memory kind is allowed at all.
 */
import { errnoName } from "../src/kernel/include/errno.js";
import { runModel } from "../src/oracle/model_side.js";
import type { SideValue } from "../src/oracle/scenario_walk.js";
import { CALLS, isCallName, isObserverName, OBSERVERS } from "../src/scenario/calls.js";
import { compile } from "../src/scenario/index.js";

/** A line of a scenario before its values are known. */
type Line =
  | { kind: "text"; text: string }
  /** a step: its result is appended as `= value` */
  | { kind: "step"; text: string; note?: string }
  /** an observation: becomes `assert OBS == value` (or `assert OBS` / `assert !OBS` for a bool) */
  | { kind: "value"; obs: string; note?: string }
  /** two pfn observations: `assert pfn(...) == pfn(...)` or `!=` */
  | { kind: "same"; a: string; b: string; note?: string };

const text = (t: string): Line => ({ kind: "text", text: t });
const step = (t: string, note?: string): Line => ({ kind: "step", text: t, note });
const value = (obs: string, note?: string): Line => ({ kind: "value", obs, note });
const same = (a: string, b: string, note?: string): Line => ({ kind: "same", a, b, note });

export interface CorpusScenario {
  /** file name without .pin */
  name: string;
  title: string;
  comment: string[];
  lines: Line[];
}

// --- memory kinds ----------------------------------------------------------------------------------

interface MemKind {
  id: string;
  what: string;
  machine?: string;
  mount?: string;
  /** bytes mapped at buf (pins and events work on its first pages) */
  size: string;
  /** set up `buf` in process A with content 0x11 in page 0 (zero page: never written) */
  setup: Line[];
  /** a file behind it that ftruncate can cut */
  file: boolean;
  /** a THP or hugetlb folio: observe its order */
  large: boolean;
  /** memory whose pages user space cannot read through /proc/PID/mem, and GUP refuses */
  secret?: boolean;
}

const RW = "PROT_READ|PROT_WRITE";
const ANON = "MAP_PRIVATE|MAP_ANONYMOUS";

const MEM_KINDS: MemKind[] = [
  {
    id: "anon",
    what: "private anonymous memory (small pages)",
    size: "16K",
    setup: [step(`A: buf = mmap(NULL, 16K, ${RW}, ${ANON}, -1, 0)`), step("A: memset(buf, 0x11, 16K)")],
    file: false,
    large: false,
  },
  {
    id: "anon2M",
    what: "2M of private anonymous memory in small pages (no MADV_HUGEPAGE)",
    machine: "machine thp=madvise",
    size: "2M",
    setup: [step(`A: buf = mmap(NULL, 2M, ${RW}, ${ANON}, -1, 0)`), step("A: memset(buf, 0x11, 2M)")],
    file: false,
    large: true,
  },
  {
    id: "thp",
    what: "an anonymous THP (MADV_HUGEPAGE, PMD-mapped)",
    machine: "machine thp=madvise",
    size: "2M",
    setup: [
      step(`A: buf = mmap(NULL, 2M, ${RW}, ${ANON}, -1, 0)`),
      step("A: madvise(buf, 2M, MADV_HUGEPAGE)"),
      step("A: memset(buf, 0x11, 2M)"),
    ],
    file: false,
    large: true,
  },
  {
    id: "zero",
    what: "the shared zero page (private anonymous memory only read)",
    size: "16K",
    setup: [step(`A: buf = mmap(NULL, 16K, ${RW}, ${ANON}, -1, 0)`), step("A: z = load(buf)")],
    file: false,
    large: false,
  },
  {
    id: "hugetlb2M",
    what: "a private hugetlb 2M page",
    machine: "machine hugetlb.2M=2",
    size: "2M",
    setup: [
      step(`A: buf = mmap(NULL, 2M, ${RW}, ${ANON}|MAP_HUGETLB|MAP_HUGE_2MB, -1, 0)`),
      step("A: memset(buf, 0x11, 4K)"),
    ],
    file: false,
    large: true,
  },
  {
    id: "hugetlb1G",
    what: "a private hugetlb 1G page",
    machine: "machine hugetlb.1G=1",
    size: "1G",
    setup: [
      step(`A: buf = mmap(NULL, 1G, ${RW}, ${ANON}|MAP_HUGETLB|MAP_HUGE_1GB, -1, 0)`),
      step("A: memset(buf, 0x11, 4K)"),
    ],
    file: false,
    large: true,
  },
  {
    id: "memfd",
    what: "a shared memfd mapping",
    size: "16K",
    setup: [
      step('A: mfd = memfd_create("pinlab", 0)'),
      step("A: ftruncate(mfd, 16K)"),
      step(`A: buf = mmap(NULL, 16K, ${RW}, MAP_SHARED, mfd, 0)`),
      step("A: memset(buf, 0x11, 16K)"),
    ],
    file: true,
    large: false,
  },
  {
    id: "tmpfs",
    what: "a shared tmpfs file mapping",
    mount: "mount tmpfs /t",
    size: "16K",
    setup: [
      step('A: ffd = open("/t/f", O_RDWR|O_CREAT)'),
      step("A: ftruncate(ffd, 16K)"),
      step(`A: buf = mmap(NULL, 16K, ${RW}, MAP_SHARED, ffd, 0)`),
      step("A: memset(buf, 0x11, 16K)"),
    ],
    file: true,
    large: false,
  },
  {
    id: "ext4-shared",
    what: "a shared ext4 file mapping",
    mount: "mount ext4 /d",
    size: "16K",
    setup: [
      step('A: ffd = open("/d/f", O_RDWR|O_CREAT)'),
      step("A: ftruncate(ffd, 16K)"),
      step(`A: buf = mmap(NULL, 16K, ${RW}, MAP_SHARED, ffd, 0)`),
      step("A: memset(buf, 0x11, 16K)"),
    ],
    file: true,
    large: false,
  },
  {
    id: "ext4-private",
    what: "a private ext4 file mapping (written: COWed into anonymous pages)",
    mount: "mount ext4 /d",
    size: "16K",
    setup: [
      step('A: ffd = open("/d/f", O_RDWR|O_CREAT)'),
      step("A: ftruncate(ffd, 16K)"),
      step(`A: buf = mmap(NULL, 16K, ${RW}, MAP_PRIVATE, ffd, 0)`),
      step("A: memset(buf, 0x11, 8K)"),
    ],
    file: true,
    large: false,
  },
  {
    id: "secretmem",
    what: "memfd_secret memory",
    size: "16K",
    setup: [
      step("A: sfd = memfd_secret(0)"),
      step("A: ftruncate(sfd, 16K)"),
      step(`A: buf = mmap(NULL, 16K, ${RW}, MAP_SHARED, sfd, 0)`),
      step("A: memset(buf, 0x11, 16K)"),
    ],
    file: false,
    large: false,
    secret: true,
  },
];

// --- observations ----------------------------------------------------------------------------------

/** What every scenario looks at after an event, for process P at address X. */
function look(k: MemKind, p: string, at = "buf"): Line[] {
  const out: Line[] = [value(`mapped(${p}, ${at})`)];
  if (!k.secret) out.push(value(`load(${p}, ${at})`));
  out.push(value(`anon(${p}, ${at})`), value(`anon_exclusive(${p}, ${at})`), value(`zero_page(${p}, ${at})`));
  if (k.large) out.push(value(`order(${p}, ${at})`), value(`hugetlb(${p}, ${at})`));
  return out;
}

// --- pin mechanisms --------------------------------------------------------------------------------

interface Mechanism {
  id: string;
  what: string;
  /** a pin that outlives the call (the event happens while it is held) */
  held: boolean;
  /** mount lines it needs */
  mount?: string;
  /** take the pin, or do the access, on A's buf */
  pin(k: MemKind): Line[];
  /** look through the pin at what the device / pipe / other process sees of page 0 */
  view(k: MemKind): Line[];
  /** write through the pin into page 0 (a device write), when it can */
  write?(k: MemKind): Line[];
  release?(k: MemKind): Line[];
}

const MECHANISMS: Mechanism[] = [
  {
    id: "io_uring",
    what: "io_uring fixed buffer (FOLL_WRITE|FOLL_LONGTERM pin)",
    held: true,
    pin: () => [
      step("A: fixed = io_uring_register_buffers(buf, 4K)", "pin_user_pages(FOLL_WRITE|FOLL_LONGTERM)"),
    ],
    view: () => [step("dev: v = dma_read(fixed)", "IORING_OP_WRITE_FIXED reads the pinned page")],
    write: () => [step("dev: dma_write(fixed, 0x77)", "IORING_OP_READ_FIXED writes the pinned page")],
    release: () => [step("A: io_uring_unregister_buffers(fixed)")],
  },
  {
    id: "vmsplice",
    what: "vmsplice into a pipe (FOLL_GET references held by the pipe)",
    held: true,
    pin: () => [step("A: p = pipe()"), step("A: vmsplice(p, buf, 4K, 0)")],
    view: () => [step("A: v = read(p, 4K)", "what the pipe holds: the page vmsplice took")],
  },
  {
    id: "odirect",
    what: "O_DIRECT write from and read into the buffer (short-term FOLL_PIN)",
    held: false,
    mount: "mount ext4 /io",
    pin: () => [
      step('A: dfd = open("/io/dio", O_RDWR|O_CREAT|O_DIRECT)'),
      step("A: ftruncate(dfd, 4K)"),
      step("A: pwrite(dfd, buf, 4K, 0)", "pins buf read-only for the I/O"),
    ],
    view: () => [step("A: v = read(dfd, 4K)", "what reached the file")],
    write: () => [
      step("A: pwrite(dfd2, src, 4K, 0)"),
      step("A: pread(dfd, buf, 4K, 0)", "pins buf FOLL_WRITE: the file's data lands in the page"),
    ],
  },
  {
    id: "process_vm",
    what: "process_vm_readv/writev by another process (short-term FOLL_GET of the remote pages)",
    held: false,
    pin: () => [
      step(`P: lb = mmap(NULL, 4K, ${RW}, ${ANON}, -1, 0)`),
      step("P: process_vm_readv(A, lb, 4K, buf, 4K, 0)", "get_user_pages_remote() of A's page"),
    ],
    view: () => [value("load(P, lb)")],
    write: () => [
      step("P: memset(lb, 0x77, 4K)"),
      step("P: process_vm_writev(A, lb, 4K, buf, 4K, 0)", "FOLL_WRITE on A's page: unshares a COW page"),
    ],
  },
  {
    id: "proc_mem",
    what: "/proc/self/mem reads and writes (access_remote_vm with FOLL_FORCE)",
    held: false,
    pin: () => [
      step('A: mem = open("/proc/self/mem", O_RDWR)'),
      step(`A: dst = mmap(NULL, 4K, ${RW}, ${ANON}, -1, 0)`),
      step("A: pread(mem, dst, 4K, buf)", "FOLL_FORCE read of the page"),
    ],
    view: () => [value("load(A, dst)")],
    write: () => [
      step(`A: src = mmap(NULL, 4K, ${RW}, ${ANON}, -1, 0)`),
      step("A: memset(src, 0x77, 4K)"),
      step("A: pwrite(mem, src, 4K, buf)", "FOLL_FORCE|FOLL_WRITE"),
    ],
  },
  {
    id: "populate",
    what: "MADV_POPULATE_READ / MADV_POPULATE_WRITE (GUP without pages)",
    held: false,
    pin: (k) => [
      step(`A: madvise(buf, ${k.large ? k.size : "8K"}, MADV_POPULATE_READ)`, "faults in as a read would"),
    ],
    view: () => [],
    write: (k) => [
      step(
        `A: madvise(buf, ${k.large ? k.size : "8K"}, MADV_POPULATE_WRITE)`,
        "faults in writable: breaks COW",
      ),
    ],
  },
];

// --- events ----------------------------------------------------------------------------------------

interface Event {
  id: string;
  what: string;
  applies(k: MemKind, m: Mechanism): boolean;
  lines(k: MemKind, m: Mechanism): Line[];
}

/** A's write to page 0 after the event, and what each side sees. */
function writeAndLook(k: MemKind, m: Mechanism, procs: string[]): Line[] {
  const out: Line[] = [step("A: store(buf, 0x22)")];
  for (const p of procs) out.push(...look(k, p));
  out.push(...m.view(k));
  return out;
}

const EVENTS: Event[] = [
  {
    id: "plain",
    what: "the pin alone, then a CPU write",
    applies: () => true,
    lines: (k, m) => [
      ...m.pin(k),
      ...look(k, "A"),
      value("vmpin(A)"),
      value("foll_pins()"),
      ...writeAndLook(k, m, ["A"]),
      ...(m.write ? [...m.write(k), ...look(k, "A")] : []),
      ...(m.release ? [...m.release(k), value("vmpin(A)"), value("foll_pins()")] : []),
    ],
  },
  {
    id: "fork-before",
    what: "fork, then the parent pins a COW-shared page",
    applies: (k) => !k.secret,
    lines: (k, m) => [
      step("A: B = fork()"),
      same("pfn(A, buf)", "pfn(B, buf)"),
      value("anon_exclusive(A, buf)"),
      ...m.pin(k),
      same("pfn(A, buf)", "pfn(B, buf)", "a pin of a shared anon page unshares it first"),
      ...look(k, "A"),
      ...look(k, "B"),
      ...writeAndLook(k, m, ["A", "B"]),
      step("B: store(buf + 4K, 0x33)"),
      value("load(A, buf + 4K)"),
      ...(m.write ? [...m.write(k), value("load(B, buf)")] : []),
      ...(m.release ? m.release(k) : []),
      step("B: exit(0)"),
    ],
  },
  {
    id: "fork-after",
    what: "the pin, then fork: the parent writes, the child must not see it",
    applies: (k) => !k.secret,
    lines: (k, m) => [
      ...m.pin(k),
      step("A: B = fork()"),
      same("pfn(A, buf)", "pfn(B, buf)", "a maybe-pinned exclusive page is copied for the child at fork"),
      same("pfn(A, buf + 4K)", "pfn(B, buf + 4K)"),
      ...look(k, "A"),
      ...look(k, "B"),
      ...writeAndLook(k, m, ["A", "B"]),
      ...(m.write ? [...m.write(k), value("load(A, buf)"), value("load(B, buf)")] : []),
      ...(m.release ? m.release(k) : []),
      step("B: exit(0)"),
      ...look(k, "A"),
    ],
  },
  {
    id: "child-writes",
    what: "the pin, fork, then the child writes",
    applies: (k, m) => !k.secret && m.held,
    lines: (k, m) => [
      ...m.pin(k),
      step("A: B = fork()"),
      step("B: store(buf, 0x44)"),
      ...look(k, "A"),
      ...look(k, "B"),
      ...m.view(k),
      ...(m.release ? m.release(k) : []),
      step("B: exit(0)"),
    ],
  },
  {
    id: "mprotect",
    what: "the pin, then mprotect(PROT_READ): CPU writes fault, the pin stays",
    applies: () => true,
    lines: (k, m) => [
      ...m.pin(k),
      step(`A: mprotect(buf, ${k.size}, PROT_READ)`),
      step("A: store(buf, 0x22)", "SIGSEGV"),
      ...look(k, "A"),
      ...(m.write ? [...m.write(k), ...look(k, "A")] : []),
      step(`A: mprotect(buf, ${k.size}, ${RW})`),
      ...writeAndLook(k, m, ["A"]),
      ...(m.release ? m.release(k) : []),
    ],
  },
  {
    id: "dontneed",
    what: "the pin, then MADV_DONTNEED: the page table forgets the page, the pin does not",
    applies: (k) => !k.secret,
    lines: (k, m) => [
      ...m.pin(k),
      step(`A: madvise(buf, ${k.size}, MADV_DONTNEED)`),
      ...look(k, "A"),
      ...writeAndLook(k, m, ["A"]),
      ...(m.release ? [...m.release(k), value("vmpin(A)"), value("foll_pins()")] : []),
    ],
  },
  {
    id: "munmap",
    what: "the pin, then munmap: the pin outlives the mapping",
    applies: () => true,
    lines: (k, m) => [
      ...m.pin(k),
      step(`A: munmap(buf, ${k.size})`),
      value("mapped(A, buf)"),
      value("vmpin(A)"),
      value("foll_pins()"),
      ...(m.held ? m.view(k) : []),
      ...(m.release ? [...m.release(k), value("vmpin(A)"), value("foll_pins()")] : []),
    ],
  },
  {
    id: "ftruncate",
    what: "the pin, then ftruncate to 0 and back: the page leaves the file, the pin keeps it",
    applies: (k) => k.file,
    lines: (k, m) => [
      ...m.pin(k),
      step(`A: ftruncate(${k.id === "memfd" ? "mfd" : "ffd"}, 0)`),
      value("mapped(A, buf)"),
      step(`A: ftruncate(${k.id === "memfd" ? "mfd" : "ffd"}, 16K)`),
      ...look(k, "A"),
      ...writeAndLook(k, m, ["A"]),
      ...(m.release ? m.release(k) : []),
    ],
  },
  {
    id: "split",
    what: "the pin, then a partial mprotect splits the THP mapping",
    applies: (k) => k.id === "thp",
    lines: (k, m) => [
      ...m.pin(k),
      step("A: mprotect(buf + 1M, 4K, PROT_READ)", "splits the PMD mapping"),
      ...look(k, "A"),
      same("pfn(A, buf)", "pfn(A, buf + 4K)"),
      value("order(A, buf + 1M)"),
      ...writeAndLook(k, m, ["A"]),
      ...(m.release ? m.release(k) : []),
    ],
  },
  {
    id: "collapse",
    what: "small pages with a pin, then MADV_COLLAPSE",
    // MADV_COLLAPSE collides with a held pin only: a transient access leaves nothing behind
    applies: (k, m) => k.id === "anon2M" && m.held,
    lines: (k, m) => [
      value("order(A, buf)"),
      ...m.pin(k),
      step("A: madvise(buf, 2M, MADV_COLLAPSE)", "a pinned page makes collapse fail"),
      value("order(A, buf)"),
      ...writeAndLook(k, m, ["A"]),
      ...(m.release
        ? [...m.release(k), step("A: madvise(buf, 2M, MADV_COLLAPSE)"), value("order(A, buf)")]
        : []),
    ],
  },
  {
    id: "ksm",
    what: "two identical pages made mergeable, one of them pinned: ksmd skips the pinned one",
    applies: (k, m) => k.id === "anon" && m.held,
    lines: (k, m) => [
      step("A: memset(buf, 0x5a, 8K)"),
      ...m.pin(k),
      step("A: madvise(buf, 16K, MADV_MERGEABLE)"),
      step("kernel: ksm_scan()"),
      step("kernel: ksm_scan()"),
      same("pfn(A, buf)", "pfn(A, buf + 4K)", "a maybe-pinned page is never merged"),
      same("pfn(A, buf + 8K)", "pfn(A, buf + 12K)", "two unpinned identical pages are"),
      ...look(k, "A"),
      ...writeAndLook(k, m, ["A"]),
      ...(m.release ? m.release(k) : []),
    ],
  },
  {
    id: "uffd-move",
    what: "the pin, then UFFDIO_MOVE of the pinned page and of its unpinned neighbour",
    applies: (k, m) => (k.id === "anon" || k.id === "thp") && m.held,
    lines: (k, m) => [
      ...m.pin(k),
      step(`A: dst = mmap(NULL, ${k.size}, ${RW}, ${ANON}, -1, 0)`),
      step("A: uffdio_move(dst, buf, 4K)", "-EBUSY if pinned (a vmsplice reference does not stop it)"),
      step(
        "A: uffdio_move(dst + 4K, buf + 4K, 4K)",
        "in a THP: the folio must split first, which extra references prevent",
      ),
      ...look(k, "A"),
      ...look(k, "A", "dst"),
      ...look(k, "A", "buf + 4K"),
      ...look(k, "A", "dst + 4K"),
      ...writeAndLook(k, m, ["A"]),
      ...(m.release ? [...m.release(k), step("A: uffdio_move(dst, buf, 4K)"), ...look(k, "A", "dst")] : []),
    ],
  },
  {
    id: "move-pages",
    what: "the pin, then move_pages(2) to this node, to a node that does not exist, and the status query",
    applies: (k, m) =>
      (k.id === "anon" || k.id === "thp" || k.id === "memfd" || k.id === "hugetlb2M") && m.held,
    lines: (k, m) => [
      ...m.pin(k),
      step(
        "A: r = move_pages(A, buf, 0, MPOL_MF_MOVE, 2)",
        "already on node 0: status 0, nothing to migrate",
      ),
      value("move_status(r, 0)"),
      value("move_status(r, 1)"),
      step("A: move_pages(A, buf, 1, MPOL_MF_MOVE)", "no node 1"),
      step("A: q = move_pages_stat(A, buf, 4)"),
      value("move_status(q, 0)"),
      value("move_status(q, 3)"),
      value("node(A, buf)"),
      ...m.view(k),
      ...(m.release ? m.release(k) : []),
    ],
  },
];

// --- assembling --------------------------------------------------------------------------------------

function needsSecondProcess(lines: Line[]): boolean {
  return lines.some((l) => (l.kind === "step" ? /^P: /.test(l.text) : false));
}

function scenarioFor(k: MemKind, m: Mechanism, e: Event): CorpusScenario | null {
  if (!e.applies(k, m)) return null;
  // 2M of small pages exists for MADV_COLLAPSE; the other events are covered by "anon"
  if (k.id === "anon2M" && e.id !== "collapse") return null;
  const body = e.lines(k, m);
  const header: Line[] = [];
  if (k.machine) header.push(text(k.machine));
  const mounts = new Set([k.mount, m.mount].filter((x): x is string => !!x));
  for (const mt of mounts) header.push(text(mt));
  header.push(text(""), text("process A"));
  if (needsSecondProcess(body)) header.push(text("process P"));
  const extra: Line[] = [];
  if (m.id === "odirect" && body.some((l) => l.kind === "step" && l.text.includes("dfd2"))) {
    // the file whose data an O_DIRECT read brings in
    extra.push(
      step('A: dfd2 = open("/io/src", O_RDWR|O_CREAT)'),
      step("A: ftruncate(dfd2, 4K)"),
      step(`A: src = mmap(NULL, 4K, ${RW}, ${ANON}, -1, 0)`),
      step("A: memset(src, 0x77, 4K)"),
    );
    // dio reads the data back from "src" through a second O_DIRECT fd on the same file
    for (const l of body)
      if (l.kind === "step" && l.text === "A: pread(dfd, buf, 4K, 0)") l.text = "A: pread(dfd3, buf, 4K, 0)";
    extra.push(step('A: dfd3 = open("/io/src", O_RDWR|O_DIRECT)'));
  }
  const name = `${k.id}_${m.id}_${e.id}`;
  return {
    name,
    title: `${k.what}, ${m.what}: ${e.what}`,
    comment: [
      `Memory: ${k.what}.`,
      `Pin: ${m.what}.`,
      `Event: ${e.what}.`,
      "Generated by tools/oracle_corpus.ts; the values are the model's, checked against the live kernel by `pinlab oracle`.",
    ],
    lines: [...header, ...k.setup, ...extra, ...body],
  };
}

/** Every scenario of the corpus, in a stable order. */
export function corpusScenarios(): CorpusScenario[] {
  const out: CorpusScenario[] = [];
  for (const k of MEM_KINDS)
    for (const m of MECHANISMS)
      for (const e of EVENTS) {
        const s = scenarioFor(k, m, e);
        if (s) out.push(s);
      }
  return out;
}

// --- filling in the model's values -----------------------------------------------------------------

function fmtStepValue(call: string, v: { kind: string; n?: number; b?: boolean; name?: string }): string {
  if (v.kind !== "int" || v.n === undefined) return v.kind === "bool" ? String(v.b) : (v.name ?? "0");
  const n = v.n;
  const kind = isCallName(call) ? CALLS[call].result : "int";
  if (n < 0) return `-${errnoName(n) ?? String(-n)}`;
  if (kind === "address" || kind === "process") return "ok";
  if (kind === "content") return "0x" + n.toString(16);
  return String(n);
}

function fmtObs(obs: string, v: SideValue): string {
  switch (v.kind) {
    case "bool":
      return v.b ? `assert ${obs}` : `assert !${obs}`;
    case "int": {
      const n = v.n;
      const rhs =
        n < 0
          ? `-${errnoName(n) ?? String(-n)}`
          : obs.startsWith("load(")
            ? "0x" + n.toString(16)
            : String(n);
      return `assert ${obs} == ${rhs}`;
    }
    default:
      throw new Error(`${obs}: the model has no value (${JSON.stringify(v)})`);
  }
}

function skeleton(s: CorpusScenario): string[] {
  const out = s.comment.map((c) => `# ${c}`);
  out.push(`scenario "${s.title}"`);
  for (const l of s.lines)
    switch (l.kind) {
      case "text":
        out.push(l.text);
        break;
      case "step":
        out.push(l.text);
        break;
      case "value": {
        // a placeholder the model's value replaces: a bool observer stands alone, others compare
        const name = l.obs.slice(0, l.obs.indexOf("("));
        out.push(
          isObserverName(name) && OBSERVERS[name].result === "bool"
            ? `assert ${l.obs}`
            : `assert ${l.obs} == 0`,
        );
        break;
      }
      case "same":
        out.push(`assert ${l.a} == ${l.b}`);
        break;
    }
  return out;
}

/** A line the model cannot run (it uses what an earlier failed step did not make). */
class Unrunnable extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The scenario's text with the model's values filled in. A line the model
 * cannot run because an earlier step failed (a pin refused, a fork without
 * memory) is left out: the failure itself is what the scenario shows.
 */
export function renderScenario(s: CorpusScenario): string {
  let lines = [...s.lines];
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      return renderOnce({ ...s, lines });
    } catch (e) {
      if (!(e instanceof Unrunnable)) throw e;
      lines = lines.filter((_, i) => i !== e.index);
    }
  }
  throw new Error(`${s.name}: too many lines the model cannot run`);
}

function renderOnce(s: CorpusScenario): string {
  const lines = skeleton(s);
  const src = lines.join("\n") + "\n";
  const c = compile(src);
  if (c.diagnostics.length)
    throw new Error(
      `${s.name}: ${c.diagnostics.map((d) => `line ${d.loc?.line ?? "?"}: ${d.message}`).join("; ")}`,
    );
  const model = runModel(c);
  const firstLine = s.comment.length + 2; // 1-based line of s.lines[0]
  for (const r of model.result.steps) {
    if (r.line === undefined) continue;
    const idx = r.line - firstLine;
    const l = s.lines[idx];
    if (!l) continue;
    if (r.status === "error" || r.status === "not-run")
      throw new Unrunnable(idx, `${s.name}:${r.line}: ${r.text}: ${r.error?.message ?? r.status}`);
    const note = l.kind === "text" ? undefined : l.note;
    const tail = note ? `   # ${note}` : "";
    if (l.kind === "step") {
      const call = /:\s*(?:\w+\s*=\s*)?(\w+)\(/.exec(l.text)?.[1] ?? "";
      lines[r.line - 1] = `${l.text} = ${fmtStepValue(call, r.result ?? { kind: "int", n: 0 })}${tail}`;
    } else if (l.kind === "value") {
      const o = model.observations.get(r.step)?.[0];
      if (!o) throw new Error(`${s.name}:${r.line}: no observation`);
      lines[r.line - 1] = fmtObs(l.obs, o.value) + tail;
    } else if (l.kind === "same") {
      const [a, b] = model.observations.get(r.step) ?? [];
      if (a?.value.kind !== "int" || b?.value.kind !== "int")
        throw new Error(
          `${s.name}:${r.line}: pfn not observable on the model (${a?.value.kind}, ${b?.value.kind})`,
        );
      lines[r.line - 1] = `assert ${l.a} ${a.value.n === b.value.n ? "==" : "!="} ${l.b}${tail}`;
    }
  }
  return lines.join("\n") + "\n";
}
