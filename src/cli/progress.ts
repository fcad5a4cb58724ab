/**
 * A progress bar on stderr for runs of many scenario files: "[#####-----]
 * 12/40 examples/fork_io_uring.pin", redrawn in place with \r and erased
 * when done. Only for a person watching: never when stderr is not a
 * terminal, never in CI (the CI environment variable), never with --json —
 * so piped, logged and machine-read output stay byte-identical.
 */

export interface ProgressSink {
  /** write to stderr */
  write(s: string): void;
  /** stderr is a terminal */
  isTTY: boolean;
  /** the CI environment variable is set (GitHub Actions, GitLab, … set it) */
  ci: boolean;
}

export interface Progress {
  /** the file about to run, 0-based */
  tick(index: number, label: string): void;
  /** erase the bar */
  done(): void;
}

const NONE: Progress = { tick() {}, done() {} };
const WIDTH = 24;
/** labels longer than this are shortened from the left */
const LABEL = 40;

/** A bar for `total` files, or a no-op when it must not be shown (see the module header). */
export function progress(sink: ProgressSink, total: number, opts: { json?: boolean } = {}): Progress {
  if (!sink.isTTY || sink.ci || opts.json || total < 2) return NONE;
  let shown = false;
  return {
    tick(index, label) {
      const filled = Math.round((index / total) * WIDTH);
      const name = label.length > LABEL ? "…" + label.slice(label.length - LABEL + 1) : label;
      sink.write(
        `\r\x1b[2K[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${index + 1}/${total} ${name}`,
      );
      shown = true;
    },
    done() {
      if (shown) sink.write("\r\x1b[2K");
      shown = false;
    },
  };
}
