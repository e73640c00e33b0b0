"""Serves driver.MemoryDriver as nova_common.compute.v1.ComputeService on a unix socket.

    /usr/bin/python3 server.py --listen unix:///run/nova-common/python.sock --build-dir build

What the wire asks of any server (docs/agent.md): contract errors as a gRPC status with an
RpcStatus holding one ErrorDetail in `grpc-status-details-bin`; `request_id` on mutating calls
(a repeat returns the first outcome); the `nova-common-event-position` trailer on answers so
clients can wait for the events a call caused; WatchEvents with sequence numbers and resume.
"""
import argparse
import importlib
import os
import sys
import threading
from concurrent import futures

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--listen", required=True, help="unix:///path/to/socket")
parser.add_argument("--build-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "build"))
args = parser.parse_args()
sys.path.insert(0, args.build_dir)

import grpc  # noqa: E402
from google.protobuf import any_pb2  # noqa: E402

from nova_common.compute.v1 import capabilities_pb2, compute_pb2, compute_pb2_grpc, errors_pb2, inventory_pb2  # noqa: E402
from nova_common.compute.v1 import instance_pb2, outputs_pb2, states_pb2  # noqa: E402

from driver import CAPABILITY_IDS, NODE, MemoryDriver  # noqa: E402
from events import EventLog  # noqa: E402
from semantics import DriverError  # noqa: E402

# The contract this driver is built against: it follows the 1.0 semantics table and declares the
# 1.0 catalogue. Clients hold it to 1.0 (R-BASELINE).
CONTRACT_VERSION = "1.0.0"
GRPC_CODE = {
    "INSTANCE_NOT_FOUND": grpc.StatusCode.NOT_FOUND, "NODE_NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "INSTANCE_EXISTS": grpc.StatusCode.ALREADY_EXISTS, "INVALID_STATE": grpc.StatusCode.FAILED_PRECONDITION,
    "UNSUPPORTED": grpc.StatusCode.UNIMPLEMENTED, "INVALID_INPUT": grpc.StatusCode.INVALID_ARGUMENT,
    "INSUFFICIENT_RESOURCES": grpc.StatusCode.RESOURCE_EXHAUSTED, "INTERNAL": grpc.StatusCode.INTERNAL,
}
RETRYABLE = {"CONFLICT", "BACKEND_UNAVAILABLE", "TIMEOUT", "CANCELLED"}
EVENT_POSITION = "nova-common-event-position"

events = EventLog()
lifecycle_kind = {name: getattr(states_pb2, f"LIFECYCLE_EVENT_KIND_{name}") for name in ("STARTED", "STOPPED", "PAUSED", "RESUMED")}


def record_event(uuid, kind, power_state, node, timestamp):
    event = outputs_pb2.LifecycleEvent(uuid=uuid, kind=lifecycle_kind[kind], power_state=getattr(states_pb2, f"POWER_STATE_{power_state}"), node=node)
    event.timestamp.FromJsonString(timestamp)
    events.append(event)


driver = MemoryDriver(record_event)


def detail_of(error):
    detail = errors_pb2.ErrorDetail(code=getattr(errors_pb2, f"ERROR_CODE_{error.code}"), retryable=error.code in RETRYABLE, message=error.message())
    for field in ("op", "target", "capability", "detail"):
        if getattr(error, field):
            setattr(detail, field, getattr(error, field))
    if error.current_state:
        detail.current_state = getattr(states_pb2, f"INSTANCE_STATE_{error.current_state}")
    for path, message in error.issues:
        issue = detail.issues.add(message=message)
        for part in path:
            issue.path.add(**({"index": part} if isinstance(part, int) else {"key": part}))
    return detail


def fail(context, error):
    """End the call with the contract error: status code, message, and the ErrorDetail trailer."""
    code = GRPC_CODE.get(error.code, grpc.StatusCode.INTERNAL)
    status = errors_pb2.RpcStatus(code=code.value[0], message=error.message())
    packed = any_pb2.Any()
    packed.Pack(detail_of(error))
    status.details.append(packed)
    context.set_trailing_metadata(((EVENT_POSITION, events.position()), ("grpc-status-details-bin", status.SerializeToString())))
    context.abort(code, error.message())


class Once:
    """request_id -> (fingerprint, outcome): a repeated mutating request gets the first outcome."""

    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes = {}

    def run(self, op, request, action):
        if not 1 <= len(request.request_id) <= 128:
            raise DriverError("INVALID_INPUT", op=op, issues=[(["requestId"], "must be 1 to 128 characters")])
        copy = type(request)()
        copy.CopyFrom(request)
        copy.request_id = ""
        fingerprint = (op, copy.SerializeToString(deterministic=True))
        with self.lock:
            known = self.outcomes.get(request.request_id)
        if known is not None:
            if known[0] != fingerprint:
                raise DriverError("INVALID_INPUT", op=op, issues=[(["requestId"], f"was already used for another {known[0][0]} request")])
            if isinstance(known[1], DriverError):
                raise known[1]
            return known[1]
        try:
            outcome = action()
        except DriverError as error:
            if error.code not in RETRYABLE:
                with self.lock:
                    self.outcomes[request.request_id] = (fingerprint, error)
            raise
        with self.lock:
            self.outcomes[request.request_id] = (fingerprint, outcome)
        return outcome


def usage_of(flavor):
    return {"VCPU": flavor.vcpus, "MEMORY_MB": flavor.memory_mb, "DISK_GB": flavor.root_gb + (flavor.ephemeral_gb if flavor.HasField("ephemeral_gb") else 0)}


def answer(method):
    """Run a handler: contract errors become statuses; every answer carries the event position."""

    def handler(self, request, context):
        try:
            response = method(self, request, context)
        except DriverError as error:
            fail(context, error)
        context.set_trailing_metadata(((EVENT_POSITION, events.position()),))
        return response

    return handler


class ComputeServicer(compute_pb2_grpc.ComputeServiceServicer):
    def __init__(self):
        self.once = Once()

    @answer
    def GetCapabilities(self, request, context):
        caps = capabilities_pb2.DriverCapabilities(multi_node=False)
        for capability in CAPABILITY_IDS:
            caps.capabilities[capability].level = capabilities_pb2.SUPPORT_LEVEL_COMPLETE if driver.supported(capability) else capabilities_pb2.SUPPORT_LEVEL_MISSING
        caps.eventual_consistency.SetInParent()
        return compute_pb2.GetCapabilitiesResponse(capabilities=caps, contract_version=CONTRACT_VERSION, driver=compute_pb2.DriverIdentity(name="python-memory-driver", version="0.1.0"), agent_version="0.1.0")

    @answer
    def ListNodes(self, request, context):
        return compute_pb2.ListNodesResponse(nodes=[inventory_pb2.NodeInfo(id=NODE, available=True)])

    @answer
    def GetInventory(self, request, context):
        node = inventory_pb2.NodeInventory(node=NODE)
        for rc, (total, ratio, used) in driver.inventory().items():
            node.resources[rc].CopyFrom(inventory_pb2.InventoryRecord(total=total, reserved=0, used=used, min_unit=1, max_unit=total, step_size=1, allocation_ratio=ratio))
        return compute_pb2.GetInventoryResponse(inventory=inventory_pb2.HostInventory(nodes=[node]))

    @answer
    def ListInstances(self, request, context):
        return compute_pb2.ListInstancesResponse(instances=[instance_pb2.InstanceSummary(uuid=u, name=n, node=NODE, metadata=m) for u, n, m in driver.list_instances()])

    @answer
    def GetInfo(self, request, context):
        uuid, inst = driver.info("getInfo", request.uuid)
        mode = states_pb2.INSTANCE_MODE_NORMAL
        info = instance_pb2.InstanceInfo(uuid=uuid, name=inst["name"], power_state=getattr(states_pb2, f"POWER_STATE_{inst['state']}"), mode=mode, node=NODE, metadata=inst["metadata"])
        for volume_id, device, size in inst["volumes"]:
            volume = info.volumes.add(volume_id=volume_id)
            if device is not None:
                volume.device_name = device
            if size is not None:
                volume.size_gb = size
        for vif_id, mac in inst["interfaces"]:
            info.interfaces.add(id=vif_id, address=mac)
        return compute_pb2.GetInfoResponse(info=info)

    @answer
    def GetConsoleOutput(self, request, context):
        _, inst = driver.info("getConsoleOutput", request.uuid)
        return compute_pb2.GetConsoleOutputResponse(output=outputs_pb2.ConsoleOutput(output="\n".join(inst["console"]), truncated=False))

    @answer
    def Spawn(self, request, context):
        spec = request.spec
        if not request.HasField("spec") or not spec.HasField("flavor") or not spec.HasField("image"):
            missing = "spec" if not request.HasField("spec") else ("flavor" if not spec.HasField("flavor") else "image")
            raise DriverError("INVALID_INPUT", op="spawn", issues=[(["spec"] if missing == "spec" else ["spec", missing], "is required")])
        power_on = spec.power_on if spec.HasField("power_on") else True
        node = spec.node if spec.HasField("node") else None
        volumes = [(v.volume_id, v.device_name if v.HasField("device_name") else None, v.size_gb if v.HasField("size_gb") else None) for v in spec.block_device_info.volumes]
        interfaces = [(vif.id, vif.address) for vif in spec.network_info]
        return self.once.run("spawn", request, lambda: driver.spawn(spec.uuid, spec.name, spec.metadata, usage_of(spec.flavor), power_on, node, volumes, interfaces) or compute_pb2.SpawnResponse())

    @answer
    def Destroy(self, request, context):
        return self.once.run("destroy", request, lambda: driver.destroy(request.uuid) or compute_pb2.DestroyResponse())

    def _act(op, response):
        def handler(self, request, context):
            return self.once.run(op, request, lambda: driver.act(op, request.uuid) or response())

        return answer(handler)

    PowerOff = _act("powerOff", compute_pb2.PowerOffResponse)
    PowerOn = _act("powerOn", compute_pb2.PowerOnResponse)
    Reboot = _act("reboot", compute_pb2.RebootResponse)
    Pause = _act("pause", compute_pb2.PauseResponse)
    Unpause = _act("unpause", compute_pb2.UnpauseResponse)

    def _missing(op):
        def handler(self, request, context):
            driver.require(op)

        return answer(handler)

    Suspend, Resume = _missing("suspend"), _missing("resume")
    Rescue, Unrescue, Rebuild = _missing("rescue"), _missing("unrescue"), _missing("rebuild")
    Snapshot, DeleteSnapshot = _missing("snapshot"), _missing("deleteSnapshot")
    AttachVolume, DetachVolume, ExtendVolume = _missing("attachVolume"), _missing("detachVolume"), _missing("extendVolume")
    AttachInterface, DetachInterface = _missing("attachInterface"), _missing("detachInterface")
    # Added by contract 1.1.0, which this driver predates: UNSUPPORTED, as for any missing capability.
    RestoreState, ListSnapshots = _missing("restoreState"), _missing("listSnapshots")

    def WatchEvents(self, request, context):
        after = request.after_sequence if request.HasField("after_sequence") else None
        try:
            cursor, lost = events.start(request.stream_id, after)
        except ValueError as error:
            fail(context, DriverError("INVALID_INPUT", op="watchEvents", issues=[(["afterSequence"], str(error))]))
        yield compute_pb2.WatchEventsResponse(started=compute_pb2.WatchStarted(stream_id=events.stream_id, sequence=cursor, events_lost=lost))
        while context.is_active():
            batch = events.after(cursor, timeout=0.5)
            if batch is None:
                context.abort(grpc.StatusCode.ABORTED, "the watcher fell behind; resume to learn what was lost")
            for sequence, event in batch:
                cursor = sequence
                yield compute_pb2.WatchEventsResponse(event=compute_pb2.SequencedEvent(sequence=sequence, event=event))


def deterministic_handlers(servicer):
    """The service's handlers, answering with deterministic serialization: map entries (metadata,
    inventory) in key order, so the same state always reads the same (protobuf maps carry no
    order, and the default serializer's order varies from message to message)."""
    service = compute_pb2.DESCRIPTOR.services_by_name["ComputeService"]
    handlers = {}
    for method in service.methods:
        # The message's own generated module (the service's messages live in several .proto files).
        module = importlib.import_module(method.input_type.file.name[: -len(".proto")].replace("/", ".") + "_pb2")
        request = getattr(module, method.input_type.name)
        make = grpc.unary_stream_rpc_method_handler if method.server_streaming else grpc.unary_unary_rpc_method_handler
        handlers[method.name] = make(
            getattr(servicer, method.name),
            request_deserializer=request.FromString,
            response_serializer=lambda message: message.SerializeToString(deterministic=True),
        )
    return grpc.method_handlers_generic_handler(service.full_name, handlers)


def main():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=[("grpc.max_receive_message_length", 4 * 1024 * 1024)])
    server.add_generic_rpc_handlers((deterministic_handlers(ComputeServicer()),))
    path = args.listen[len("unix://"):]
    if os.path.exists(path):
        os.unlink(path)
    server.add_insecure_port(args.listen)
    server.start()
    os.chmod(path, 0o660)
    print(f"ready {args.listen}", flush=True)
    stopped = threading.Event()
    import signal

    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop(grace=5).wait()


if __name__ == "__main__":
    main()
