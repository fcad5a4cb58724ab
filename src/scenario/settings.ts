/**
 * Settings: `machine key=value…` and `process NAME key=value…`. Each key
 * comes from one list (vocab.ts MACHINE_KEYS, PROCESS_KEYS); values are
 * checked for their type (size, count, switch, one of a list) and range,
 * then the kernel's own configuration check (config.ts resolveConfig)
 * speaks for cross-field problems.
 */
import { type MachineConfigInput, resolveConfig } from "../kernel/config.js";
import { PinlabError } from "../kernel/errors.js";
import { HPAGE_PMD_SIZE } from "../kernel/include/mmzone.js";
import type { SpawnOptions } from "../kernel/machine.js";
import type { Expr, NodeId, Setting } from "./ast.js";
import { constValue } from "./constant.js";
import type { DiagnosticCode } from "./diagnostics.js";
import { printExpr } from "./print.js";
import { didYouMean, listSome } from "./suggest.js";
import {
  BOOL_WORDS,
  CAP,
  isProcessKey,
  MACHINE_KEYS,
  type MachineKeySpec,
  PROCESS_KEYS,
  THP_MODES,
} from "./vocab.js";

/** How settings report: the checker's diagnostics sink. */
export interface Reporter {
  report(
    code: DiagnosticCode,
    node: { id: NodeId },
    message: string,
    extra?: { expected?: string; hint?: string },
  ): void;
  line(id: NodeId): number | undefined;
}

export class SettingsChecker {
  private readonly config: MachineConfigInput = {};
  private readonly kconfig: Record<string, boolean> = {};
  private readonly machineKeysSeen = new Map<string, number | undefined>();
  private machineOk = true;

  constructor(private readonly r: Reporter) {}

  /** The machine configuration the settings seen so far ask for. */
  configInput(): MachineConfigInput {
    const cfg: MachineConfigInput = { ...this.config };
    if (Object.keys(this.kconfig).length) cfg.kconfig = { ...this.kconfig };
    return cfg;
  }

  /** One `key=value` of a machine line. */
  machine(st: Setting): void {
    const key = st.key.name;
    const spec = MACHINE_KEYS.get(key);
    if (!spec) {
      this.machineOk = false;
      this.r.report("PL109", st.key, `unknown machine setting \`${key}\``, {
        expected: listSome([...MACHINE_KEYS.keys()], 12),
        hint: didYouMean(key, MACHINE_KEYS.keys()),
      });
      return;
    }
    if (this.machineKeysSeen.has(spec.field)) {
      this.r.report("PL305", st.key, `\`${key}\` is set twice`, {
        hint: `it was already set${this.machineKeysSeen.get(spec.field) ? ` at line ${this.machineKeysSeen.get(spec.field)}` : ""}`,
      });
      return;
    }
    this.machineKeysSeen.set(spec.field, this.r.line(st.id));
    const v = this.settingValue(st, spec.type === "thp" ? THP_MODES : undefined);
    if (v === null) {
      this.machineOk = false;
      return;
    }
    const field = spec.field;
    if (isKconfigField(field)) {
      this.kconfig[field.slice("kconfig.".length)] = v as boolean;
      return;
    }
    const shown = `${key}=${printExpr(st.value)}`;
    const bad = (msg: string, hint?: string) => {
      this.machineOk = false;
      this.r.report("PL302", st.value, msg, { hint });
    };
    switch (field) {
      case "memory":
      case "movable":
      case "cma": {
        const n = v as number;
        if (n % HPAGE_PMD_SIZE !== 0)
          return bad(
            `${shown} is not a multiple of 2M`,
            `round it to 2M pageblocks, e.g. ${key}=${roundUp2M(n)}`,
          );
        if (field === "memory" && n < 64 * 1024 ** 2)
          return bad(`${shown} is below the model's 64M minimum`, "use e.g. memory=4G");
        if (field === "memory" && n > 64 * 1024 ** 4) return bad(`${shown} is above the model's 64T maximum`);
        this.config[field] = n;
        return;
      }
      case "thp":
        this.config.thp = v as (typeof THP_MODES)[number];
        return;
      case "thpUseZeroPage":
        this.config.thpUseZeroPage = v as boolean;
        return;
      case "overcommitMemory":
        this.config.overcommitMemory = v as 0 | 1 | 2;
        return;
      default:
        this.config[field] = v as number;
    }
  }

  /**
   * The value of a setting for its declared type, or null after reporting.
   * size: bytes ≥ 0; count: integer ≥ 0; bool; thp/overcommit: one of a list.
   */
  private settingValue(st: Setting, words?: readonly string[]): number | boolean | string | null {
    const spec = MACHINE_KEYS.get(st.key.name);
    const type = spec?.type ?? "count";
    const v = st.value;
    const key = st.key.name;
    if (type === "bool") {
      if (v.kind === "name" && Object.prototype.hasOwnProperty.call(BOOL_WORDS, v.name))
        return BOOL_WORDS[v.name];
      const n = constValue(v);
      if (n === 0 || n === 1) return n === 1;
      this.r.report("PL208", v, `${key} is a switch`, { expected: "true or false (on/off, yes/no, 1/0)" });
      return null;
    }
    if (type === "thp") {
      if (v.kind === "name" && words?.includes(v.name)) return v.name;
      this.r.report("PL208", v, `thp takes always, madvise or never`, {
        expected: THP_MODES.join(", "),
        hint: v.kind === "name" ? didYouMean(v.name, THP_MODES) : undefined,
      });
      return null;
    }
    const n = constValue(v);
    if (n === null) {
      this.r.report("PL208", v, `${key} takes a number`, {
        expected: type === "size" ? "a size such as 4G, 2M or 0" : "a whole number",
      });
      return null;
    }
    if (n < 0) {
      this.r.report(type === "size" ? "PL301" : "PL303", v, `${key}=${printExpr(v)} is negative`, {
        expected: "a value ≥ 0",
      });
      return null;
    }
    if (!Number.isSafeInteger(n)) {
      this.r.report("PL303", v, `${key}=${printExpr(v)} is too large`);
      return null;
    }
    if (type === "overcommit" && n > 2) {
      this.r.report("PL303", v, `overcommit=${printExpr(v)}: vm.overcommit_memory is 0, 1 or 2`);
      return null;
    }
    return n;
  }

  /** Cross-field checks: let the kernel's own config validation speak. */
  /** After the last machine line: cross-field checks, at `at`. */
  finish(at: { id: NodeId }): void {
    if (!this.machineOk) return;
    try {
      resolveConfig(this.configInput());
    } catch (e) {
      if (!(e instanceof PinlabError)) throw e;
      this.r.report("PL302", at, e.message);
    }
  }

  /** A process line's settings as spawn options. */
  process(settings: Setting[]): SpawnOptions {
    const opts: SpawnOptions = {};
    const seen = new Set<string>();
    for (const st of settings) {
      const key = st.key.name;
      if (!isProcessKey(key)) {
        this.r.report("PL109", st.key, `unknown process setting \`${key}\``, {
          expected: Object.keys(PROCESS_KEYS).join(", "),
          hint: didYouMean(key, Object.keys(PROCESS_KEYS)),
        });
        continue;
      }
      if (seen.has(key)) {
        this.r.report("PL305", st.key, `\`${key}\` is set twice`);
        continue;
      }
      seen.add(key);
      if (key === "caps") {
        const caps = this.caps(st.value);
        if (caps) opts.caps = caps;
        continue;
      }
      const n = constValue(st.value);
      if (n === null) {
        this.r.report("PL208", st.value, `${key} takes a number`, {
          expected: key === "memlock" ? "a size such as 64K" : "a whole number",
        });
        continue;
      }
      if (n < 0 || !Number.isSafeInteger(n)) {
        this.r.report(key === "memlock" ? "PL301" : "PL303", st.value, `${key}=${n} is out of range`, {
          expected: "≥ 0",
        });
        continue;
      }
      if (key === "node") {
        const nodes = this.config.nodes ?? 1;
        if (n >= nodes) {
          this.r.report("PL303", st.value, `node=${n} is out of range: the machine has ${nodes} node(s)`, {
            expected: `0 … ${nodes - 1}`,
            hint: `use node=0 … ${nodes - 1}, or give the machine more nodes (machine nodes=${n + 1})`,
          });
          continue;
        }
        opts.node = n;
      } else if (key === "uid") opts.uid = n;
      else opts.memlock = n;
    }
    return opts;
  }

  private caps(e: Expr): number[] | null {
    const out: number[] = [];
    const leaves: Expr[] = [];
    const walk = (x: Expr): void => {
      if (x.kind === "binary" && x.op === "|") {
        walk(x.left);
        walk(x.right);
      } else leaves.push(x);
    };
    walk(e);
    let ok = true;
    for (const l of leaves) {
      if (l.kind === "name" && l.name === "none") continue;
      if (l.kind === "num" && l.value === 0) continue;
      if (l.kind === "name" && Object.prototype.hasOwnProperty.call(CAP, l.name)) {
        out.push(CAP[l.name as keyof typeof CAP]);
        continue;
      }
      ok = false;
      this.r.report("PL105", l, `unknown capability ${l.kind === "name" ? `\`${l.name}\`` : ""}`.trim(), {
        expected: `${Object.keys(CAP).join(", ")} or none`,
        hint: l.kind === "name" ? didYouMean(l.name, Object.keys(CAP)) : undefined,
      });
    }
    return ok ? out : null;
  }
}

function isKconfigField(f: MachineKeySpec["field"]): f is `kconfig.${string}` & MachineKeySpec["field"] {
  return f.startsWith("kconfig.");
}

function roundUp2M(n: number): string {
  return fmtSize(Math.ceil(n / HPAGE_PMD_SIZE) * HPAGE_PMD_SIZE);
}

/** 4294967296 → "4G" when exact, else the number. */
export function fmtSize(n: number): string {
  for (const [s, m] of [
    ["T", 1024 ** 4],
    ["G", 1024 ** 3],
    ["M", 1024 ** 2],
    ["K", 1024],
  ] as const)
    if (n !== 0 && n % m === 0) return `${n / m}${s}`;
  return String(n);
}
