import { create } from '@bufbuild/protobuf';
import type { ConsoleOutput, SnapshotResult } from '@nova-common/core';
import * as pb from '../wire.js';
import { containerFormats, diskFormats, fromProto } from './enums.js';
import { opt, optNum, optU64 } from './scalars.js';

export function consoleOutputToProto(c: ConsoleOutput): pb.ConsoleOutput {
  return create(pb.ConsoleOutputSchema, { output: c.output, truncated: c.truncated });
}

export function consoleOutputFromProto(c: pb.ConsoleOutput): ConsoleOutput {
  return { output: c.output, truncated: c.truncated };
}

export function snapshotResultToProto(s: SnapshotResult): pb.SnapshotResult {
  return create(pb.SnapshotResultSchema, {
    imageId: s.imageId,
    name: s.name,
    diskFormat: diskFormats.toProto(s.diskFormat),
    containerFormat: containerFormats.toProto(s.containerFormat),
    sizeBytes: optU64(s.sizeBytes),
  });
}

export function snapshotResultFromProto(s: pb.SnapshotResult): SnapshotResult {
  return {
    imageId: s.imageId,
    name: s.name,
    diskFormat: fromProto(diskFormats, s.diskFormat),
    containerFormat: fromProto(containerFormats, s.containerFormat),
    ...opt('sizeBytes', optNum(s.sizeBytes)),
  };
}
