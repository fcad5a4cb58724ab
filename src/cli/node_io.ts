/** The CLI's IO on Node: files, directories, standard streams. */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CliIo } from "./cli.js";

export const nodeIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  readFile: (path) => readFileSync(path === "-" ? 0 : path, "utf8"),
  writeFile: (path, text) => writeFileSync(path, text),
  stderrIsTTY: process.stderr.isTTY === true,
  env: process.env,
  isDirectory: (path) => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  },
  walk: (dir) => {
    const out: string[] = [];
    const visit = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) visit(p);
        else out.push(p);
      }
    };
    visit(dir);
    return out;
  },
};
