// Public API of the lab for tests and scripts. The CLI (cli.ts) is a thin wrapper around these functions.
//
//   const missing = labMissing();            // [] when every Debian package is installed
//   const lab = await labUp();               // starts (or reuses) the lab, resolves when everything answers
//   await fetch(lab.frontends.jk.baseUrl + lab.paths.echo);
//   await labDown();
import { resolveConfig } from './config.js';
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
