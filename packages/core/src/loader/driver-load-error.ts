import type { InputIssue } from '../errors/driver-error.js';

/**
 * Why a driver could not be loaded.
 * - `NOT_INSTALLED`: the package name or path does not resolve to a module.
 * - `NOT_A_DRIVER`: the module loaded but exports no `manifest`.
 * - `INVALID_MANIFEST`: the manifest (or the package.json `nova-common` field) is malformed or they disagree.
 * - `INCOMPATIBLE_CONTRACT`: the driver's contract range does not include this core's CONTRACT_VERSION.
 * - `INVALID_CONFIG`: the configuration does not pass the driver's `configSchema`.
 * - `LOAD_FAILED`: importing the module, reading its package.json, `create` or wrapping the driver threw.
 */
export type DriverLoadErrorCode =
  | 'NOT_INSTALLED'
  | 'NOT_A_DRIVER'
  | 'INVALID_MANIFEST'
  | 'INCOMPATIBLE_CONTRACT'
  | 'INVALID_CONFIG'
  | 'LOAD_FAILED';

/** The structured facts a DriverLoadError carries besides its code. */
export interface DriverLoadErrorDetails {
  /** The package name or path exactly as passed to loadDriver. */
  specifier: string;
  /** The package name when known (from package.json or the specifier), else the specifier. */
  packageName: string;
  /** The module file that was (or would have been) imported. */
  resolvedPath?: string | undefined;
  /** NOT_INSTALLED: every location that was looked at, in order. */
  searched?: string[] | undefined;
  /** INVALID_MANIFEST and INVALID_CONFIG: each offending field and what is wrong with it. */
  issues?: InputIssue[] | undefined;
  /** INCOMPATIBLE_CONTRACT: the semver range the driver declares. */
  driverContract?: string | undefined;
  /** INCOMPATIBLE_CONTRACT: the CONTRACT_VERSION of this core. */
  coreContract?: string | undefined;
  /** A sentence saying what went wrong; the message is built from it and the fields above. */
  reason: string;
  /** The underlying error, kept for diagnosis. */
  cause?: unknown;
}

function formatIssues(issues: InputIssue[]): string {
  return issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}

function formatMessage(code: DriverLoadErrorCode, d: DriverLoadErrorDetails): string {
  let msg = `${code}: cannot load driver "${d.specifier}"`;
  if (d.packageName !== d.specifier) msg += ` (package ${d.packageName})`;
  msg += `: ${d.reason}`;
  if (d.issues && d.issues.length > 0) msg += `: ${formatIssues(d.issues)}`;
  if (d.searched && d.searched.length > 0) msg += `; looked in: ${d.searched.join(', ')}`;
  return msg;
}

/**
 * The one error loadDriver rejects with. `code` says which step failed; the message names
 * the package, the reason and every detail (field paths, versions, searched locations).
 */
export class DriverLoadError extends Error {
  /** Always `DriverLoadError`. */
  override readonly name = 'DriverLoadError';
  /** Which step failed. */
  readonly code: DriverLoadErrorCode;
  /** The package name or path exactly as passed to loadDriver. */
  readonly specifier: string;
  /** The package name when known, else the specifier. */
  readonly packageName: string;
  /** The module file that was (or would have been) imported. */
  readonly resolvedPath: string | undefined;
  /** NOT_INSTALLED: every location looked at, in order. */
  readonly searched: string[] | undefined;
  /** INVALID_MANIFEST and INVALID_CONFIG: each offending field path and what is wrong with it. */
  readonly issues: InputIssue[] | undefined;
  /** INCOMPATIBLE_CONTRACT: the semver range the driver declares. */
  readonly driverContract: string | undefined;
  /** INCOMPATIBLE_CONTRACT: the CONTRACT_VERSION of this core. */
  readonly coreContract: string | undefined;
  /** The sentence saying what went wrong, without the details. */
  readonly reason: string;

  constructor(code: DriverLoadErrorCode, details: DriverLoadErrorDetails) {
    super(formatMessage(code, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.specifier = details.specifier;
    this.packageName = details.packageName;
    this.resolvedPath = details.resolvedPath;
    this.searched = details.searched;
    this.issues = details.issues;
    this.driverContract = details.driverContract;
    this.coreContract = details.coreContract;
    this.reason = details.reason;
  }

  /** A plain object with the code, message and every detail (not the cause). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      specifier: this.specifier,
      packageName: this.packageName,
      resolvedPath: this.resolvedPath,
      searched: this.searched,
      issues: this.issues,
      driverContract: this.driverContract,
      coreContract: this.coreContract,
    };
  }
}
