import { OPERATION_NAMES, type OperationName } from '@nova-common/core';
import { z } from 'zod';
import { ROLES } from '../server/roles.js';

const PemOrPath = z.string().min(1).describe('A PEM text, or the path of a PEM file.');

/**
 * Configuration of the remote driver (`loadDriver('@nova-common/agent/remote', config)`): where
 * the agent is, how to prove who we are, and how patient to be.
 */
export const RemoteDriverConfigSchema = z
  .object({
    endpoint: z
      .string()
      .regex(/^(unix:\/\/\/.+|tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):\d{1,5})$/, 'must be unix:///absolute/path or tcp://host:port')
      .describe('The agent: unix:///run/nova-common/agent.sock or tcp://host:port.'),
    tls: z
      .object({
        ca: PemOrPath.describe('The CA that signed the agent’s certificate.'),
        cert: PemOrPath.describe('This client’s certificate (its OU or a URI SAN nova-common:role:<role> names its role).'),
        key: PemOrPath.describe('This client’s private key.'),
        serverName: z.string().min(1).optional().describe('The name the agent’s certificate is for, when it is not the endpoint’s host.'),
      })
      .strict()
      .optional()
      .describe('Mutual TLS, required for TCP endpoints that are not loopback.'),
    role: z.enum(ROLES).optional().describe('The role this client holds: calls outside it fail here, without a round trip.'),
    timeouts: z
      .partialRecord(z.enum(OPERATION_NAMES as [OperationName, ...OperationName[]]), z.number().int().min(1).max(3_600_000))
      .default({})
      .describe('Per-operation deadlines in ms sent with each call; default the registry’s defaultTimeoutMs.'),
    connectTimeoutMs: z.number().int().min(1).max(600_000).default(10_000).describe('How long initHost waits for the agent to answer.'),
    maxMessageBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024).describe('Largest message sent or received.'),
    retry: z
      .object({
        attempts: z.number().int().min(0).max(20).default(3),
        baseDelayMs: z.number().int().min(1).max(60_000).default(100),
        maxDelayMs: z.number().int().min(1).max(600_000).default(2000),
      })
      .strict()
      .default({ attempts: 3, baseDelayMs: 100, maxDelayMs: 2000 })
      .describe('Retries of calls the transport failed (UNAVAILABLE without a contract error), with the same request id.'),
    reconnectWaitMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(5000)
      .describe('How long a retried call waits for an unreachable agent to come back (never past the call’s deadline).'),
    eventSyncTimeoutMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(2000)
      .describe('With listeners subscribed, how long a call waits for the events it caused to arrive before it resolves.'),
  })
  .strict();

export type RemoteDriverConfig = z.input<typeof RemoteDriverConfigSchema>;
export type ResolvedRemoteDriverConfig = z.output<typeof RemoteDriverConfigSchema>;
