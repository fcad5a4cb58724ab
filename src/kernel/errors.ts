/**
 * PinlabError: misuse of the model's TypeScript API (a pid that does not
 * exist, a negative length passed by a program rather than by a modelled
 * user). Kernel-visible bad input is answered with -errno instead, as the
 * kernel would. The message names the call and says what to fix.
 */
export class PinlabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PinlabError";
  }
}

/** A kernel BUG() was reached: the machine halts (DESIGN.md "Conventions"). */
export class KernelOops extends PinlabError {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(`kernel BUG at ${where}: ${message}`);
    this.name = "KernelOops";
  }
}
