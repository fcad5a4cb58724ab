/**
 * kernel/ptrace.c: ptrace_may_access(), the check process_vm_*(),
 * /proc/PID/mem and move_pages(2) make before touching another process.
 */
import { CAP_SYS_PTRACE, type Task } from "./task.js";

/**
 * ptrace_may_access(): the caller itself, the same uid, or CAP_SYS_PTRACE.
 * The model's credentials are a uid and capabilities, so the READ and
 * ATTACH modes and REALCREDS/FSCREDS decide alike.
 */
export function ptrace_may_access(caller: Task, target: Task): boolean {
  return caller === target || caller.uid === target.uid || caller.capable(CAP_SYS_PTRACE);
}
