/**
 * The registry of hazard detectors: one factory per hazard, one module
 * each (src/observe/<hazard>.ts). The scenario runner instantiates every
 * factory listed here for each run. Empty until the detectors land; until
 * then `assert no hazards` passes and `assert hazard X` fails.
 */
import type { DetectorFactory } from "./hazard.js";

export const DETECTORS: readonly DetectorFactory[] = [];
