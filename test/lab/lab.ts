// Public API of the lab for tests and scripts. The CLI (cli.ts) is a thin wrapper around these functions.
//
//   const missing = labMissing();            // [] when every Debian package is installed
//   const lab = await labUp();               // starts (or reuses) the lab, resolves when everything answers
//   await fetch(lab.frontends.jk.baseUrl + lab.paths.echo);
//   await labDown();
import { resolveConfig } from './config.js';
import { labMissing, type MissingOptions } from './packages.js';
import { readState, type LabState } from './state.js';

export { CONTEXT_PATH, DEFAULT_PORTS, PORT_NAMES, portEnvName, resolveConfig } from './config.js';
export type { LabConfig, LabOverrides, LabPorts, LabWeights, PortName } from './config.js';
export { labMissing, LAB_PACKAGES } from './packages.js';
export type { LabPackage, MissingOptions } from './packages.js';
export { labInstall } from './install.js';
export type { InstallResult } from './install.js';
export { labUp } from './up.js';
export type { LabUpOptions } from './up.js';
export { labDown } from './down.js';
export type { LabDownOptions, StopReport } from './down.js';
export { labStatus, formatStatus } from './status.js';
export type { ComponentStatus, LabStatus, PortStatus } from './status.js';
export { FRONT_ENDS } from './state.js';
export type { DaemonState, FrontEnd, FrontEndName, LabState, TomcatState } from './state.js';
export type { TomcatName } from './layout.js';
export { largeBody, LARGE_PATTERN } from './large-body.js';

/** state.json of a lab that finished `up` (ready), or undefined. Does not probe anything. */
export function readLabState(runDir: string = resolveConfig().runDir): LabState | undefined {
  const state = readState(runDir);
  return state?.ready ? state : undefined;
}

/**
 * The lab for an end-to-end test file: its state when the packages the file needs are installed
 * and the lab is up (the e2e global setup brings it up), else undefined so the file skips. Under
 * CI a missing package throws instead: there the end-to-end suite must run, never skip.
 */
export function labForTests(needs: MissingOptions = { includeCapture: false }): LabState | undefined {
  const missing = labMissing(needs);
  if (missing.length > 0 && process.env.CI) {
    throw new Error(`CI is set, so not skipping: missing ${missing.join(' ')}; run npm run lab -- install`);
  }
  return missing.length === 0 ? readLabState() : undefined;
}
