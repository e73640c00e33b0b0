/** Why the scaffold refused its input; `field` names the option or argument at fault. */
export type ScaffoldErrorCode = 'INVALID_ARGUMENT' | 'TARGET_NOT_EMPTY' | 'USAGE';

/** A typed error for bad input: the CLI prints it and exits 2. */
export class ScaffoldError extends Error {
  override readonly name = 'ScaffoldError';
  constructor(
    readonly code: ScaffoldErrorCode,
    /** The field at fault: `name`, `description`, `dir`, `ciSource`, or a command-line flag. */
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${code}: ${field}: ${reason}`);
  }
}
