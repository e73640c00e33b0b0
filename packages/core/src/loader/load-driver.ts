import { pathToFileURL } from 'node:url';
import semver from 'semver';
import { CONTRACT_VERSION } from '../version.js';
import { OPERATIONS, OPERATION_NAMES } from '../operations/registry.js';
import { PackageDriverFieldSchema, type DriverManifest } from '../driver/manifest.js';
import type { ComputeDriver } from '../driver/compute-driver.js';
import type { InputIssue } from '../errors/driver-error.js';
import { guard } from '../guard/guard.js';
import type { GuardOptions } from '../guard/options.js';
import type { GuardedDriver } from '../guard/guarded-driver.js';
import { DriverLoadError, type DriverLoadErrorCode, type DriverLoadErrorDetails } from './driver-load-error.js';
import { importByUrl } from './import-module.js';
import { ManifestShapeSchema, type SafeParseAnswer } from './manifest-shape.js';
import { PackageJsonFailure, ResolveFailure, resolveDriver, type PackageJson, type ResolvedDriver } from './resolve-driver.js';

export { DriverLoadError, type DriverLoadErrorCode, type DriverLoadErrorDetails } from './driver-load-error.js';

export interface LoadDriverOptions {
  /** Directory package names are resolved from (and relative paths against). Default: process.cwd(). */
  resolveFrom?: string;
  /** Options passed to guard() when wrapping the driver. */
  guard?: GuardOptions;
}

export interface LoadedDriver {
  /** The validated manifest the package exports. */
  manifest: DriverManifest;
  /** The driver wrapped by guard(): what callers should use. */
  driver: GuardedDriver;
  /**
   * The lowest contract version the manifest accepts: the version the driver was built
   * against, whose semantics table and capabilities it is held to (semanticsFor).
   */
  contractBaseline: string;
  /** The driver exactly as manifest.create returned it: for test hooks, never for operations (call `driver`). */
  raw: ComputeDriver;
  /**
   * The package.json of the driver's package. For a module file outside any package, the
   * manifest's name and version.
   */
  packageJson: { name: string; version: string; [key: string]: unknown };
}

const MANDATORY_METHODS = OPERATION_NAMES.filter((op) => OPERATIONS[op].mandatory);

type Context = Pick<DriverLoadErrorDetails, 'specifier' | 'packageName' | 'resolvedPath'>;

function fail(code: DriverLoadErrorCode, ctx: Context, rest: Omit<DriverLoadErrorDetails, keyof Context>): never {
  throw new DriverLoadError(code, { ...ctx, ...rest });
}

function describeThrown(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function toIssues(issues: { path?: readonly PropertyKey[]; message?: string }[] | undefined, prefix: string[] = []): InputIssue[] {
  return (issues ?? []).map((issue) => ({
    path: [...prefix, ...(issue.path ?? []).map((p) => (typeof p === 'number' ? p : String(p)))],
    message: issue.message ?? 'invalid',
  }));
}

function locate(specifier: string, resolveFrom: string): ResolvedDriver {
  try {
    return resolveDriver(specifier, resolveFrom);
  } catch (error) {
    if (error instanceof ResolveFailure) {
      return fail('NOT_INSTALLED', { specifier, packageName: error.packageName }, {
        reason: error.reason,
        searched: error.searched,
        cause: error.failure,
      });
    }
    if (error instanceof PackageJsonFailure) {
      return fail('LOAD_FAILED', { specifier, packageName: specifier, resolvedPath: error.path }, {
        reason: `cannot read ${error.path}: ${describeThrown(error.failure)}`,
        cause: error.failure,
      });
    }
    return fail('LOAD_FAILED', { specifier, packageName: specifier }, { reason: `resolution failed: ${describeThrown(error)}`, cause: error });
  }
}

function incompatible(ctx: Context, range: string, where: string): never {
  return fail('INCOMPATIBLE_CONTRACT', ctx, {
    reason:
      `the driver implements contract ${range} (${where}), but this @nova-common/core provides contract ` +
      `${CONTRACT_VERSION}, which is outside that range`,
    driverContract: range,
    coreContract: CONTRACT_VERSION,
  });
}

/**
 * The package.json `nova-common` field, checked before any driver code runs: a malformed
 * field or a contract range that excludes this core stops the load without importing.
 */
function checkPackageField(ctx: Context, pkg: PackageJson | undefined): { contract: string } | undefined {
  if (pkg === undefined || !('nova-common' in pkg)) return undefined;
  const parsed = PackageDriverFieldSchema.safeParse(pkg['nova-common']);
  if (!parsed.success) {
    return fail('INVALID_MANIFEST', ctx, {
      reason: 'the package.json "nova-common" field is malformed',
      issues: toIssues(parsed.error.issues, ['package.json', 'nova-common']),
    });
  }
  if (semver.validRange(parsed.data.contract) === null) {
    return fail('INVALID_MANIFEST', ctx, {
      reason: 'the package.json "nova-common" field is malformed',
      issues: [{ path: ['package.json', 'nova-common', 'contract'], message: `"${parsed.data.contract}" is not a semver range` }],
    });
  }
  if (!semver.satisfies(CONTRACT_VERSION, parsed.data.contract)) incompatible(ctx, parsed.data.contract, 'package.json "nova-common".contract');
  return parsed.data;
}

async function importModule(ctx: Context, entryPath: string): Promise<Record<string, unknown>> {
  try {
    return await importByUrl(pathToFileURL(entryPath).href);
  } catch (error) {
    return fail('LOAD_FAILED', ctx, { reason: `importing ${entryPath} threw ${describeThrown(error)}`, cause: error });
  }
}

function findManifest(ctx: Context, mod: Record<string, unknown>): unknown {
  if (mod.manifest !== undefined) return mod.manifest;
  const fallback = mod.default;
  if (typeof fallback === 'object' && fallback !== null && (fallback as { manifest?: unknown }).manifest !== undefined) {
    return (fallback as { manifest: unknown }).manifest;
  }
  const names = Object.keys(mod).filter((k) => k !== 'default' && k !== '__esModule');
  return fail('NOT_A_DRIVER', ctx, {
    reason:
      'the module exports no `manifest` (nor a default export with one); a driver package exports ' +
      '`manifest = defineDriver({...})`. It exports: ' +
      (names.length > 0 ? names.join(', ') : 'nothing'),
  });
}

function validateManifest(ctx: Context, candidate: unknown, field: { contract: string } | undefined, pkg: PackageJson | undefined): DriverManifest {
  const shape = ManifestShapeSchema.safeParse(candidate);
  if (!shape.success) {
    return fail('INVALID_MANIFEST', ctx, { reason: 'the manifest is malformed', issues: toIssues(shape.error.issues, ['manifest']) });
  }
  const manifest = candidate as DriverManifest;
  if (field !== undefined && pkg !== undefined) {
    const issues: InputIssue[] = [];
    if (field.contract !== manifest.contract) {
      issues.push({
        path: ['manifest', 'contract'],
        message: `is "${manifest.contract}" but package.json "nova-common".contract is "${field.contract}"`,
      });
    }
    if (pkg.name !== manifest.name) {
      issues.push({ path: ['manifest', 'name'], message: `is "${manifest.name}" but package.json name is "${pkg.name}"` });
    }
    if (pkg.version !== manifest.version) {
      issues.push({ path: ['manifest', 'version'], message: `is "${manifest.version}" but package.json version is "${pkg.version}"` });
    }
    if (issues.length > 0) return fail('INVALID_MANIFEST', ctx, { reason: 'the manifest disagrees with package.json', issues });
  }
  return manifest;
}

async function parseConfig(ctx: Context, manifest: DriverManifest, config: unknown): Promise<unknown> {
  const schema = manifest.configSchema as unknown as {
    safeParse: (input: unknown) => SafeParseAnswer;
    safeParseAsync?: (input: unknown) => Promise<SafeParseAnswer>;
  };
  let answer: SafeParseAnswer;
  try {
    answer = typeof schema.safeParseAsync === 'function' ? await schema.safeParseAsync(config) : schema.safeParse(config);
  } catch (error) {
    return fail('LOAD_FAILED', ctx, { reason: `the driver's configSchema threw ${describeThrown(error)}`, cause: error });
  }
  if (!answer.success) {
    const issues = toIssues(answer.error?.issues);
    return fail('INVALID_CONFIG', ctx, {
      reason: `the configuration does not match ${manifest.name}'s configSchema`,
      issues: issues.length > 0 ? issues : [{ path: [], message: 'rejected by configSchema' }],
    });
  }
  return answer.data;
}

function createDriver(ctx: Context, manifest: DriverManifest, config: unknown): ComputeDriver {
  let raw: unknown;
  try {
    raw = manifest.create(config);
  } catch (error) {
    return fail('LOAD_FAILED', ctx, { reason: `manifest.create threw ${describeThrown(error)}`, cause: error });
  }
  if (typeof raw !== 'object' || raw === null) {
    return fail('LOAD_FAILED', ctx, { reason: `manifest.create returned ${raw === null ? 'null' : typeof raw}, not a driver object` });
  }
  if (typeof (raw as { then?: unknown }).then === 'function') {
    return fail('LOAD_FAILED', ctx, { reason: 'manifest.create returned a promise; it must return the driver synchronously' });
  }
  const missing = MANDATORY_METHODS.filter((m) => typeof (raw as Record<string, unknown>)[m] !== 'function');
  if (missing.length > 0) {
    return fail('LOAD_FAILED', ctx, { reason: `manifest.create returned an object without the mandatory methods ${missing.join(', ')}` });
  }
  return raw as ComputeDriver;
}

/**
 * Load a driver package by name (resolved from `options.resolveFrom` as Node would,
 * subpath exports included) or by path (a package directory or a module file), validate
 * its manifest, contract range and configuration, create the driver and wrap it with
 * guard(). Every failure rejects with a DriverLoadError whose code says which step failed.
 */
export async function loadDriver(packageNameOrPath: string, config: unknown, options: LoadDriverOptions = {}): Promise<LoadedDriver> {
  const specifier = packageNameOrPath;
  const resolveFrom = options.resolveFrom ?? process.cwd();
  const resolved = locate(specifier, resolveFrom);
  const ctx: Context = { specifier, packageName: resolved.packageName, resolvedPath: resolved.entryPath };

  const field = checkPackageField(ctx, resolved.packageJson);
  const mod = await importModule(ctx, resolved.entryPath);
  const manifest = validateManifest(ctx, findManifest(ctx, mod), field, resolved.packageJson);
  // A module file loaded by path belongs to the nearest package.json only when that package
  // is the driver's (it declares itself one, or carries the manifest's name); otherwise the
  // package.json found above it is some enclosing project's and says nothing about the driver.
  const pkg = resolved.packageJson;
  const ownPackage =
    pkg !== undefined && (resolved.viaPackage || field !== undefined || pkg.name === manifest.name) ? pkg : undefined;
  const named: Context = { ...ctx, packageName: ownPackage?.name ?? manifest.name };
  if (!semver.satisfies(CONTRACT_VERSION, manifest.contract)) incompatible(named, manifest.contract, 'manifest.contract');

  const parsedConfig = await parseConfig(named, manifest, config);
  const raw = createDriver(named, manifest, parsedConfig);
  let driver: GuardedDriver;
  try {
    // The driver is held to the contract of the lowest version its range accepts (its baseline).
    const baseline = semver.minVersion(manifest.contract)?.version ?? CONTRACT_VERSION;
    driver = guard(raw, { contractBaseline: baseline, ...options.guard });
  } catch (error) {
    return fail('LOAD_FAILED', named, { reason: `guard() refused the driver: ${describeThrown(error)}`, cause: error });
  }
  return {
    manifest,
    driver,
    contractBaseline: semver.minVersion(manifest.contract)?.version ?? CONTRACT_VERSION,
    raw,
    packageJson: ownPackage ?? { name: manifest.name, version: manifest.version },
  };
}
