/** What a command's action reports back to main(): its own module, so that commands need not import main.ts. */
export interface RunContext {
  exitCode: number;
}
