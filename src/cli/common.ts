/**
 * What the `pinlab` commands share: option parsing, loading a scenario
 * file (text or JSON form), the progress bar.
 */
import { type CheckedScenario, compile, compileJson, type RunOptions } from "../scenario/index.js";
import type { CliIo } from "./cli.js";
import { progress } from "./progress.js";

/** The progress bar of a run of `total` files (drawn only on a terminal, never in CI or --json). */
export function bar(io: CliIo, total: number, json: boolean) {
  return progress({ write: (s) => io.stderr(s), isTTY: io.stderrIsTTY === true, ci: !!io.env?.CI }, total, {
    json,
  });
}

export class UsageError extends Error {}

export interface Parsed {
  files: string[];
  flags: Map<string, string | true>;
}

/** `--name value`, `--name=value`, boolean `--name`; the rest are files. */
export function parseArgs(argv: string[], valued: readonly string[], bools: readonly string[]): Parsed {
  const files: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      files.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      if (bools.includes(name) && eq < 0) flags.set(name, true);
      else if (valued.includes(name)) {
        const v = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`--${name} needs a value`);
        flags.set(name, v);
      } else throw new UsageError(`unknown option ${a}`);
    } else if (a === "-h") flags.set("help", true);
    else files.push(a);
  }
  return { files, flags };
}

export function intFlag(p: Parsed, name: string): number | undefined {
  const v = p.flags.get(name);
  if (v === undefined) return undefined;
  if (v === true || !/^[0-9]+$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new UsageError(`--${name} takes a whole number, not '${String(v)}'`);
  return Number(v);
}

export function runOptions(p: Parsed): RunOptions {
  const o: RunOptions = {};
  const seed = intFlag(p, "seed");
  if (seed !== undefined) o.seed = seed;
  const pages = intFlag(p, "max-pages");
  if (pages !== undefined) o.maxPagesPerStep = pages;
  const steps = intFlag(p, "max-steps");
  if (steps !== undefined) o.maxSteps = steps;
  return o;
}

export interface Loaded {
  file: string;
  source?: string;
  checked: CheckedScenario | null;
  /** the file could not be read or its JSON not parsed */
  readError?: string;
}

export function load(io: CliIo, file: string): Loaded {
  let text: string;
  try {
    text = io.readFile(file);
  } catch (e) {
    return {
      file,
      checked: null,
      readError: `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
  if (file.endsWith(".json")) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return {
        file,
        checked: null,
        readError: `${file}: not JSON: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
    return { file, checked: compileJson(value) };
  }
  return { file, source: text, checked: compile(text) };
}

export function stableJson(v: unknown): string {
  return JSON.stringify(v, null, 2) + "\n";
}

/** The files a list of FILE|DIR arguments names: every *.pin under a directory, in name order. */
export function scenarioFiles(io: CliIo, args: readonly string[]): string[] {
  const files: string[] = [];
  for (const f of args) {
    if (io.isDirectory(f))
      files.push(
        ...io
          .walk(f)
          .filter((x) => x.endsWith(".pin"))
          .sort(),
      );
    else files.push(f);
  }
  return files;
}
