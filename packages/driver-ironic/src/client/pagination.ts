/**
 * Marker pagination. Ironic's `next` link is not followed: it drops some filters (measured on
 * Zed), so each next page is built from our own query plus `marker` = the last item's uuid.
 * A page shorter than `limit` (or without `next`) is the last one.
 */
import type { Control, IronicHttp, Query } from './http.js';

export interface PageOptions extends Control {
  path: string;
  /** The array's key in the answer (`nodes`). */
  key: string;
  query?: Query;
  /** Items per page; Ironic caps it at [api] max_limit (1000 by default). */
  limit: number;
}

async function* pages<T extends { uuid: string }>(http: IronicHttp, o: PageOptions): AsyncGenerator<T[]> {
  let marker: string | undefined;
  for (;;) {
    const res = await http.request<Record<string, unknown>>({
      method: 'GET',
      path: o.path,
      query: { ...o.query, limit: o.limit, marker },
      signal: o.signal,
      retry: o.retry,
    });
    const items = (res.body[o.key] ?? []) as T[];
    if (items.length > 0) yield items;
    const last = items[items.length - 1];
    if (items.length < o.limit || last === undefined || typeof res.body.next !== 'string') return;
    marker = last.uuid;
  }
}

export async function listAll<T extends { uuid: string }>(http: IronicHttp, o: PageOptions): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages<T>(http, o)) all.push(...page);
  return all;
}
