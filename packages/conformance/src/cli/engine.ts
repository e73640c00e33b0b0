// The engine entry points the CLI drives, gathered in one place. Loaded on first use, so
// `list`, `matrix` and `--help` do not load the engine.
/* eslint-disable @typescript-eslint/no-explicit-any */
export async function runConformance(options: any): Promise<any> {
  return (await import('../run/run-conformance.js' as string)).runConformance(options);
}
export async function runDifferential(options: any): Promise<any> {
  return (await import('../differential/run-differential.js' as string)).runDifferential(options);
}
export async function runReplay(file: string, driver: any): Promise<any> {
  return (await import('../replay/replay.js' as string)).runReplay(file, driver);
}
export async function sweep(driver: any, runId: string): Promise<{ destroyed: string[]; snapshotsDeleted: string[]; failures: { target: string; message: string }[] }> {
  return (await import('../run/sweep.js' as string)).sweep(driver, runId);
}
