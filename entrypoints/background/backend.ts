// A small typed client for the backend's HTTP API (lib/api.ts). Every response is parsed with
// the contract's zod schemas; failures come back as values, never thrown, and say which kind:
// the network (no answer), 401 (signed out: nothing is cleared here, the caller decides),
// another HTTP error, or an answer that does not match the contract.
import { Inflate, inflateSync } from 'fflate';
import type { z } from 'zod';
import {
  ApiError,
  AuditPushResponse,
  BUCKET_PAGE,
  AuditQueryResponse,
  DEFLATED_JSON,
  LookupResponse,
  PullResponse,
  SignInResponse,
  type SyncEntity,
  OLDER_BACKEND_MAX_ROWS,
  SNAPSHOT_PAGE_ROWS,
  type AuditQuery,
} from '@/lib/api';
import { readBucketPageInSlices, type SnapshotPage } from '@/lib/bucket-page';
import { CheckedSnapshotCustomersPage, CheckedSnapshotIdentifiersPage, type PageParser } from '@/lib/snapshot-check';
import type { AuditEvent } from '@/lib/schemas';
import { errorMessage } from '@/lib/errors';

/** Where a snapshot page's range ends: enough to ask for the next page. */
export type SnapshotRange = Pick<SnapshotPage, 'phase' | 'bits' | 'to' | 'done' | 'build'>;

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export type BackendFailure =
  | { ok: false; kind: 'network'; message: string }
  | { ok: false; kind: 'unauthorized'; status: 401; message: string }
  | { ok: false; kind: 'http'; status: number; code: string | null; message: string }
  | { ok: false; kind: 'invalid_response'; status: number; message: string; rawSize: number };
export type BackendResult<T> = { ok: true; data: T } | BackendFailure;

export interface Endpoint {
  backendUrl: string;
  token: string;
}

/** Milliseconds the client spent, cumulative: the sync engine reports a run's share. */
export interface BackendTimings {
  network: number;
  parse: number;
  validate: number;
}

export interface BackendClient {
  readonly timings: BackendTimings;
  signIn(backendUrl: string, body: { email: string; password: string }): Promise<BackendResult<SignInResponse>>;
  /** `entities`: only changes of these kinds (on-demand mode's first sync skips customers). */
  pull(ep: Endpoint, cursor: string | null, limit: number, signal?: AbortSignal, entities?: readonly SyncEntity[]): Promise<BackendResult<PullResponse>>;
  /** On-demand mode: every live customer these identifier keys (lib/buckets.ts) name. */
  lookup(ep: Endpoint, keys: readonly string[], signal?: AbortSignal): Promise<BackendResult<LookupResponse>>;
  /** One first-sync snapshot page (lib/api.ts); `bits` null on the first request: the backend picks. */
  snapshot(
    ep: Endpoint,
    // build: the prebuilt snapshot the first page came from, if it did (lib/api.ts SnapshotBuildId)
    q: { phase: 'customers' | 'identifiers'; bits: number | null; from: number; build?: string },
    signal?: AbortSignal,
    // Told a bucket page's range as soon as its header is read, before its buckets are checked.
    onRange?: (range: SnapshotRange) => void,
  ): Promise<BackendResult<SnapshotPage>>;
  pushAudit(ep: Endpoint, events: AuditEvent[]): Promise<BackendResult<AuditPushResponse>>;
  queryAudit(ep: Endpoint, query: Partial<AuditQuery>): Promise<BackendResult<AuditQueryResponse>>;
}

export interface BackendOptions {
  fetch: Fetch;
  /** Told after every request whether the backend answered (a 5xx counts as not reachable). */
  onReachability?: (reachable: boolean) => void;
  timeoutMs?: number;
}

/** "path.to.field: message" for the first few issues; enough to find the bad field. */
export function describeZodError(error: z.ZodError, max = 3): string {
  const parts = error.issues
    .slice(0, max)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  const more = error.issues.length > max ? ` (and ${error.issues.length - max} more)` : '';
  return parts.join('; ') + more;
}

/** Past any real page (~12 MB of JSON) and within what a worker can hold: a bigger one is refused. */
export const MAX_INFLATED_PAGE_BYTES = 256 * 1024 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });
// Every answer that fits is inflated into one 32 MB buffer in one call: inflating in steps, or into
// a buffer fflate grows itself, copied each page several times and made inflating the first
// sync's pages cost more than reading them. Pages are ~12 MB of JSON. Made on the first deflated
// answer, not when the worker starts: most starts never see one (an on-demand cache, a synced one).
const INFLATE_BUFFER_BYTES = 32 * 1024 * 1024;
let inflated: Uint8Array | null = null;
const STEP = 64 * 1024; // input bytes per step for a bigger answer, so its size is checked as it grows

/** The JSON text of a DEFLATED_JSON answer, or what is wrong with it. */
export function inflateJson(deflated: Uint8Array, max = MAX_INFLATED_PAGE_BYTES): string | { problem: string } {
  if (deflated.length === 0) return { problem: 'the compressed answer ends early' };
  inflated ??= new Uint8Array(INFLATE_BUFFER_BYTES);
  try {
    try {
      // Given a buffer, fflate writes what fits and drops the rest (or throws a RangeError on a
      // stored block that does not fit): only an answer that leaves room is known to be whole.
      const out = inflateSync(deflated, { out: inflated.subarray(0, Math.min(inflated.length, max + 1)) });
      if (out.length <= Math.min(inflated.length - 1, max)) return utf8.decode(out);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
    }
    return utf8.decode(inflateInSteps(deflated, max));
  } catch (err) {
    if (err instanceof TooBig) return { problem: err.message };
    // fflate's error code 0: the input stopped in the middle of the stream.
    if ((err as { code?: unknown }).code === 0) return { problem: 'the compressed answer ends early' };
    return { problem: `the compressed answer is not valid DEFLATE data of UTF-8 text (${errorText(err)})` };
  }
}

class TooBig extends Error {}

/** An answer bigger than the buffer: inflated a step at a time, refused as soon as it passes `max`. */
function inflateInSteps(deflated: Uint8Array, max: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  let ended = false;
  const stream = new Inflate((chunk, final) => {
    size += chunk.length;
    if (size > max) throw new TooBig(`the answer inflates to more than ${max} bytes`);
    parts.push(chunk);
    ended = final;
  });
  for (let i = 0; i < deflated.length; i += STEP) stream.push(deflated.subarray(i, i + STEP), i + STEP >= deflated.length);
  if (!ended) throw Object.assign(new Error('unexpected EOF'), { code: 0 });
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}

/**
 * Lets the worker's other tasks run (the answers of IndexedDB requests): a task, not a microtask.
 * A message, not setTimeout(0), which browsers delay to 4 ms once timeouts nest.
 */
function pause(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

export function createBackendClient(opts: BackendOptions): BackendClient {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const timings: BackendTimings = { network: 0, parse: 0, validate: 0 };
  // Set when the backend refused bucket pages (one from before them): JSON pages from then on.
  let bucketPagesRefused = false;
  // A backend from before pages of more than OLDER_BACKEND_MAX_ROWS rows refused a bigger page: smaller ones from then on.
  let smallerPages = false;

  /**
   * `readBinary`: how an answer of a binary media type of this route is checked (the snapshot's
   * bucket pages, BUCKET_PAGE); without, only JSON answers (plain or DEFLATED_JSON) are taken.
   */
  async function request<T>(
    url: string,
    init: RequestInit,
    schema: PageParser<T>,
    signal?: AbortSignal,
    readBinary?: { type: string; read: (body: Uint8Array) => Promise<{ ok: true; page: T } | { ok: false; problem: string }> },
  ): Promise<BackendResult<T>> {
    let res: Response;
    const started = performance.now();
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      // no-store: answers hold CPNI, which must not sit in the browser's disk cache (and writing a
      // first sync's gigabyte there cost as much as fetching it).
      res = await opts.fetch(url, { ...init, cache: 'no-store', signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      // Stopped by the caller (a sync cancelled, a page asked for ahead no longer wanted): says nothing of the backend.
      if (!signal?.aborted) opts.onReachability?.(false);
      return { ok: false, kind: 'network', message: `Backend unreachable (${url}): ${errorText(err)}` };
    }
    opts.onReachability?.(res.status < 500);

    let text = '';
    let deflated: Uint8Array | null = null;
    let binary: Uint8Array | null = null;
    try {
      const type = res.headers.get('content-type') ?? '';
      if (type.startsWith(DEFLATED_JSON)) deflated = new Uint8Array(await res.arrayBuffer());
      else if (readBinary && res.ok && type.startsWith(readBinary.type)) binary = new Uint8Array(await res.arrayBuffer());
      else text = await res.text();
    } catch (err) {
      return { ok: false, kind: 'network', message: `Connection lost while reading the answer: ${errorText(err)}` };
    }
    // Bytes of the answer, for the quarantine record; only counted when it is kept.
    const rawSize = () => deflated?.length ?? binary?.length ?? new TextEncoder().encode(text).length;
    const read = performance.now();
    timings.network += read - started;
    if (binary && readBinary) {
      let checked: Awaited<ReturnType<typeof readBinary.read>>;
      try {
        checked = await readBinary.read(binary);
      } catch (err) {
        // Never thrown for a bad page (that is a refusal); still an answer not taken, not a crash.
        checked = { ok: false, problem: `the answer could not be checked: ${errorText(err)}` };
      }
      timings.validate += performance.now() - read;
      if (!checked.ok) return { ok: false, kind: 'invalid_response', status: res.status, rawSize: rawSize(), message: checked.problem };
      return { ok: true, data: checked.page };
    }
    if (deflated && res.ok) {
      const inflated = inflateJson(deflated);
      if (typeof inflated !== 'string') return { ok: false, kind: 'invalid_response', status: res.status, rawSize: rawSize(), message: inflated.problem };
      text = inflated;
    }
    let body: unknown = undefined;
    let bodyIsJson = false;
    try {
      body = text === '' ? undefined : JSON.parse(text);
      bodyIsJson = body !== undefined;
    } catch {
      // not JSON; handled below
    }

    if (!res.ok) {
      const apiError = bodyIsJson ? ApiError.safeParse(body) : null;
      const message = apiError?.success ? apiError.data.message : `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`;
      if (res.status === 401) return { ok: false, kind: 'unauthorized', status: 401, message };
      return { ok: false, kind: 'http', status: res.status, code: apiError?.success ? apiError.data.error : null, message };
    }
    if (!bodyIsJson) {
      return { ok: false, kind: 'invalid_response', status: res.status, rawSize: rawSize(), message: 'the answer is not JSON' };
    }
    const parsedAt = performance.now();
    timings.parse += parsedAt - read;
    const parsed = schema.safeParse(body);
    timings.validate += performance.now() - parsedAt;
    if (!parsed.success) {
      return { ok: false, kind: 'invalid_response', status: res.status, rawSize: rawSize(), message: describeZodError(parsed.error) };
    }
    return { ok: true, data: parsed.data };
  }

  const url = (backendUrl: string, path: string) => backendUrl.replace(/\/+$/, '') + path;
  const auth = (ep: Endpoint, accept = 'application/json') => ({ authorization: `Bearer ${ep.token}`, accept });
  const json = { 'content-type': 'application/json', accept: 'application/json' };

  return {
    timings,
    signIn(backendUrl, body) {
      return request(url(backendUrl, '/api/auth/sign-in'), { method: 'POST', headers: json, body: JSON.stringify(body) }, SignInResponse);
    },
    pull(ep, cursor, limit, signal, entities) {
      const q = new URLSearchParams({ limit: String(limit) });
      if (cursor !== null) q.set('cursor', cursor);
      if (entities) q.set('entities', entities.join(','));
      return request(url(ep.backendUrl, `/api/sync/pull?${q}`), { method: 'GET', headers: auth(ep) }, PullResponse, signal);
    },
    lookup(ep, keys, signal) {
      const q = new URLSearchParams();
      for (const k of keys) q.append('key', k);
      return request(url(ep.backendUrl, `/api/customers/lookup?${q}`), { method: 'GET', headers: auth(ep) }, LookupResponse, signal);
    },
    async snapshot(ep, { phase, bits, from, build }, signal, onRange) {
      // buckets: each bucket deflated in the text the cache stores, so the worker checks it and
      // stores it as it came (BUCKET_PAGE); compressed, too: the browser's fetch is slow for big
      // bodies. A backend from before bucket pages refuses that encoding (400): then deflated
      // JSON pages, checked by hand when already in the schema's shape, else by zod
      // (lib/snapshot-check.ts), and the worker deflates what it stores itself.
      const smaller = Math.min(SNAPSHOT_PAGE_ROWS[phase], OLDER_BACKEND_MAX_ROWS);
      const ask = (encoding: 'buckets' | 'deflate', rows: number) => {
        const q = new URLSearchParams({ phase, from: String(from), maxRows: String(rows), encoding });
        if (bits !== null) q.set('bits', String(bits));
        if (build) q.set('build', build);
        const schema: PageParser<SnapshotPage> = phase === 'customers' ? CheckedSnapshotCustomersPage : CheckedSnapshotIdentifiersPage;
        return request(
          url(ep.backendUrl, `/api/sync/snapshot?${q}`),
          { method: 'GET', headers: auth(ep, `${BUCKET_PAGE}, ${DEFLATED_JSON}, application/json`) },
          schema,
          signal,
          { type: BUCKET_PAGE, read: (body) => readBucketPageInSlices(body, phase, pause, { onHeader: onRange }) },
        );
      };
      const refusedQuery = (r: BackendResult<SnapshotPage>) => !r.ok && r.kind === 'http' && r.status === 400 && r.code === 'invalid_query';
      const inEitherEncoding = async (rows: number) => {
        if (bucketPagesRefused) return ask('deflate', rows);
        const res = await ask('buckets', rows);
        if (!refusedQuery(res)) return res;
        const again = await ask('deflate', rows);
        // Only a backend that takes the same request as JSON has no bucket pages; else the 400 stands.
        if (!again.ok && again.kind === 'http' && again.status === 400) return res;
        bucketPagesRefused = true;
        return again;
      };
      const res = await inEitherEncoding(smallerPages ? smaller : SNAPSHOT_PAGE_ROWS[phase]);
      if (smallerPages || smaller === SNAPSHOT_PAGE_ROWS[phase] || !refusedQuery(res)) return res;
      // Maybe a backend from before pages this big (its query schema refuses them): asked again
      // for a smaller page, and for smaller pages from then on once that is served; a 400 for it
      // too is the backend's answer (and any other failure tells nothing of its sizes).
      const again = await inEitherEncoding(smaller);
      if (again.ok) smallerPages = true;
      return refusedQuery(again) ? res : again;
    },
    pushAudit(ep, events) {
      return request(
        url(ep.backendUrl, '/api/audit-events'),
        { method: 'POST', headers: { ...auth(ep), ...json }, body: JSON.stringify({ events }) },
        AuditPushResponse,
      );
    },
    queryAudit(ep, query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) q.set(k, String(v));
      const qs = q.size ? `?${q}` : '';
      return request(url(ep.backendUrl, `/api/audit-events${qs}`), { method: 'GET', headers: auth(ep) }, AuditQueryResponse);
    },
  };
}

function errorText(err: unknown): string {
  return err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : errorMessage(err);
}

export type SessionCallResult<T> =
  | { ok: true; status: number; data: T }
  | { ok: false; status: number | null; error: string; issues?: { path: string; message: string }[] };

export interface SessionCallDeps {
  fetch: Fetch;
  activeSession: () => Promise<Endpoint | null>;
  /** Told when the backend says the session is no longer valid (HTTP 401). */
  markExpired: () => Promise<void>;
  timeoutMs?: number;
}

/**
 * One signed-in JSON request for the feature handlers (calls, campaigns, adapters): the
 * answer parsed with `schema`, every failure a value with a sentence a person can read, and
 * the backend's `issues` passed on so pages can point at the field.
 */
export function createSessionCall(deps: SessionCallDeps) {
  return async function call<S extends z.ZodTypeAny>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<SessionCallResult<z.infer<S>>> {
    const s = await deps.activeSession();
    if (!s) return { ok: false, status: null, error: 'Not signed in to CPNI Guard.' };
    let res: Response;
    try {
      res = await deps.fetch(s.backendUrl.replace(/\/+$/, '') + path, {
        method,
        cache: 'no-store', // CPNI stays out of the browser's disk cache
        headers: {
          authorization: `Bearer ${s.token}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(deps.timeoutMs ?? 30_000),
      });
    } catch (err) {
      return { ok: false, status: null, error: `Backend unreachable: ${errorText(err)}` };
    }
    let raw: unknown = null;
    try {
      raw = await res.json();
    } catch {
      // an empty or non-JSON body: judged below by the status and the schema
    }
    if (!res.ok) {
      if (res.status === 401) await deps.markExpired();
      const e = ApiError.safeParse(raw);
      if (!e.success) return { ok: false, status: res.status, error: `The backend answered HTTP ${res.status}.` };
      const issues = e.data.issues?.map(({ path: p, message }) => ({ path: p, message }));
      return { ok: false, status: res.status, error: e.data.message, ...(issues ? { issues } : {}) };
    }
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      return { ok: false, status: res.status, error: `The backend's answer does not match the contract: ${describeZodError(parsed.error)}` };
    }
    return { ok: true, status: res.status, data: parsed.data };
  };
}

/** A page's reply from a request's result; the backend's `issues` travel with a refusal. */
export function toReply<T>(r: SessionCallResult<T>): { ok: true; data: T } | { ok: false; error: string; issues?: { path: string; message: string }[] } {
  if (r.ok) return { ok: true, data: r.data };
  return r.issues ? { ok: false, error: r.error, issues: r.issues } : { ok: false, error: r.error };
}
