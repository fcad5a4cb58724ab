/**
 * The scenario lexer: text → tokens with positions. Line-oriented: newlines
 * are tokens, `#` starts a comment. Numbers take binary size suffixes
 * (K, M, G, T: 4K = 4096), hex (0xaa) and C octal (0755). A `/` starts a
 * path (the language has no division). Bad characters become error tokens
 * with a diagnostic; lexing goes on.
 */
import { diag, type Diagnostic } from "./diagnostics.js";

export type TokenKind = "ident" | "num" | "str" | "path" | "punct" | "newline" | "eof" | "error";

export interface Token {
  kind: TokenKind;
  /** the source text of the token */
  text: string;
  /** numbers: the value; strings and paths: the decoded text */
  num?: number;
  str?: string;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
  /** whitespace (or a comment) separates it from the previous token on the line */
  spaceBefore: boolean;
}

export const PUNCTUATION = [
  "==",
  "!=",
  "<=",
  ">=",
  "(",
  ")",
  ",",
  ":",
  "=",
  "<",
  ">",
  "|",
  "+",
  "-",
  ".",
  "!",
] as const;

const SIZE_SUFFIX: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

const CHAR_HINTS: Record<string, string> = {
  ";": "a statement ends at the end of its line; drop the `;`",
  "'": 'strings use double quotes: "text"',
  "*": "the language has no multiplication; write the size directly (8K, 2M)",
  "&": "flags combine with `|`",
  "[": "iovec calls take one range each: process_vm_readv(B, dst, 4K, src, 4K, 0)",
  "{": "one statement per line; there are no blocks",
};

/** Parse a number's spelling; a value or the reason it is malformed. */
export function parseNumber(text: string): { value: number } | { error: string; hint?: string } {
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return { value: checkedValue(parseInt(text.slice(2), 16)) };
  if (/^0[xX]/.test(text))
    return {
      error: `\`${text}\` is not a hex number`,
      hint: "hex digits are 0-9 and a-f; hex takes no size suffix",
    };
  if (/^0[0-7]+$/.test(text)) return { value: checkedValue(parseInt(text.slice(1), 8)) };
  const m = /^([0-9]+)([kKmMgGtT]?)$/.exec(text);
  if (m) {
    const base = Number(m[1]);
    const mult = m[2] ? SIZE_SUFFIX[m[2].toLowerCase()] : 1;
    return { value: checkedValue(base * mult) };
  }
  const sized = /^([0-9]+)([kKmMgGtT])([iI]?[bB])$/.exec(text);
  if (sized)
    return { error: `\`${text}\` is not a size`, hint: `write \`${sized[1]}${sized[2].toUpperCase()}\`` };
  if (/^0[0-9]+$/.test(text))
    return {
      error: `\`${text}\` is not an octal number`,
      hint: "a leading 0 means octal (digits 0-7), as in C",
    };
  return {
    error: `\`${text}\` is not a number`,
    hint: "numbers are decimal (4096), hex (0x1000) or sizes with a binary suffix (4K, 2M, 1G, 1T)",
  };
}

/** NaN marks a value beyond 2^53, reported by the lexer. */
function checkedValue(v: number): number {
  return Number.isSafeInteger(v) ? v : NaN;
}

export function lex(src: string): { tokens: Token[]; diagnostics: Diagnostic[] } {
  const tokens: Token[] = [];
  const diagnostics: Diagnostic[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let spaceBefore = false;
  const n = src.length;
  const col = (at: number) => at - lineStart + 1;
  const push = (kind: TokenKind, start: number, end: number, extra: Partial<Token> = {}) => {
    tokens.push({
      kind,
      text: src.slice(start, end),
      line,
      col: col(start),
      endLine: line,
      endCol: col(end),
      spaceBefore,
      ...extra,
    });
    spaceBefore = false;
  };
  const err = (
    code: "PL001" | "PL002" | "PL003" | "PL303",
    start: number,
    end: number,
    msg: string,
    hint?: string,
  ) => {
    diagnostics.push(
      diag(
        code,
        msg,
        { loc: { line, col: col(start), endLine: line, endCol: col(Math.max(end, start + 1)) } },
        { hint },
      ),
    );
  };

  while (i < n) {
    const c = src[i];
    if (c === "\n" || c === "\r") {
      const start = i;
      i += c === "\r" && src[i + 1] === "\n" ? 2 : 1;
      push("newline", start, start + 1);
      line++;
      lineStart = i;
      spaceBefore = false;
      continue;
    }
    if (c === " " || c === "\t" || c === "\f" || c === "\v" || c === "\u00a0" || c === "\ufeff") {
      i++;
      spaceBefore = true;
      continue;
    }
    if (c === "#") {
      while (i < n && src[i] !== "\n" && src[i] !== "\r") i++;
      spaceBefore = true;
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_]/.test(src[i])) i++;
      push("ident", start, i);
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < n && /[A-Za-z0-9_]/.test(src[i])) i++;
      const text = src.slice(start, i);
      const r = parseNumber(text);
      if ("error" in r) {
        err("PL003", start, i, r.error, r.hint);
        push("error", start, i);
      } else if (Number.isNaN(r.value)) {
        err("PL303", start, i, `\`${text}\` is too large`, "numbers must stay below 2^53 (8P)");
        push("error", start, i);
      } else push("num", start, i, { num: r.value });
      continue;
    }
    if (c === '"') {
      i++;
      let s = "";
      let closed = false;
      while (i < n && src[i] !== "\n" && src[i] !== "\r") {
        const d = src[i];
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "\\" && i + 1 < n && src[i + 1] !== "\n" && src[i + 1] !== "\r") {
          const e = src[i + 1];
          s += e === "n" ? "\n" : e === "t" ? "\t" : e === "0" ? "\0" : e;
          i += 2;
          continue;
        }
        s += d;
        i++;
      }
      if (!closed) {
        err("PL002", start, i, "unterminated string", 'close it with `"` on the same line');
        push("error", start, i);
      } else push("str", start, i, { str: s });
      continue;
    }
    if (c === "/") {
      i++;
      while (i < n && !/[\s,()#"=|]/.test(src[i])) i++;
      push("path", start, i, { str: src.slice(start, i) });
      continue;
    }
    const two = src.slice(i, i + 2);
    const p = PUNCTUATION.find((x) => x === two) ?? PUNCTUATION.find((x) => x === c);
    if (p) {
      i += p.length;
      push("punct", start, i);
      continue;
    }
    // one character (a whole surrogate pair) that cannot start a token
    const cp = src.codePointAt(i) ?? 0;
    const width = cp > 0xffff ? 2 : 1;
    i += width;
    const shown = JSON.stringify(src.slice(start, i));
    err("PL001", start, i, `unexpected character ${shown}`, CHAR_HINTS[c]);
    push("error", start, i);
  }
  push("eof", n, n);
  return { tokens, diagnostics };
}
