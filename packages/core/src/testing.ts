/**
 * `@nova-common/core/testing`: the in-memory reference driver, the conformance suite's
 * embedded default and a fast backend for users' own tests (like libvirt's test driver).
 *
 * ```ts
 * import { guard } from '@nova-common/core';
 * import { createReferenceDriver } from '@nova-common/core/testing';
 *
 * const raw = createReferenceDriver({ nodes: 4, releaseDelayMs: 50 });
 * const driver = guard(raw);
 * await driver.initHost();
 * await driver.spawn(spec);
 * raw.simulateCrash(spec.uuid); // the guest crashes: CRASHED, and a CRASHED event
 * ```
 *
 * What it does:
 * - every ComputeDriver operation, each decided by the semantics table's oracle
 *   (expectedOutcome); getInfo reports the in-memory state, devices sorted by id;
 * - inputs validated with the contract's schemas (INVALID_INPUT naming the field), then
 *   copied: nothing a caller holds is shared with the driver, in or out;
 * - inventory in Placement terms, with `used` kept incrementally per node; spawn refuses
 *   with INSUFFICIENT_RESOURCES, NODE_NOT_FOUND or NODE_UNAVAILABLE and leaves nothing;
 * - one node (a hypervisor) or many (bare-metal-like: one instance per node, one unit of
 *   CUSTOM_REFERENCE_NODE each, optional cleaning delay after destroy);
 * - lifecycle events on every power-state change (and STARTED on spawn, STOPPED on
 *   destroy of a live guest), now or after `eventDelayMs`;
 * - a console log line per transition, `[<uuid>] <WORD> <op>: <from> -> <to>`;
 * - `disabledCapabilities` declared missing, their methods rejecting UNSUPPORTED;
 * - an aborted signal rejects CANCELLED before anything changes.
 */
export * from './reference/index.js';
