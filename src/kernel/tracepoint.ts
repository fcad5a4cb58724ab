/**
 * Tracepoints: the model's events. Every decision a kernel rule makes can be
 * reported as an event naming the rule (kernel file and function), so that
 * observers (src/observe) see what happened without the model knowing who
 * watches. Emission is guarded by `enabled` so hot paths pay nothing when
 * nobody listens.
 */
export type TraceValue = number | string | boolean;

export interface TraceEvent {
  /** sequence number, monotonic per machine */
  seq: number;
  /** event name, e.g. "cow_copy", "gup_pin", "fork_copy_pinned" */
  name: string;
  /** the kernel rule that decided it: "mm/memory.c: wp_page_copy()" */
  where: string;
  args: Record<string, TraceValue>;
}

export type TraceListener = (ev: TraceEvent) => void;

export class Tracer {
  enabled = false;
  private seq = 0;
  private readonly listeners: TraceListener[] = [];

  subscribe(fn: TraceListener): () => void {
    this.listeners.push(fn);
    this.enabled = true;
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
      this.enabled = this.listeners.length > 0;
    };
  }

  emit(name: string, where: string, args: Record<string, TraceValue>): void {
    if (!this.enabled) return;
    const ev: TraceEvent = { seq: ++this.seq, name, where, args };
    for (const l of this.listeners) l(ev);
  }
}
