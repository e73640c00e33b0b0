/**
 * The parts of the Docker Engine API (v1.41, also served by podman's compatible service)
 * this driver reads and writes. Only the fields used are typed.
 */

export interface EndpointSettings {
  Aliases?: string[] | null;
  MacAddress?: string;
  IPAddress?: string;
  NetworkID?: string;
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string } | null;
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface MountSpec {
  Type: 'bind';
  Source: string;
  Target: string;
  ReadOnly: boolean;
  BindOptions?: { Propagation?: string };
}

export interface HostConfig {
  NanoCpus?: number;
  Memory?: number;
  MemorySwap?: number;
  PidsLimit?: number;
  Privileged: false;
  NetworkMode: string;
  PidMode?: string;
  IpcMode?: string;
  Init: boolean;
  SecurityOpt?: string[];
  CapDrop?: string[];
  Mounts?: MountSpec[];
  Devices?: DeviceMapping[];
  RestartPolicy?: { Name: string };
  AutoRemove?: boolean;
  ReadonlyRootfs?: boolean;
  PublishAllPorts?: boolean;
}

export interface ContainerCreateBody {
  Image: string;
  Labels: Record<string, string>;
  Hostname?: string;
  Tty: boolean;
  OpenStdin: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  StopSignal?: string;
  StopTimeout?: number;
  HostConfig: HostConfig;
  NetworkingConfig?: { EndpointsConfig: Record<string, EndpointSettings> };
}

export interface ContainerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead' | string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Image: string;
  State: ContainerState;
  Config: { Image: string; Labels: Record<string, string> | null };
  HostConfig: {
    Mounts?: MountSpec[] | null;
    Devices?: DeviceMapping[] | null;
    Privileged?: boolean;
    NetworkMode?: string;
    NanoCpus?: number;
    Memory?: number;
    PidsLimit?: number | null;
  };
  Mounts?: { Type: string; Source: string; Destination: string }[];
  NetworkSettings: { Networks: Record<string, EndpointSettings> | null };
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Created: number;
  State: string;
  Labels: Record<string, string> | null;
  /** The networks the container has an endpoint on, by name (both engines list them; a never-started container's may lack NetworkID). */
  NetworkSettings?: { Networks?: Record<string, EndpointSettings> | null } | null;
}

export interface NetworkInspect {
  Id: string;
  Name: string;
  /** RFC 3339 with nanoseconds, in the engine's time zone: comparable as text between networks of one engine. */
  Created?: string;
  Internal: boolean;
  Labels: Record<string, string> | null;
  Containers?: Record<string, unknown> | null;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null };
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[] | null;
  Size: number;
  Config?: { Labels?: Record<string, string> | null };
}

export interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  Labels: Record<string, string> | null;
  Size: number;
  /** Seconds since the epoch. */
  Created: number;
}

export interface EngineInfo {
  ID: string;
  Name: string;
  NCPU: number;
  MemTotal: number;
  DockerRootDir: string;
  Driver: string;
  CgroupVersion?: string;
}

export interface EngineVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Components?: { Name: string; Version: string }[];
}

/** One line of the /events stream. */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

/** Filters of list endpoints, e.g. { label: ['a=b'], name: ['x'] }. */
export type Filters = Record<string, string[]>;
