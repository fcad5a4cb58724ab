/**
 * The scenario language (DESIGN.md "The scenario language (v1)"): text or
 * JSON in, a checked scenario out, and a runner that executes it on the
 * model. Takes text, never files: reading files is the CLI's business, so
 * the browser runs the same code.
 */
import type { CheckedScenario } from "./checker.js";
import { check } from "./checker.js";
import { sortDiagnostics } from "./diagnostics.js";
import { fromJson } from "./json.js";
import type { ParseResult } from "./parser.js";
import { parse } from "./parser.js";
import { run, type RunOptions, type ScenarioResult } from "./runner.js";

export * from "./ast.js";
export { parse, type ParseResult, MAX_NESTING } from "./parser.js";
export { lex, type Token, type TokenKind } from "./lexer.js";
export { check, type CheckedScenario, type CheckOptions, type Resolved } from "./checker.js";
export {
  DIAGNOSTIC_CODES,
  type Diagnostic,
  type DiagnosticCode,
  formatDiagnostic,
  sortDiagnostics,
} from "./diagnostics.js";
export { closest, didYouMean, editDistance } from "./suggest.js";
export { fromJson, toJson, JSON_FORMAT, JSON_VERSION, type ScenarioJson } from "./json.js";
export { printProgram, printStatement, printExpr, printCondition } from "./print.js";
export {
  CALLS,
  CALL_NAMES,
  OBSERVERS,
  OBSERVER_NAMES,
  type ArgKind,
  type ArgSpec,
  type CallerClass,
  type CallName,
  type CallSpec,
  type ObserverName,
  type ObserverSpec,
  type ResultKind,
  isCallName,
  signature,
} from "./calls.js";
export {
  ENTRY_POINTS,
  OBSERVER_IMPLS,
  MOUNTS,
  NOT_YET,
  PAGE_BUDGET,
  pinValue,
  releaseAll,
  RunError,
  implemented,
  type CallContext,
  type EntryPoint,
} from "./entry_points.js";
export {
  run,
  DEFAULT_LIMITS,
  type RunOptions,
  type RunSummary,
  type ScenarioResult,
  type StepResult,
  type StepStatus,
} from "./runner.js";
export {
  HANDLE_KINDS,
  formatStatus,
  formatValue,
  type Handle,
  type HandleKind,
  type Value,
  type ValueJson,
} from "./value.js";
export * as vocab from "./vocab.js";

function checkParsed(p: ParseResult): CheckedScenario {
  const c = check(p.program, p.sourceMap, { assumeDefined: p.partialNames });
  c.diagnostics = sortDiagnostics([...p.diagnostics, ...c.diagnostics]);
  return c;
}

/** Parse and check scenario text; every problem is in `diagnostics`. */
export function compile(text: string): CheckedScenario {
  return checkParsed(parse(text));
}

/** Decode and check a scenario's JSON form (a parsed JSON value). */
export function compileJson(value: unknown): CheckedScenario {
  return checkParsed(fromJson(value));
}

/** Compile and, if the scenario is clean, run it. */
export function runText(
  text: string,
  opts: RunOptions = {},
): { checked: CheckedScenario; result: ScenarioResult | null } {
  const checked = compile(text);
  return { checked, result: checked.diagnostics.length ? null : run(checked, opts) };
}
