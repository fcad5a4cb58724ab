/**
 * The registry of hazard detectors: one factory per hazard of HAZARDS, one
 * module each (src/observe/<hazard>.ts), in HAZARDS order. The scenario
 * runner instantiates every factory listed here for each run.
 */
import { accounting_drift } from "./accounting_drift.js";
import { alloc_failure } from "./alloc_failure.js";
import { cpu_dev_divergence } from "./cpu_dev_divergence.js";
import type { DetectorFactory, HazardName } from "./hazard.js";
import { lost_write } from "./lost_write.js";
import { oops } from "./oops.js";
import { pin_leak } from "./pin_leak.js";
import { unmovable_pin } from "./unmovable_pin.js";
import { unstable_writeback } from "./unstable_writeback.js";
import { warn } from "./warn.js";

/** Each hazard's detector, by name: the type makes a missing one a compile error. */
export const DETECTOR_BY_HAZARD: { readonly [H in HazardName]: DetectorFactory } = {
  cpu_dev_divergence,
  lost_write,
  unstable_writeback,
  oops,
  warn,
  unmovable_pin,
  alloc_failure,
  pin_leak,
  accounting_drift,
};

export const DETECTORS: readonly DetectorFactory[] = Object.values(DETECTOR_BY_HAZARD);
