/**
 * `pinlab demo`: the showcase. Runs a curated handful of examples/ — the
 * famous cases of Linux page pinning — and prints, for each, its story
 * (the scenario's header comment) and the run in pinlab's human output:
 * every step with its result, the hazards with the pin that caused them,
 * and the verdict. Kernel events are left out; `pinlab run --events all
 * FILE` shows them.
 *
 * The scenarios are read from the examples/ folder shipped with the
 * package (package.json "files"), found relative to this module: from
 * dist/src/cli/ when installed or built, from src/cli/ when run from the
 * sources (tests). This is the CLI layer, so it may read files.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PinlabError } from "../kernel/errors.js";
import { compile, run } from "../scenario/index.js";
import { formatDiagnostics, formatResult } from "./report.js";

/**
 * The showcase, in the order it is told: the CVE and its hugetlb leftover,
 * fork with a pinned page, which mappings may be pinned long-term, what a
 * pin does to CMA, and what it does to the page cache.
 */
export const SHOWCASE: readonly string[] = [
  "fork_vmsplice_anon_cve-2020-29374.pin",
  "fork_vmsplice_hugetlb_leak.pin",
  "fork_io_uring.pin",
  "longterm_io_uring_ext4-shared_efault_memfd_ok.pin",
  "cma-alloc_vfio-remote-pin_shortterm_ebusy.pin",
  "cma-alloc_vfio-remote-pin_longterm_ok.pin",
  "writeback_ext4_shortterm-pin_dma-after-clean_lost-write.pin",
  "truncate_ext4_shortterm-pin_orphan_divergence.pin",
];

/** Output lines longer than this are wrapped at a space, continuing two columns further in. */
const WIDTH = 130;

/**
 * The examples/ folder of this package: three levels up from dist/src/cli/,
 * two from src/cli/. Throws a PinlabError naming the places looked at.
 */
export function examplesDir(): string {
  const tried: string[] = [];
  for (const up of ["../../../examples/", "../../examples/"]) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(dir + SHOWCASE[0])) return dir;
    tried.push(dir);
  }
  throw new PinlabError(
    `pinlab demo: cannot find the examples/ folder (looked in ${tried.join(" and ")}); ` +
      "reinstall the package, or run scenarios directly with `pinlab run FILE`",
  );
}

/** The header comment of a scenario: its leading `#` lines, without the `# `. */
export function story(source: string): string[] {
  const out: string[] = [];
  for (const line of source.split("\n")) {
    if (!line.startsWith("#")) break;
    out.push(line.replace(/^# ?/, ""));
  }
  return out;
}

/** A long line as several, broken at spaces, continuations indented under it. */
export function wrap(line: string, width = WIDTH): string[] {
  const indent = " ".repeat((/^ */.exec(line)?.[0].length ?? 0) + 2);
  const out: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const cut = rest.lastIndexOf(" ", width);
    if (cut <= indent.length) break;
    out.push(rest.slice(0, cut));
    rest = indent + rest.slice(cut + 1).trimStart();
  }
  out.push(rest);
  return out;
}

/** Run the showcase; the text to print. */
export function runDemo(): string {
  const dir = examplesDir();
  const out: string[] = [
    "pinlab demo — famous cases of Linux 6.18 page pinning, run on the model",
    "",
    `${SHOWCASE.length} scenarios from examples/ (examples/README.md lists all of them). For each: the story,`,
    "then every step with its result (→), ✓ for an expectation or assert that held, the hazards",
    "found with the pin that caused them, and PASS or FAIL.",
  ];
  let passed = 0;
  SHOWCASE.forEach((name, i) => {
    const file = `examples/${name}`;
    const source = readFileSync(dir + name, "utf8");
    out.push("", "━".repeat(100), `${i + 1}/${SHOWCASE.length}  ${file}`, "━".repeat(100));
    for (const l of story(source)) out.push(`  ${l}`.trimEnd());
    out.push("");
    const checked = compile(source);
    if (checked.diagnostics.length) {
      out.push(formatDiagnostics(file, source, checked.diagnostics).trimEnd());
      return;
    }
    const r = run(checked);
    if (r.passed) passed++;
    for (const l of formatResult(file, source, r, { events: 0 }).trimEnd().split("\n")) out.push(...wrap(l));
  });
  out.push(
    "",
    "━".repeat(100),
    `${passed}/${SHOWCASE.length} showcase scenarios passed.`,
    "",
    "Next:",
    "  pinlab run --events all examples/fork_io_uring.pin   one scenario with every kernel event and rule",
    "  pinlab test examples                                 the whole corpus as KTAP",
    "  docs/tutorial.md                                     write your own scenario",
  );
  return out.join("\n") + "\n";
}
