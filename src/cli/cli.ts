/**
 * The `pinlab` commands over an injected IO, so tests run them in-process:
 * parse options, read files (the only place files are read, DESIGN.md
 * "Layers"), hand text to src/scenario, print. Returns the exit status:
 * 0 good, 1 a scenario failed, 2 bad input.
 */
import { PinlabError } from "../kernel/errors.js";
import { closest, run, type ScenarioResult, toJson } from "../scenario/index.js";
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
import { runDemo } from "./demo.js";
import { explain } from "./explain.js";
import { CHECK_HELP, DEMO_HELP, EXPLAIN_HELP, ORACLE_HELP, RUN_HELP, TEST_HELP, USAGE } from "./help.js";
import { cmdOracle } from "./oracle_cmd.js";
import { ktap, type KtapCase } from "./ktap.js";
import { formatDiagnostics, formatResult } from "./report.js";
import { traceJson } from "./trace.js";

export interface CliIo {
  stdout(s: string): void;
  stderr(s: string): void;
  /** a file's text; "-" is standard input. Throws with a message when unreadable. */
  readFile(path: string): string;
  isDirectory(path: string): boolean;
  /** every file under a directory, recursively, as paths joined to it */
  walk(dir: string): string[];
  /** write a file (`run --trace`); throws with a message when it cannot */
  writeFile?(path: string, text: string): void;
  /** standard error is a terminal: progress bars may be drawn (default false) */
  stderrIsTTY?: boolean;
  /** the environment variables the CLI looks at: CI (no progress bars) */
  env?: Readonly<Record<string, string | undefined>>;
}

const HELPS: Record<string, string> = {
  run: RUN_HELP,
  check: CHECK_HELP,
  test: TEST_HELP,
  explain: EXPLAIN_HELP,
  demo: DEMO_HELP,
  oracle: ORACLE_HELP,
};

// --- commands ---------------------------------------------------------------------------

function cmdCheck(argv: string[], io: CliIo): number {
  const p = parseArgs(argv, [], ["json", "help"]);
  if (p.flags.has("help")) return help(io, "check");
  if (p.files.length === 0) throw new UsageError("check needs at least one FILE");
  let status = 0;
  const docs: unknown[] = [];
  for (const file of p.files) {
    const l = load(io, file);
    if (!l.checked) {
      io.stderr(`pinlab: ${l.readError}\n`);
      status = 2;
      docs.push({ file, error: l.readError });
      continue;
    }
    const c = l.checked;
    if (c.diagnostics.length) status = 2;
    if (p.flags.has("json")) {
      docs.push({ file, scenario: toJson(c.program, c.sourceMap), diagnostics: c.diagnostics });
      if (c.diagnostics.length) io.stderr(formatDiagnostics(file, l.source, c.diagnostics));
    } else if (c.diagnostics.length) io.stderr(formatDiagnostics(file, l.source, c.diagnostics));
    else io.stdout(`${file}: ok (${c.program.statements.length} statements)\n`);
  }
  if (p.flags.has("json")) io.stdout(stableJson(docs.length === 1 ? docs[0] : docs));
  return status;
}

function cmdRun(argv: string[], io: CliIo): number {
  const p = parseArgs(argv, ["seed", "events", "max-pages", "max-steps", "trace"], ["json", "help"]);
  if (p.flags.has("help")) return help(io, "run");
  if (p.files.length === 0) throw new UsageError("run needs at least one FILE");
  const opts = runOptions(p);
  const tracePath = p.flags.get("trace");
  if (tracePath === true || tracePath === "") throw new UsageError("--trace needs a file name");
  if (tracePath !== undefined && !io.writeFile)
    throw new UsageError("--trace: this pinlab cannot write files");
  const json = p.flags.has("json");
  const traced: { file: string; result: ScenarioResult }[] = [];
  const progressBar = bar(io, p.files.length, json);
  const ev = p.flags.get("events");
  let events = 6;
  if (ev === "all") events = Infinity;
  else if (ev !== undefined) events = intFlag(p, "events") ?? 6;
  let status = 0;
  const docs: unknown[] = [];
  p.files.forEach((file, i) => {
    progressBar.tick(i, file);
    const l = load(io, file);
    if (!l.checked) {
      progressBar.done();
      io.stderr(`pinlab: ${l.readError}\n`);
      docs.push({ file, error: l.readError });
      status = 2;
      return;
    }
    const c = l.checked;
    if (c.diagnostics.length) {
      progressBar.done();
      io.stderr(formatDiagnostics(file, l.source, c.diagnostics));
      docs.push({ file, diagnostics: c.diagnostics, result: null });
      status = 2;
      return;
    }
    const r: ScenarioResult = run(c, opts);
    traced.push({ file, result: r });
    if (!r.passed && status === 0) status = 1;
    if (json) docs.push({ file, diagnostics: [], result: r });
    else {
      progressBar.done();
      if (i > 0) io.stdout("\n");
      io.stdout(formatResult(file, l.source, r, { events }));
    }
  });
  progressBar.done();
  if (json) io.stdout(stableJson(docs.length === 1 ? docs[0] : docs));
  if (typeof tracePath === "string") {
    try {
      io.writeFile!(tracePath, JSON.stringify(traceJson(traced)) + "\n");
    } catch (e) {
      io.stderr(`pinlab: cannot write ${tracePath}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 2;
    }
  }
  return status;
}

function cmdTest(argv: string[], io: CliIo): number {
  const p = parseArgs(argv, ["seed", "max-pages", "max-steps"], ["help"]);
  if (p.flags.has("help")) return help(io, "test");
  if (p.files.length === 0) throw new UsageError("test needs a DIR (or FILEs)");
  const opts = runOptions(p);
  const files = scenarioFiles(io, p.files);
  let status = 0;
  const cases: KtapCase[] = [];
  const progressBar = bar(io, files.length, false);
  for (const [i, file] of files.entries()) {
    progressBar.tick(i, file);
    const l = load(io, file);
    if (!l.checked || l.checked.diagnostics.length) {
      status = 2;
      const lines = l.checked
        ? formatDiagnostics(file, l.source, l.checked.diagnostics).trimEnd().split("\n")
        : [l.readError ?? ""];
      cases.push({ name: file, ok: false, directive: "bad input", diagnostics: lines });
      continue;
    }
    const r = run(l.checked, opts);
    const diagnostics = [`${file}`];
    for (const st of r.steps) {
      const where = st.line !== undefined ? `${file}:${st.line}` : `${file} step ${st.step}`;
      if (st.expect && !st.expect.met)
        diagnostics.push(`${where}: ${st.text}: got ${st.result?.kind === "int" ? st.result.text : "?"}`);
      if (st.assert && !st.assert.met) diagnostics.push(`${where}: ${st.text}: ${st.assert.detail}`);
      if (st.error) diagnostics.push(`${where}: ${st.error.code}: ${st.error.message}`);
    }
    const notRun = r.summary.notRun;
    if (notRun) diagnostics.push(`${notRun} step${notRun > 1 ? "s" : ""} not run`);
    // a hazard the scenario does not assert is a failure: the scenario says which hazards it expects
    const asserted = new Set<string>(r.assertedHazards);
    for (const h of r.hazards)
      if (!asserted.has(h.hazard)) {
        const where = h.line !== undefined ? `${file}:${h.line}` : `${file} step ${h.step}`;
        diagnostics.push(`${where}: unexpected hazard ${h.hazard}: ${h.message}`);
      }
    const ok = r.passed && r.summary.hazardsUnexpected === 0;
    if (!ok && status === 0) status = 1;
    cases.push({ name: r.title ?? file, ok, diagnostics: ok ? [] : diagnostics });
  }
  progressBar.done();
  io.stdout(ktap(cases));
  return status;
}

function cmdExplain(argv: string[], io: CliIo): number {
  const p = parseArgs(argv, [], ["help"]);
  if (p.flags.has("help")) return help(io, "explain");
  if (p.files.length === 0) throw new UsageError("explain needs a RULE, errno, function, event or hazard");
  let status = 0;
  p.files.forEach((q, i) => {
    const r = explain(q);
    if (i > 0) io.stdout("\n");
    if (r.found) io.stdout(r.text);
    else {
      io.stderr(r.text);
      status = 2;
    }
  });
  return status;
}

function help(io: CliIo, cmd?: string): number {
  io.stdout(cmd && HELPS[cmd] ? HELPS[cmd] : USAGE);
  return 0;
}

/** Run the `pinlab` command line; returns the exit status. Never throws. */
export function cli(argv: string[], io: CliIo): number {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
        io.stderr(USAGE);
        return 2;
      case "--help":
      case "-h":
        return help(io);
      case "help":
        if (rest[0] && !HELPS[rest[0]]) throw new UsageError(`no command '${rest[0]}'`);
        return help(io, rest[0]);
      case "check":
        return cmdCheck(rest, io);
      case "run":
        return cmdRun(rest, io);
      case "test":
        return cmdTest(rest, io);
      case "explain":
        return cmdExplain(rest, io);
      case "oracle":
        throw new UsageError("oracle runs asynchronously: call cliMain()");
      case "demo":
        if (rest.includes("--help") || rest.includes("-h")) return help(io, "demo");
        io.stdout(runDemo());
        return 0;
    }
    const guess = closest(cmd, [...Object.keys(HELPS), "help"]);
    throw new UsageError(`unknown command '${cmd}'${guess.length ? `; did you mean '${guess[0]}'?` : ""}`);
  } catch (e) {
    return failure(e, cmd, io);
  }
}

/** The exit status and message of an error escaping a command. */
function failure(e: unknown, cmd: string | undefined, io: CliIo): number {
  if (e instanceof UsageError) {
    io.stderr(`pinlab: ${e.message}\n\n${cmd && HELPS[cmd] ? HELPS[cmd] : USAGE}`);
    return 2;
  }
  if (e instanceof PinlabError) {
    io.stderr(`pinlab: ${e.message}\n`);
    return 2;
  }
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  io.stderr(`pinlab: internal error: ${msg}\nplease report it with the command line and the scenario\n`);
  return 70;
}

/** The whole command line, including the asynchronous `oracle`. Never throws. */
export async function cliMain(argv: string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== "oracle") return cli(argv, io);
  if (rest.includes("--help") || rest.includes("-h")) return help(io, "oracle");
  try {
    return await cmdOracle(rest, io);
  } catch (e) {
    return failure(e, cmd, io);
  }
}
