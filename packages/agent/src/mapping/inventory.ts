import { create } from '@bufbuild/protobuf';
import type { HostInventory, InventoryRecord, NodeInfo } from '@nova-common/core';
import * as pb from '../wire.js';
import { nodeUnavailableReasons, optFromProto, optToProto } from './enums.js';
import { mapRecord, num, opt, u64 } from './scalars.js';

function recordToProto(r: InventoryRecord): pb.InventoryRecord {
  return create(pb.InventoryRecordSchema, {
    total: u64(r.total),
    reserved: u64(r.reserved),
    used: u64(r.used),
    minUnit: u64(r.minUnit),
    maxUnit: u64(r.maxUnit),
    stepSize: u64(r.stepSize),
    allocationRatio: r.allocationRatio,
  });
}

function recordFromProto(r: pb.InventoryRecord): InventoryRecord {
  return {
    total: num(r.total),
    reserved: num(r.reserved),
    used: num(r.used),
    minUnit: num(r.minUnit),
    maxUnit: num(r.maxUnit),
    stepSize: num(r.stepSize),
    allocationRatio: r.allocationRatio,
  };
}

export function hostInventoryToProto(inventory: HostInventory): pb.HostInventory {
  return create(pb.HostInventorySchema, {
    nodes: inventory.nodes.map((n) => ({ node: n.node, resources: mapRecord(n.resources, recordToProto), traits: n.traits })),
  });
}

export function hostInventoryFromProto(inventory: pb.HostInventory): HostInventory {
  return {
    nodes: inventory.nodes.map((n) => ({ node: n.node, resources: mapRecord(n.resources, recordFromProto), traits: [...n.traits] })),
  };
}

export function nodeInfoToProto(node: NodeInfo): pb.NodeInfo {
  return create(pb.NodeInfoSchema, {
    id: node.id,
    available: node.available,
    unavailableReason: optToProto(nodeUnavailableReasons, node.unavailableReason),
    instanceUuid: node.instanceUuid,
  });
}

export function nodeInfoFromProto(node: pb.NodeInfo): NodeInfo {
  return {
    id: node.id,
    available: node.available,
    ...opt('unavailableReason', optFromProto(nodeUnavailableReasons, node.unavailableReason)),
    ...opt('instanceUuid', node.instanceUuid),
  };
}
