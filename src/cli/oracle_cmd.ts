/**
 * `pinlab oracle FILE|DIR…`: each scenario on the model and on this
 * machine's kernel, compared step by step (src/oracle/). Prints one line
 * per scenario — agreement, the first divergence with both sides'
 * evidence, not portable (with the reason), or a fault of the run — and a
 * summary. Asynchronous (the kernel side is a child process), so it is
 * dispatched by cliMain(), not by the synchronous cli().
 */
import { oracleAvailability, unavailableMessage } from "../oracle/native.js";
import { type OracleRun, oracleRun } from "../oracle/differential.js";
import type { StepComparison } from "../oracle/compare.js";
import type { CliIo } from "./cli.js";
import {
  bar,
  intFlag,
  load,
  parseArgs,
  runOptions,
  scenarioFiles,
  stableJson,
  UsageError,
} from "./common.js";
import { formatDiagnostics } from "./report.js";

/** Exit status when the oracle cannot run on this machine at all. */
export const EXIT_ORACLE_UNAVAILABLE = 3;

export interface OracleFileResult extends OracleRun {
  file: string;
}

function where(file: string, line: number | undefined): string {
  return line !== undefined ? `${file}:${line}` : file;
}

function stepLines(s: StepComparison, indent: string): string[] {
  const out = [`${indent}model:  ${s.model}`, `${indent}kernel: ${s.kernel}`];
  for (const n of s.notes) out.push(`${indent}note:   ${n}`);
  return out;
}

/** The human report of one scenario's run. */
export function formatOracleRun(r: OracleFileResult, verbose: boolean): string {
  const lines: string[] = [];
  const counted = r.steps.filter((s) => s.verdict === "agree").length;
  const skipped = r.steps.filter((s) => s.verdict === "not-compared").length;
  switch (r.status) {
    case "agree":
      lines.push(
        `agree         ${r.file}  (${counted} step${counted === 1 ? "" : "s"} agree${skipped ? `, ${skipped} not compared` : ""})`,
      );
      break;
    case "diverge": {
      const d = r.divergence!;
      lines.push(`DIVERGE       ${where(r.file, d.line)}: ${d.text}`);
      lines.push(...stepLines(d, "    "));
      break;
    }
    case "not-portable":
      lines.push(`not portable  ${r.file}`);
      for (const why of r.reasons ?? [])
        lines.push(
          `    ${why.line !== undefined ? `line ${why.line}: ` : ""}${why.text ? `${why.text}: ` : ""}${why.why}`,
        );
      break;
    case "unavailable":
      lines.push(`unavailable   ${r.file}: ${(r.reasons ?? []).map((x) => x.why).join("; ")}`);
      break;
    case "fault": {
      const f = r.fault!;
      lines.push(`FAULT         ${where(r.file, f.line)}: ${f.kind}: ${f.detail}`);
      break;
    }
  }
  if (r.status === "agree" || r.status === "diverge") for (const n of r.notes) lines.push(`    note: ${n}`);
  for (const x of r.residue) lines.push(`    RESIDUE: ${x}`);
  if (verbose && r.status !== "not-portable")
    for (const s of r.steps) {
      lines.push(`    ${s.verdict.padEnd(12)} ${s.line !== undefined ? `${s.line}: ` : ""}${s.text}`);
      lines.push(...stepLines(s, "        "));
    }
  return lines.join("\n") + "\n";
}

/** `pinlab oracle`: 0 every portable scenario agrees, 1 a divergence or fault, 2 bad input, 3 unavailable. */
export async function cmdOracle(argv: string[], io: CliIo): Promise<number> {
  const p = parseArgs(argv, ["seed", "max-pages", "max-steps", "as-limit-mb"], ["json", "verbose", "help"]);
  if (p.files.length === 0) throw new UsageError("oracle needs a DIR or FILEs");
  const opts = runOptions(p);
  const asLimitMb = intFlag(p, "as-limit-mb");
  const json = p.flags.has("json");
  const verbose = p.flags.has("verbose");
  const avail = oracleAvailability();
  if (!avail.ok) {
    io.stderr(`pinlab: ${unavailableMessage(avail)}\n`);
    if (json) io.stdout(stableJson({ unavailable: avail.reason }));
    return EXIT_ORACLE_UNAVAILABLE;
  }
  const files = scenarioFiles(io, p.files);
  const results: (OracleFileResult | { file: string; error: string })[] = [];
  const count = { agree: 0, diverge: 0, "not-portable": 0, fault: 0, unavailable: 0, bad: 0 };
  const progressBar = bar(io, files.length, json);
  for (const [i, file] of files.entries()) {
    progressBar.tick(i, file);
    const l = load(io, file);
    if (!l.checked || l.checked.diagnostics.length) {
      progressBar.done();
      const msg = l.checked
        ? formatDiagnostics(file, l.source, l.checked.diagnostics)
        : `pinlab: ${l.readError}\n`;
      io.stderr(msg);
      results.push({ file, error: msg.trimEnd() });
      count.bad++;
      continue;
    }
    const r: OracleFileResult = {
      file,
      ...(await oracleRun(l.checked, { ...opts, runner: asLimitMb ? { asLimitMb } : undefined })),
    };
    count[r.status]++;
    results.push(r);
    if (!json) {
      progressBar.done();
      io.stdout(formatOracleRun(r, verbose));
    }
  }
  progressBar.done();
  const failed =
    count.diverge + count.fault + results.filter((r) => "residue" in r && r.residue.length > 0).length;
  if (json) io.stdout(stableJson(results.length === 1 ? results[0] : results));
  else
    io.stdout(
      `\n${files.length} scenario${files.length === 1 ? "" : "s"}: ${count.agree} agree, ${count.diverge} diverge, ` +
        `${count.fault} fault${count.fault === 1 ? "" : "s"}, ${count["not-portable"]} not portable, ` +
        `${count.unavailable} unavailable here${count.bad ? `, ${count.bad} bad input` : ""}\n`,
    );
  if (count.bad) return 2;
  return failed > 0 ? 1 : 0;
}
