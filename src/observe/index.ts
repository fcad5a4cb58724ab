/** The observe layer: events, provenance and hazard detectors (DESIGN.md "Layers"). */
export {
  HAZARDS,
  HAZARD_NAMES,
  isHazardName,
  type DetectorContext,
  type DetectorFactory,
  type FindingReport,
  type HazardDetector,
  type HazardFinding,
  type HazardName,
  type PinProvenance,
  type StepInfo,
} from "./hazard.js";
export { DETECTORS, DETECTOR_BY_HAZARD } from "./detectors.js";
export { HazardWatch, type WatchNames } from "./watch.js";
export { describePin, provenanceOf } from "./provenance.js";
