/** The observe layer: events, provenance and hazard detectors (DESIGN.md "Layers"). */
export {
  HAZARDS,
  HAZARD_NAMES,
  isHazardName,
  type DetectorContext,
  type DetectorFactory,
  type HazardDetector,
  type HazardFinding,
  type HazardName,
  type PinProvenance,
  type StepInfo,
} from "./hazard.js";
export { DETECTORS } from "./detectors.js";
