"""An in-memory compute driver: one node, instances as records, decided by the semantics table.

It knows nothing of gRPC: server.py maps the wire to these methods and back. A real driver
replaces the dict with calls to its backend and keeps the same decisions.
"""
import re
import threading
from datetime import datetime, timezone

from semantics import DriverError, decide

# Every capability id of the contract's catalogue as of 1.0.0, the contract this driver is built
# against (packages/core/src/capabilities/catalog.ts): a declaration names them all, each complete,
# partial or missing. Ids added later (1.1.0: operation.restore-state, operation.list-snapshots,
# event.out-of-band) are left out, and callers read them as missing (R-BASELINE).
CAPABILITY_IDS = (
    "operation.launch", "operation.terminate", "operation.get-guest-info", "storage.image",
    "operation.power-on-off", "operation.reboot", "operation.pause", "operation.unpause",
    "operation.suspend", "operation.resume", "operation.attach-volume", "operation.detach-volume",
    "operation.extend-volume", "operation.attach-interface", "operation.detach-interface",
    "operation.snapshot", "operation.rebuild", "operation.rescue", "console.serial.log",
    "event.lifecycle",
)
SUPPORTED = {
    "operation.launch", "operation.terminate", "operation.get-guest-info", "storage.image",
    "operation.power-on-off", "operation.reboot", "operation.pause", "operation.unpause",
    "console.serial.log", "event.lifecycle",
}
# The capability each optional RPC needs; an RPC whose capability is missing answers UNSUPPORTED.
CAPABILITY_OF = {
    "powerOff": "operation.power-on-off", "powerOn": "operation.power-on-off", "reboot": "operation.reboot",
    "pause": "operation.pause", "unpause": "operation.unpause", "suspend": "operation.suspend",
    "resume": "operation.resume", "rescue": "operation.rescue", "unrescue": "operation.rescue",
    "rebuild": "operation.rebuild", "snapshot": "operation.snapshot", "deleteSnapshot": "operation.snapshot",
    "attachVolume": "operation.attach-volume", "detachVolume": "operation.detach-volume",
    "extendVolume": "operation.extend-volume", "attachInterface": "operation.attach-interface",
    "detachInterface": "operation.detach-interface", "getConsoleOutput": "console.serial.log",
    # Since contract 1.1.0; not in this driver's declaration.
    "restoreState": "operation.restore-state", "listSnapshots": "operation.list-snapshots",
}

NODE = "python-node"
CAPACITY = {"VCPU": (16, 4.0), "MEMORY_MB": (32768, 1.0), "DISK_GB": (500, 1.0)}  # total, allocation ratio
EVENT_OF = {"RUNNING": "STARTED", "SHUTDOWN": "STOPPED", "PAUSED": "PAUSED"}
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def check_uuid(op, name, value):
    if not UUID.match(value or ""):
        raise DriverError("INVALID_INPUT", op=op, issues=[([name], "must be a UUID")])
    return value.lower()


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MemoryDriver:
    def __init__(self, on_event):
        self.lock = threading.Lock()
        self.instances = {}  # uuid -> dict(name, state, metadata, usage, console)
        self.on_event = on_event  # called with (uuid, kind, power_state, node, timestamp)

    def supported(self, capability):
        return capability in SUPPORTED

    def require(self, op):
        capability = CAPABILITY_OF.get(op)
        if capability is not None and capability not in SUPPORTED:
            raise DriverError("UNSUPPORTED", op=op, capability=capability)

    # ---- reads -----------------------------------------------------------------------------

    def inventory(self):
        used = {rc: 0 for rc in CAPACITY}
        with self.lock:
            for inst in self.instances.values():
                for rc, amount in inst["usage"].items():
                    used[rc] += amount
        return {rc: (total, ratio, used[rc]) for rc, (total, ratio) in CAPACITY.items()}

    def list_instances(self):
        with self.lock:
            return [(uuid, i["name"], dict(i["metadata"])) for uuid, i in sorted(self.instances.items())]

    def info(self, op, uuid):
        uuid = check_uuid(op, "uuid", uuid)
        with self.lock:
            inst = self.instances.get(uuid)
            decide(op, inst["state"] if inst else "ABSENT", uuid)
            return uuid, dict(inst, metadata=dict(inst["metadata"]), console=list(inst["console"]))

    # ---- changes ---------------------------------------------------------------------------

    def spawn(self, uuid, name, metadata, usage, power_on, node, volumes=(), interfaces=()):
        """`volumes`: (volume id, device name or None, size or None); `interfaces`: (vif id, mac)."""
        op = "spawn"
        uuid = check_uuid(op, "spec.uuid", uuid)
        if not name:
            raise DriverError("INVALID_INPUT", op=op, issues=[(["spec", "name"], "must not be empty")])
        if node and node != NODE:
            raise DriverError("NODE_NOT_FOUND", op=op, target=node)
        with self.lock:
            inst = self.instances.get(uuid)
            decide(op, inst["state"] if inst else "ABSENT", uuid)
            free = self._free()
            for rc, amount in usage.items():
                if amount > free.get(rc, 0):
                    raise DriverError("INSUFFICIENT_RESOURCES", op=op, target=NODE, detail=f"{rc}: {amount} asked, {free.get(rc, 0)} free")
            state = "RUNNING" if power_on else "SHUTDOWN"
            self.instances[uuid] = {
                "name": name,
                "state": state,
                "metadata": dict(metadata),
                "usage": dict(usage),
                "console": [],
                # Devices as getInfo reports them: sorted by id, ids in lower case.
                "volumes": sorted((v.lower(), d, s) for v, d, s in volumes),
                "interfaces": sorted((i.lower(), mac) for i, mac in interfaces),
            }
            self._transition(uuid, "ABSENT", state, op)

    def destroy(self, uuid):
        op = "destroy"
        uuid = check_uuid(op, "uuid", uuid)
        with self.lock:
            inst = self.instances.pop(uuid, None)
            if inst and inst["state"] in ("RUNNING", "PAUSED"):
                self._emit(uuid, "STOPPED", "SHUTDOWN")

    def act(self, op, uuid):
        """powerOff, powerOn, reboot, pause, unpause: the table decides, the record follows."""
        self.require(op)
        uuid = check_uuid(op, "uuid", uuid)
        with self.lock:
            inst = self.instances.get(uuid)
            before = inst["state"] if inst else "ABSENT"
            to, noop = decide(op, before, uuid)
            if noop:
                return
            inst["state"] = to
            self._transition(uuid, before, to, op)

    # ---- helpers (called with the lock held) -----------------------------------------------

    def _free(self):
        used = {rc: 0 for rc in CAPACITY}
        for inst in self.instances.values():
            for rc, amount in inst["usage"].items():
                used[rc] += amount
        return {rc: int(total * ratio) - used[rc] for rc, (total, ratio) in CAPACITY.items()}

    def _transition(self, uuid, before, to, op):
        self.instances[uuid]["console"].append(f"[{uuid}] {op}: {before} -> {to}")
        if before == to:
            return  # a reboot of a running guest: no power transition, no event
        kind = "RESUMED" if before == "PAUSED" and to == "RUNNING" else EVENT_OF.get(to)
        if kind:
            self._emit(uuid, kind, to)

    def _emit(self, uuid, kind, power_state):
        self.on_event(uuid, kind, power_state, NODE, now())
