/** Running `pinlab` in-process over a fake file system, for the CLI tests. */
import { cli, type CliIo } from "../../src/cli/cli.js";

export interface FakeOptions {
  /** stderr is a terminal */
  tty?: boolean;
  env?: Record<string, string>;
}

export function fakeIo(files: Record<string, string>, o: FakeOptions = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const written: Record<string, string> = {};
  const io: CliIo = {
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    readFile: (p) => {
      if (!(p in files)) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return files[p];
    },
    isDirectory: (p) => Object.keys(files).some((f) => f.startsWith(p.endsWith("/") ? p : p + "/")),
    walk: (d) => Object.keys(files).filter((f) => f.startsWith(d.endsWith("/") ? d : d + "/")),
    writeFile: (p, text) => {
      if (p.startsWith("/nonexistent/")) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      written[p] = text;
    },
    stderrIsTTY: o.tty ?? false,
    env: o.env ?? {},
  };
  return { io, out: () => out.join(""), err: () => err.join(""), written };
}

export function pinlab(argv: string[], files: Record<string, string> = {}, o: FakeOptions = {}) {
  const { status, out, err } = pinlabWrites(argv, files, o);
  return { status, out, err };
}

/** `pinlab`, also returning the files it wrote. */
export function pinlabWrites(argv: string[], files: Record<string, string> = {}, o: FakeOptions = {}) {
  const f = fakeIo(files, o);
  const status = cli(argv, f.io);
  return { status, out: f.out(), err: f.err(), written: f.written };
}
