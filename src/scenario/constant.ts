/**
 * Constant expressions: the value of an expression made only of literals,
 * flag and errno names and `NULL`, as the checker needs it for sizes and
 * settings. Bindings are not constants.
 */
import { ERRNO } from "../kernel/include/errno.js";
import type { Expr } from "./ast.js";
import { FLAGS, isErrnoName } from "./vocab.js";

/** The integer value of a constant expression, or null (names of bindings are not constant). */
export function constValue(e: Expr): number | null {
  switch (e.kind) {
    case "num":
      return e.value;
    case "neg": {
      const v = constValue(e.operand);
      return v === null ? null : -v;
    }
    case "binary": {
      const l = constValue(e.left);
      const r = constValue(e.right);
      if (l === null || r === null) return null;
      return e.op === "+" ? l + r : e.op === "-" ? l - r : orInt(l, r);
    }
    case "name": {
      if (e.name === "NULL") return 0;
      const f = FLAGS.get(e.name);
      if (f) return f.value;
      if (isErrnoName(e.name)) return ERRNO[e.name];
      return null;
    }
    default:
      return null;
  }
}

/** Bitwise or on integers beyond 32 bits (flag words stay below 2^32, addresses may not). */
export function orInt(a: number, b: number): number {
  if (a >= 0 && b >= 0 && a <= 0x7fffffff && b <= 0x7fffffff) return a | b;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return NaN;
  const r = BigInt.asIntN(64, BigInt(Math.trunc(a)) | BigInt(Math.trunc(b)));
  return Number(r);
}
