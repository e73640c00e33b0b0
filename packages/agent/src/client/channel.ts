import { readFileSync } from 'node:fs';
import { Client, credentials, type ChannelOptions } from '@grpc/grpc-js';
import { grpcTarget, isLoopback, parseListenAddress } from '../server/listen-address.js';
import type { ResolvedRemoteDriverConfig } from './config.js';

function pem(value: string): Buffer {
  return Buffer.from(value.includes('-----BEGIN') ? value : readFileSync(value, 'utf8'));
}

export class RemoteConfigError extends Error {
  override readonly name = 'RemoteConfigError';
}

/** One HTTP/2 channel to the agent; every call of the remote driver shares it. */
export function openChannel(config: Pick<ResolvedRemoteDriverConfig, 'endpoint' | 'tls' | 'maxMessageBytes'>): Client {
  const address = parseListenAddress(config.endpoint);
  const options: ChannelOptions = {
    'grpc.max_receive_message_length': config.maxMessageBytes,
    'grpc.max_send_message_length': config.maxMessageBytes,
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.enable_retries': 0,
    'grpc.enable_channelz': 0,
    // A local agent that restarts is back within a second or two: look for it again soon.
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 5000,
  };
  if (address.kind === 'unix' || config.tls === undefined) {
    if (address.kind === 'tcp' && !isLoopback(address.host)) {
      throw new RemoteConfigError(`${config.endpoint}: TCP to a non-loopback address needs tls (ca, cert, key)`);
    }
    return new Client(grpcTarget(address), credentials.createInsecure(), options);
  }
  const { tls } = config;
  if (tls.serverName !== undefined) {
    options['grpc.ssl_target_name_override'] = tls.serverName;
    options['grpc.default_authority'] = tls.serverName;
  }
  return new Client(grpcTarget(address), credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert)), options);
}
