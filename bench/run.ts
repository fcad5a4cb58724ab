/**
 * npm run bench: the model's hot paths, one JSON line per figure.
 *
 * pin: for 64 MiB and 1 GiB of already-faulted memory (small anon pages,
 * anon THP, hugetlb 2M), pin_user_pages_fast(FOLL_WRITE|FOLL_LONGTERM) of
 * the whole range in one call (PINLAB_BENCH_CHUNK pages per call if set),
 * then unpin_user_pages, timed separately, into PageArrays;
 * medians over repetitions, in nanoseconds per 4 KiB page; and the model's
 * metadata bytes per touched page (memmap + page tables).
 */
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { FOLL_LONGTERM, FOLL_WRITE } from "../src/kernel/include/foll_flags.js";
import {
  MADV,
  MAP_ANONYMOUS,
  MAP_HUGETLB,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
} from "../src/kernel/include/mman.js";
import { Machine } from "../src/kernel/machine.js";
import { pin_user_pages_fast, unpin_user_pages } from "../src/kernel/mm/gup.js";
import { PageArray } from "../src/kernel/mm/page_array.js";

type Mem = "anon-nothp" | "anon-thp" | "hugetlb-2M";
const MiB = 1024 * 1024;
const PAGE = 4096;
/** rounds before measuring, when given; else the warm-up below decides */
const WARMUP = Number(process.env.PINLAB_BENCH_WARMUP ?? 0) || 0;
/** the warm-up's wall-clock bounds and the window in which it watches the round time settle */
const WARMUP_MIN_MS = 1000;
const WARMUP_MAX_MS = 3000;
const SETTLE_MS = 250;
/** measure for at least this long too: a burst of load over a few ms cannot move the median */
const MEASURE_MIN_MS = 250;
/** pages per pin call: the whole range at once, as io_uring registers a buffer (io_pin_pages()) */
const CHUNK = Number(process.env.PINLAB_BENCH_CHUNK ?? 0) || Infinity;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function setup(mem: Mem, size: number): { m: Machine; pid: number; buf: number } {
  const hugePages = mem === "hugetlb-2M" ? size / (2 * MiB) : 0;
  const m = new Machine({
    memory: Math.max(4 * 1024 * MiB, 2 * size + 512 * MiB),
    thp: mem === "anon-thp" ? "always" : "never",
    hugetlb2M: hugePages,
  });
  const pid = m.spawn("bench");
  const flags = MAP_PRIVATE | MAP_ANONYMOUS | (mem === "hugetlb-2M" ? MAP_HUGETLB : 0);
  const buf = m.mmap(pid, 0, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (buf < 0) throw new Error(`bench: mmap ${mem} ${size} failed: ${buf}`);
  if (mem === "anon-thp") m.madvise(pid, buf, size, MADV.MADV_HUGEPAGE);
  if (m.memset(pid, buf, 0x5a, size) !== 0) throw new Error("bench: fault-in failed");
  return { m, pid, buf };
}

function benchPin(mem: Mem, size: number): void {
  const { m, pid, buf } = setup(mem, size);
  const nr = size / PAGE;
  const chunk = Math.min(CHUNK, nr);
  const task = m.task(pid);
  // many short rounds, over MEASURE_MIN_MS at least: the median is robust against a busy machine
  const reps = size >= 1024 * MiB ? 31 : 201;
  let measureStart = Infinity;
  // Measure the steady state, after V8 has optimised the walk. V8 compiles optimised code on
  // one background thread, a function at a time, so the walk's functions (gup_fast_walk is hot
  // only after a few hundred calls) land tens to hundreds of ms after they got hot: on a busy
  // machine later than 300 rounds of a 64 MiB huge-page pin take (~40 µs each), and a warm-up
  // counted in rounds then ends part-way through, putting the median on either side of the
  // switch. Warm up for WARMUP rounds when given, else for at least 300 rounds, 2M pages and
  // WARMUP_MIN_MS, then until the median round time of a SETTLE_MS window no longer falls;
  // at most WARMUP_MAX_MS.
  const warmupStart = performance.now();
  const minWarmup = Math.max(5, Math.ceil(2 ** 21 / nr));
  let warmup = WARMUP || Infinity;
  let window: number[] = [];
  let windowEnd = warmupStart + SETTLE_MS;
  let prevWindow = Infinity;
  let settled = false;
  const pinNs: number[] = [];
  const unpinNs: number[] = [];
  // the page arrays, as the model's own callers allocate them (pin_user.ts)
  const all: PageArray[] = [];
  for (let i = 0; i < nr / chunk; i++) all.push(new PageArray(chunk));
  m.k.asTask(task, () => {
    // the warm-up rounds let the JIT settle and are not counted; then reps rounds and MEASURE_MIN_MS
    for (let r = 0; r < reps + warmup || performance.now() - measureStart < MEASURE_MIN_MS; r++) {
      let t0 = performance.now();
      for (let i = 0; i < all.length; i++) {
        const got = pin_user_pages_fast(
          m.k,
          buf + i * chunk * PAGE,
          chunk,
          FOLL_WRITE | FOLL_LONGTERM,
          all[i],
        );
        if (got !== chunk) throw new Error(`bench: pin returned ${got}`);
      }
      const pin = performance.now() - t0;
      t0 = performance.now();
      for (let i = 0; i < all.length; i++) unpin_user_pages(m.k, all[i], chunk);
      const unpin = performance.now() - t0;
      if (warmup === Infinity) {
        const now = performance.now();
        window.push(pin + unpin);
        if (now >= windowEnd) {
          const med = median(window);
          settled = med >= 0.95 * prevWindow;
          prevWindow = med;
          window = [];
          windowEnd = now + SETTLE_MS;
        }
        const spent = now - warmupStart;
        if (
          r + 1 >= minWarmup &&
          (spent >= WARMUP_MAX_MS || (r + 1 >= 300 && spent >= WARMUP_MIN_MS && settled))
        )
          warmup = r + 1;
      } else if (r >= warmup) {
        if (pinNs.length === 0) measureStart = performance.now() - pin - unpin;
        pinNs.push((pin * 1e6) / nr);
        unpinNs.push((unpin * 1e6) / nr);
      }
    }
  });
  const line = {
    bench: "pin_user_pages_fast+unpin_user_pages",
    mem,
    size_bytes: size,
    pages_per_call: chunk,
    pin_median_ns_pp: Number(median(pinNs).toFixed(3)),
    unpin_median_ns_pp: Number(median(unpinNs).toFixed(3)),
    metadata_bytes_per_page: Number((m.metadataBytes() / nr).toFixed(2)),
  };
  process.stdout.write(JSON.stringify(line) + "\n");
}

// Each figure runs in a fresh process, so one configuration's JIT state cannot slow another's.
const [argMem, argSize] = process.argv.slice(2);
if (argMem) benchPin(argMem as Mem, Number(argSize));
else
  for (const size of [64 * MiB, 1024 * MiB])
    for (const mem of ["anon-nothp", "anon-thp", "hugetlb-2M"] as Mem[])
      process.stdout.write(
        execFileSync(process.execPath, [fileURLToPath(import.meta.url), mem, String(size)], {
          encoding: "utf8",
        }),
      );
