import type { EngineVersion } from '../client/types.js';

/**
 * Which engine serves the API, and what the driver does differently for it.
 *
 * Both dockerd and podman's Docker-compatible service speak the Engine API, but podman 4.3
 * (API 1.41 through its compat layer) answers some calls differently. Measured on podman 4.3.1
 * with runc, cgroupfs, CNI:
 *
 *   - stop and restart of a paused container are refused (500 "container state improper");
 *     dockerd unfreezes first. On podman the driver unpauses, then stops (a volume change recreating
 *     a paused instance). Forced stops (power off of PAUSED, hard reboot) are a SIGKILL, which both
 *     engines deliver to a paused container.
 *   - network connect or disconnect on a paused container is accepted but leaves the container
 *     unreadable: every inspect and list then fails with 500 "network inspection mismatch"
 *     until it is stopped. On podman the driver unpauses, changes the network, and pauses again.
 *   - the events filter matches podman's own action names: a container exit is "died" there
 *     (it is reported as Action "die" either way).
 *   - removing a network still in use answers 500 "network is being used" (dockerd: 403/409).
 *   - commit ignores the `Labels` of the request body: the image gets the container's labels. The
 *     driver's labels go in as `changes` (LABEL instructions) there, which override them.
 *   - listing images with two `label` filters answers no image at all (one works; container lists
 *     take several). The driver filters images on its owner label only and checks the kind itself,
 *     on both engines.
 *
 * Everything else the driver uses behaves alike (304 on start-on-running and stop-on-stopped,
 * force-remove of a paused container, commit, rename, label filters, 404s).
 */
export type EngineKind = 'docker' | 'podman';

export interface EngineDifferences {
  kind: EngineKind;
  /** stop/restart refuse a paused container: unpause it first (kill works on both). */
  unpauseBeforeStop: boolean;
  /** Network changes on a paused container break it: unpause around the change. */
  unpauseAroundNetworkChange: boolean;
  /** The `event` filter values for the actions the event stream maps. */
  eventFilter: readonly string[];
  /** commit takes image labels only as `changes` LABEL instructions (podman ignores the body's Labels). */
  commitLabelsAsChanges: boolean;
}

/** The engine behind a `GET /version` answer: podman names itself among the components. */
export function engineKindOf(version: Pick<EngineVersion, 'Components'> & { Platform?: { Name?: string } }): EngineKind {
  const names = [...(version.Components ?? []).map((c) => c.Name), version.Platform?.Name ?? ''];
  return names.some((n) => /podman/i.test(n)) ? 'podman' : 'docker';
}

export function differencesOf(kind: EngineKind): EngineDifferences {
  if (kind === 'podman') {
    return {
      kind,
      unpauseBeforeStop: true,
      unpauseAroundNetworkChange: true,
      eventFilter: ['start', 'died', 'pause', 'unpause', 'oom'],
      commitLabelsAsChanges: true,
    };
  }
  return {
    kind,
    unpauseBeforeStop: false,
    unpauseAroundNetworkChange: false,
    eventFilter: ['start', 'die', 'pause', 'unpause', 'oom'],
    commitLabelsAsChanges: false,
  };
}

/**
 * Labels as commit `changes`: one `LABEL key="value"` instruction each. podman stores the text between the
 * quotes as it is (no unescaping), so each value is percent-encoded (encodeURIComponent): quotes, backslashes,
 * spaces and newlines of a caller's string (a snapshot name) can neither end the instruction nor add another.
 * Owner ids, kinds and uuids contain only unreserved characters and are stored unchanged. Keys come from the
 * configured label prefix (letters, digits, dots, dashes).
 */
export function labelChanges(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => {
    if (!/^[a-z0-9][a-z0-9.-]*$/.test(k)) throw new Error(`label key ${JSON.stringify(k)} cannot go into a LABEL instruction`);
    return `LABEL ${k}="${encodeURIComponent(v)}"`;
  });
}

/** An engine's answer meaning "this network still has endpoints" (dockerd 403/409, podman 500). */
export function isNetworkInUse(status: number, message: string): boolean {
  return status === 403 || status === 409 || (status === 500 && /network is being used|has associated containers/i.test(message));
}

/** An engine's answer to a kill meaning "the container is not running (any more)" (dockerd 409, podman 500 "state improper"). */
export function isNotRunningAnswer(status: number, message: string): boolean {
  return (status === 409 || status === 500) && /is not running|can only kill running containers|container state improper/i.test(message);
}
