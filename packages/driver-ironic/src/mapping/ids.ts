/**
 * Ids checked at the driver's border, before they reach a URL path or instance_info. The guard
 * only knows them as identifiers (any text without control characters); what Ironic and the image
 * source can take is narrower:
 *
 *   node (spawn's `node`)  a uuid or an Ironic logical name: RFC 3986 unreserved characters
 *                          (letters, digits, `-` `.` `_` `~`), at most 255, as Ironic's
 *                          is_valid_logical_name says (a canonical uuid is one too). Anything else
 *                          names no node Ironic can hold: NODE_NOT_FOUND, without asking Ironic
 *                          (a `/`, sent as `%2F`, made it answer 500). `.` and `..` are path segments,
 *                          not names, and are refused the same way.
 *   image id               what becomes `{id}` of imageSourceTemplate: the same characters (a Glance
 *                          uuid, a name like `nc-image-1`), not made of dots only, so an id never
 *                          carries a path separator or a relative segment into the image source
 *                          (`../../etc/passwd` is refused, not encoded into the path): INVALID_INPUT
 *                          naming the field.
 */
import { DriverError, errors, type InputIssue } from '@nova-common/core';

const UNRESERVED = /^[A-Za-z0-9._~-]{1,255}$/;
const DOTS_ONLY = /^\.+$/;

const RULE = 'letters, digits and - . _ ~ only (at most 255), not dots alone';

/** Why `ident` cannot name an Ironic node, or undefined when it can. */
export function nodeIdentProblem(ident: string): string | undefined {
  if (!UNRESERVED.test(ident)) return `is neither a uuid nor an Ironic node name (${RULE})`;
  if (ident === '.' || ident === '..') return 'is a relative path segment, not a node name';
  return undefined;
}

/** Why `id` cannot be an image id of this driver, or undefined when it can. */
export function imageIdProblem(id: string): string | undefined {
  if (!UNRESERVED.test(id)) return `must be an image uuid or name (${RULE}): it becomes part of the image source`;
  if (DOTS_ONLY.test(id)) return 'must not be a relative path segment';
  return undefined;
}

/** NODE_NOT_FOUND naming the field when `ident` cannot name a node. */
export function checkNodeIdent(ident: string, op: string, field: readonly (string | number)[]): void {
  const problem = nodeIdentProblem(ident);
  if (problem !== undefined) throw new DriverError('NODE_NOT_FOUND', { op, target: ident, detail: `${field.join('.')} ${problem}` });
}

/** INVALID_INPUT naming the field when `id` cannot be an image id. */
export function checkImageId(id: string, op: string, field: (string | number)[]): void {
  const problem = imageIdProblem(id);
  if (problem !== undefined) {
    const issue: InputIssue = { path: field, message: problem };
    throw errors.invalidInput([issue], op);
  }
}
