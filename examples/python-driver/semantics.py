"""The slice of the contract's semantics table this driver declares (docs/contract.md).

Each operation maps the states it accepts to the state it leads to ("same" for observations).
A state not listed raises INVALID_STATE; an absent instance raises INSTANCE_NOT_FOUND unless
ABSENT is listed. Operations listed in ENSURE succeed as no-ops in their target state, so a
retry after a timeout is always safe. This is data copied from the contract 1.0 table
(SEMANTICS_1_0 in packages/core/src/semantics/table.ts, the contract this driver is built
against) for the operations declared here; a driver in another language keeps the same table.
Contract 1.1 changed six cells (docs/contract.md, "Cells changed since 1.0"); of the operations
here, a soft reboot of a PAUSED instance is INVALID_STATE in 1.1.
"""

ABSENT = "ABSENT"
EXISTING = ("RUNNING", "PAUSED", "SHUTDOWN", "SUSPENDED", "CRASHED", "NOSTATE", "RESCUE")

TRANSITIONS = {
    "spawn": {ABSENT: "RUNNING"},
    "destroy": {state: ABSENT for state in (ABSENT,) + EXISTING},
    "getInfo": {state: "same" for state in EXISTING},
    "powerOff": {"RUNNING": "SHUTDOWN", "PAUSED": "SHUTDOWN", "SHUTDOWN": "SHUTDOWN", "CRASHED": "SHUTDOWN", "NOSTATE": "SHUTDOWN"},
    "powerOn": {"RUNNING": "RUNNING", "SHUTDOWN": "RUNNING", "CRASHED": "RUNNING", "NOSTATE": "RUNNING"},
    "reboot": {s: "RUNNING" for s in ("RUNNING", "PAUSED", "SHUTDOWN", "SUSPENDED", "CRASHED", "NOSTATE")},
    "pause": {"RUNNING": "PAUSED", "PAUSED": "PAUSED"},
    "unpause": {"PAUSED": "RUNNING", "RUNNING": "RUNNING"},
    "getConsoleOutput": {state: "same" for state in EXISTING},
}

ENSURE = {"destroy", "powerOff", "powerOn", "pause", "unpause"}


class DriverError(Exception):
    """A contract error: its code (ERROR_CODES in core), and the structured fields."""

    def __init__(self, code, op=None, target=None, issues=None, current_state=None, capability=None, detail=None):
        self.code = code
        self.op = op
        self.target = target
        self.issues = issues or []  # [(path list, message)]
        self.current_state = current_state
        self.capability = capability
        self.detail = detail
        super().__init__(self.message())

    def message(self):
        parts = [self.code]
        if self.op:
            parts.append(f"in {self.op}")
        if self.target:
            parts.append(f"on {self.target}")
        text = " ".join(parts)
        if self.current_state:
            text += f": instance is {self.current_state}"
        if self.capability:
            text += f": capability {self.capability} is not supported"
        if self.issues:
            text += ": " + "; ".join(f"{'.'.join(str(p) for p in path) or '(root)'}: {msg}" for path, msg in self.issues)
        if self.detail:
            text += f" ({self.detail})"
        return text


def decide(op, state, uuid):
    """The table's cell for `op` in `state`: (new state, no-op?) or a DriverError raised."""
    target = TRANSITIONS[op].get(state)
    if target is None:
        if state == ABSENT:
            raise DriverError("INSTANCE_NOT_FOUND", op=op, target=uuid)
        if op == "spawn":
            raise DriverError("INSTANCE_EXISTS", op=op, target=uuid)
        raise DriverError("INVALID_STATE", op=op, target=uuid, current_state=state)
    to = state if target == "same" else target
    return to, (op in ENSURE and to == state)
