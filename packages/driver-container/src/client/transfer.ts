import type { Readable } from 'node:stream';
import type { EngineClient } from './engine-client.js';
import { EngineHttpError } from './errors.js';
import { encodeFilters } from './http.js';
import type { Filters } from './types.js';

/**
 * The engine calls of a migration beyond the driver's usual ones: image save and load (the
 * filesystem's way from one engine to the other, streamed: no temporary file), tag, container
 * update, and labelled volumes (a migration's reservation). Served alike by dockerd and podman's
 * compatible service (measured: /work/notes-tmp/container-migration.md); kept apart from
 * engine-client.ts so that file stays the driver's everyday endpoints.
 */

/** The docker-archive tar of an image (GET /images/{name}/get), as a stream the caller must consume. */
export function saveImage(client: EngineClient, ref: string, signal?: AbortSignal): Promise<Readable> {
  return client.stream(`/images/${encodeURIComponent(ref)}/get`, {}, signal);
}

/**
 * Load an image tar (POST /images/load). Engines answer 200 with a JSON message stream, also when
 * the load failed part way: the answer is read, and an error in it becomes an EngineHttpError.
 */
export async function loadImage(client: EngineClient, tar: Readable, signal?: AbortSignal, isError?: (answer: string) => string | undefined): Promise<void> {
  const r = await client.request<unknown>('POST', '/images/load', {
    query: { quiet: '1' },
    rawBody: { data: tar, contentType: 'application/x-tar' },
    signal,
    slow: true,
  });
  const text = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  const error = isError?.(text);
  if (error !== undefined) throw new EngineHttpError(500, 'POST', '/images/load', error);
}

/** Give an image a second name (POST /images/{name}/tag). */
export async function tagImage(client: EngineClient, ref: string, repo: string, tag: string, signal?: AbortSignal): Promise<void> {
  await client.request('POST', `/images/${encodeURIComponent(ref)}/tag`, { query: { repo, tag }, signal });
}

export interface VolumeSummary {
  Name: string;
  Labels: Record<string, string> | null;
}

export async function createVolume(client: EngineClient, name: string, labels: Record<string, string>, signal?: AbortSignal): Promise<void> {
  await client.request('POST', '/volumes/create', { body: { Name: name, Driver: 'local', Labels: labels }, signal });
}

export async function inspectVolume(client: EngineClient, name: string, signal?: AbortSignal): Promise<VolumeSummary> {
  return (await client.request<VolumeSummary>('GET', `/volumes/${encodeURIComponent(name)}`, { signal })).body;
}

export async function listVolumes(client: EngineClient, filters: Filters, signal?: AbortSignal): Promise<VolumeSummary[]> {
  const r = await client.request<{ Volumes: VolumeSummary[] | null }>('GET', '/volumes', { query: { filters: encodeFilters(filters) }, signal });
  return r.body.Volumes ?? [];
}

export async function removeVolume(client: EngineClient, name: string, signal?: AbortSignal): Promise<void> {
  await client.request('DELETE', `/volumes/${encodeURIComponent(name)}`, { signal });
}
