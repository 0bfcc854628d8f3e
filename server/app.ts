// The HTTP API of the CPNI backend. Every route is described with the zod schemas of
// lib/api.ts (createRoute), so the OpenAPI document at GET /api/openapi.json is generated
// from the same contract the extension parses responses with.
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler, TypedResponse } from 'hono';
import type { JSONParsed } from 'hono/utils/types';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { promisify } from 'node:util';
import { deflateRaw } from 'node:zlib';
import {
  ApiError,
  AuditPushRequest,
  AuditPushResponse,
  AuditQuery,
  AuditQueryResponse,
  BUCKET_PAGE,
  DEFLATED_JSON,
  HealthResponse,
  ImportResponse,
  ImportRow,
  LookupQuery,
  LookupResponse,
  MeResponse,
  PullQuery,
  PullResponse,
  SignInRequest,
  SignInResponse,
  SnapshotCustomersPage,
  SnapshotIdentifiersPage,
  SnapshotQuery,
} from '../lib/api';
import { PolicySettings, type Role, type User } from '../lib/schemas';
import { dummyPasswordHash, newToken, sha256, verifyPassword } from './crypto';
import { registerCampaignRoutes } from './routes/campaigns';
import { registerCallRoutes } from './routes/calls';
import { registerAdapterRoutes } from './routes/adapters';
import { encodeBucketPage } from '../lib/bucket-page';
import { deflateBucketText } from './bucket-text';
import type { SnapshotBuilds } from './snapshot-build';
import { InvalidCursorError, SnapshotRangeError, type ImportIssue, type NumberedImportRow, type ServerImportRow, type Store } from './store';

export const SERVER_VERSION = '0.1.0';
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
export const SIGN_IN_MAX_FAILURES = 10;
export const SIGN_IN_WINDOW_MS = 15 * 60 * 1000;
const MAX_ISSUES = 100;

type Env = { Variables: { user: User; tokenHash: string } };
type ApiErrorBody = z.infer<typeof ApiError>;

export type AppOptions = {
  db: Store;
  now?: () => Date;
  /** Prebuilt first-sync snapshots (server/snapshot-build.ts); without, every page is live. */
  snapshots?: Pick<SnapshotBuilds, 'pageFile'>;
};

// ---- helpers ----
const issuePath = (path: readonly PropertyKey[]) =>
  path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');

function zodIssues(error: z.ZodError, rowOf?: (path: readonly PropertyKey[]) => { row: number; rest: readonly PropertyKey[] } | null) {
  return error.issues.slice(0, MAX_ISSUES).map((i) => {
    const r = rowOf?.(i.path);
    return r ? { row: r.row, path: issuePath(r.rest), message: i.message } : { path: issuePath(i.path), message: i.message };
  });
}

const err = (error: string, message: string, issues?: ApiErrorBody['issues']): ApiErrorBody =>
  issues ? { error, message, issues } : { error, message };

const jsonError = (description: string) => ({ description, content: { 'application/json': { schema: ApiError } } });
const E = {
  400: jsonError('The request failed validation; `issues` says where.'),
  401: jsonError('Missing, unknown or expired bearer token.'),
  403: jsonError("The signed-in user's role may not use this route."),
} as const;
const security = [{ bearer: [] as string[] }];

// The tombstone row is a server-side extension of ImportRow (lib/api.ts has no delete row yet).
const ImportTombstoneRow = z.object({
  type: z.literal('tombstone'),
  entity: z.literal('customer'),
  id: z.string().min(1).max(64),
});
const [ImportCustomerRow, ImportConsentRow] = ImportRow.options;
const ServerImportRowSchema = z.union([ImportCustomerRow, ImportConsentRow, ImportTombstoneRow]);

/** Validates one import row, choosing the variant by `type` so issues name real fields. */
function parseImportRow(raw: unknown): { ok: true; value: ServerImportRow } | { ok: false; issues: { path: string; message: string }[] } {
  const type = raw && typeof raw === 'object' ? (raw as { type?: unknown }).type : undefined;
  const schema =
    type === 'customer' ? ImportCustomerRow : type === 'consent' ? ImportConsentRow : type === 'tombstone' ? ImportTombstoneRow : null;
  if (!schema) {
    return { ok: false, issues: [{ path: 'type', message: `type must be "customer", "consent" or "tombstone" (got ${JSON.stringify(type)})` }] };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, value: r.data as ServerImportRow };
  return { ok: false, issues: r.error.issues.map((i) => ({ path: issuePath(i.path), message: i.message })) };
}

const isNdjson = (contentType: string) => /^application\/(x-ndjson|ndjson|jsonl|x-jsonlines)\b/i.test(contentType);

function parseImportBody(
  contentType: string,
  text: string,
): { ok: true; rows: NumberedImportRow[] } | { ok: false; message: string; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  const rows: NumberedImportRow[] = [];
  let raws: { row: number; raw: unknown }[] = [];
  if (isNdjson(contentType)) {
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return; // blank lines are skipped but still counted, so row = line number
      try {
        raws.push({ row: i + 1, raw: JSON.parse(line) });
      } catch (e) {
        issues.push({ row: i + 1, path: '', message: `not valid JSON: ${(e as Error).message}` });
      }
    });
  } else {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return { ok: false, message: 'The body is not valid JSON.', issues: [{ path: '', message: (e as Error).message }] };
    }
    if (!Array.isArray(parsed)) {
      return { ok: false, message: 'The body must be a JSON array of import rows (or NDJSON, one row per line).', issues: [{ path: '', message: 'expected an array' }] };
    }
    raws = parsed.map((raw, i) => ({ row: i + 1, raw }));
  }
  for (const { row, raw } of raws) {
    const r = parseImportRow(raw);
    if (r.ok) rows.push({ row, value: r.value });
    else for (const i of r.issues) issues.push({ row, ...i });
  }
  if (!issues.length && !rows.length) {
    return { ok: false, message: 'The import is empty.', issues: [{ path: '', message: 'no rows' }] };
  }
  if (issues.length) {
    const rowsBad = new Set(issues.map((i) => i.row)).size;
    return {
      ok: false,
      message: `${rowsBad} row(s) failed validation; nothing was imported.${issues.length > MAX_ISSUES ? ` First ${MAX_ISSUES} of ${issues.length} issues shown.` : ''}`,
      issues: issues.slice(0, MAX_ISSUES),
    };
  }
  return { ok: true, rows };
}

const deflateRawAsync = promisify(deflateRaw);

/**
 * A live snapshot page (its JSON as the store rendered it) as the request asked for it
 * (SnapshotQuery.encoding): plain; compressed with raw DEFLATE at level 1 (~20 ms for 6 MB of JSON, ~11x
 * smaller; on libuv's thread pool, so the event loop goes on meanwhile); or as a bucket page,
 * encoded here on the event loop (parsed, packed and deflated text by text): live pages are what
 * a rep gets only while no fresh build is on disk (server/snapshot-build.ts).
 */
async function snapshotAnswer<T>(c: Context, encoding: SnapshotQuery['encoding'], json: Uint8Array): Promise<TypedResponse<JSONParsed<T>, 200, 'json'>> {
  if (encoding === 'deflate') return typedBody<T>(c, await deflateRawAsync(json, { level: 1 }), DEFLATED_JSON);
  if (encoding === 'buckets') {
    const page = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8')) as SnapshotCustomersPage | SnapshotIdentifiersPage;
    return typedBody<T>(c, encodeBucketPage(page, deflateBucketText(1)), BUCKET_PAGE);
  }
  return jsonText<T>(c, json as Uint8Array<ArrayBuffer>);
}

/** An answer of a JSON route sent as is (JSON text, DEFLATED_JSON, BUCKET_PAGE), typed as the route's JSON response. */
function typedBody<T>(c: Context, bytes: string | Uint8Array, type: string): TypedResponse<JSONParsed<T>, 200, 'json'> {
  return c.body(bytes as string | Uint8Array<ArrayBuffer>, 200, { 'content-type': type }) as unknown as TypedResponse<JSONParsed<T>, 200, 'json'>;
}

/**
 * JSON text the store built from its stored rows, sent as is: a first sync carries a million
 * customers, too many to parse and re-serialize here. Typed as the route's JSON response.
 */
const jsonText = <T>(c: Context, text: string | Uint8Array): TypedResponse<JSONParsed<T>, 200, 'json'> => typedBody<T>(c, text, 'application/json');

const AUDIT_TOKEN_RE = /^v1:(-?\d{1,16}):([0-9a-f-]{36})$/i;
const encodeAuditToken = (p: { atMs: number; id: string }) => Buffer.from(`v1:${p.atMs}:${p.id}`).toString('base64url');
function decodeAuditToken(token: string): { atMs: number; id: string } | null {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const m = AUDIT_TOKEN_RE.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m ? { atMs: Number(m[1]), id: m[2]! } : null;
}

const ALLOWED_ORIGIN = /^(?:(?:chrome-extension|moz-extension):\/\/[A-Za-z0-9._-]+|http:\/\/(?:localhost|127\.0\.0\.1)(?::\d{1,5})?)$/;

// ---- the app ----
export function createApp({ db, now = () => new Date(), snapshots }: AppOptions) {
  const app = new OpenAPIHono<Env>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const where = result.target === 'query' ? 'query' : result.target === 'param' ? 'path' : 'body';
        return c.json(
          err(`invalid_${where}`, `The request ${where} failed validation: ${result.error.issues[0]?.message ?? 'invalid'}.`, zodIssues(result.error)),
          400,
        );
      }
    },
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'The token from POST /api/auth/sign-in (valid 12 hours).',
  });

  app.use(
    '/api/*',
    cors({
      origin: (origin) => (ALLOWED_ORIGIN.test(origin) ? origin : null),
      allowHeaders: ['Authorization', 'Content-Type'],
      allowMethods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
      maxAge: 600,
    }),
  );

  // Bearer auth on everything but the public routes.
  const PUBLIC = new Set(['/api/health', '/api/auth/sign-in', '/api/openapi.json']);
  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'OPTIONS' || PUBLIC.has(c.req.path)) return next();
    const m = /^Bearer\s+([A-Za-z0-9_-]{16,200})\s*$/i.exec(c.req.header('authorization') ?? '');
    if (!m) {
      c.header('WWW-Authenticate', 'Bearer');
      return c.json(err('unauthorized', 'Sign in first: this route needs an Authorization: Bearer <token> header.'), 401);
    }
    const tokenHash = sha256(m[1]!);
    const user = await db.findSessionUser(tokenHash, now());
    if (!user) {
      c.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      return c.json(err('unauthorized', 'Your session is unknown or has expired; sign in again.'), 401);
    }
    c.set('user', user);
    c.set('tokenHash', tokenHash);
    return next();
  });

  const requireRole =
    (...roles: Role[]): MiddlewareHandler<Env> =>
    async (c, next) => {
      const user = c.get('user');
      if (!user || !roles.includes(user.role)) {
        return c.json(
          err('forbidden', `This needs one of the roles ${roles.join(', ')}; you are signed in as ${user?.role ?? 'nobody'}.`),
          403,
        );
      }
      await next();
    };
  const anyRole = requireRole('rep', 'marketing', 'manager', 'counsel', 'admin');

  app.onError((e, c) => {
    if (e instanceof HTTPException) {
      const status = e.status;
      const code = status === 400 ? 'invalid_body' : status === 415 ? 'unsupported_media_type' : status === 413 ? 'too_large' : 'http_error';
      return c.json(err(code, e.message || 'Bad request.'), status);
    }
    console.error('[cpni-backend] unhandled error', e);
    return c.json(err('internal', 'Something went wrong on the server; nothing was half-applied. Try again.'), 500);
  });
  app.notFound((c) => c.json(err('not_found', `No route ${c.req.method} ${c.req.path}.`), 404));

  // ---- health ----
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/health',
      tags: ['system'],
      summary: 'Liveness; no sign-in needed',
      responses: { 200: { description: 'The backend is up.', content: { 'application/json': { schema: HealthResponse } } } },
    }),
    (c) => c.json({ ok: true as const, version: SERVER_VERSION, time: now().toISOString() }, 200),
  );

  // ---- auth ----
  const failures = new Map<string, number[]>(); // email -> failure times (ms), in this process
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/sign-in',
      tags: ['auth'],
      summary: 'Exchange email and password for a bearer token (12 hours)',
      request: { body: { required: true, content: { 'application/json': { schema: SignInRequest } } } },
      responses: {
        200: { description: 'Signed in.', content: { 'application/json': { schema: SignInResponse } } },
        400: E[400],
        401: jsonError('Unknown email or wrong password (the response does not say which).'),
        429: jsonError(`Too many failed sign-ins for this email (${SIGN_IN_MAX_FAILURES} per 15 minutes).`),
      },
    }),
    async (c) => {
      const { email, password } = c.req.valid('json');
      const key = email.trim().toLowerCase();
      const t = now().getTime();
      const recent = (failures.get(key) ?? []).filter((x) => x > t - SIGN_IN_WINDOW_MS);
      if (recent.length >= SIGN_IN_MAX_FAILURES) {
        const retry = Math.max(1, Math.ceil((recent[0]! + SIGN_IN_WINDOW_MS - t) / 1000));
        c.header('Retry-After', String(retry));
        return c.json(err('rate_limited', `Too many failed sign-ins for ${key}; try again in ${Math.ceil(retry / 60)} minute(s).`), 429);
      }
      const user = await db.findUserByEmail(key);
      const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
      if (!user || !ok) {
        recent.push(t);
        failures.set(key, recent);
        return c.json(err('invalid_credentials', 'Email or password is wrong.'), 401);
      }
      failures.delete(key);
      const token = newToken();
      await db.createSession(sha256(token), user.id, now(), new Date(t + SESSION_TTL_MS));
      return c.json({ token, user: { id: user.id, email: user.email, name: user.name, role: user.role } }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/auth/sign-out',
      tags: ['auth'],
      summary: 'End this session (the token stops working)',
      security,
      middleware: [anyRole] as const,
      responses: {
        200: { description: 'Signed out.', content: { 'application/json': { schema: z.object({ ok: z.literal(true) }) } } },
        401: E[401],
      },
    }),
    async (c) => {
      await db.deleteSession(c.get('tokenHash'));
      return c.json({ ok: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/me',
      tags: ['auth'],
      summary: 'The signed-in user',
      security,
      middleware: [anyRole] as const,
      responses: {
        200: { description: 'The user behind the token.', content: { 'application/json': { schema: MeResponse } } },
        401: E[401],
      },
    }),
    (c) => c.json({ user: c.get('user') }, 200),
  );

  // ---- sync ----
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/sync/pull',
      tags: ['sync'],
      summary: 'Changes after a cursor, in pages (no cursor: everything)',
      description:
        'Each change is the latest version of one entity (upsert with its data, or a tombstone). Store the returned cursor only after the whole page was applied; keep pulling while hasMore is true. The policy settings come as entity "policy", id "current".',
      security,
      middleware: [anyRole] as const,
      request: { query: PullQuery },
      responses: {
        200: { description: 'One page of changes.', content: { 'application/json': { schema: PullResponse } } },
        400: jsonError('Invalid limit, or a cursor this server did not issue.'),
        401: E[401],
      },
    }),
    async (c) => {
      const { cursor, limit, entities } = c.req.valid('query');
      try {
        const page = await db.pull(cursor, limit, entities);
        return c.json({ ...page, serverTime: now().toISOString() }, 200);
      } catch (e) {
        if (e instanceof InvalidCursorError) {
          return c.json(
            err('invalid_cursor', 'The sync cursor is malformed or was not issued by this server; start over without a cursor.', [
              { path: 'cursor', message: e.message },
            ]),
            400,
          );
        }
        throw e;
      }
    },
  );


  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/sync/snapshot',
      tags: ['sync'],
      summary: 'First sync: whole buckets of customers (with consents), then of identifier keys',
      description:
        'Request phase "customers" from 0 (omit `bits`: the response names the layout), then from each `to` while `done` is false; then phase "identifiers" the same way with the same `bits`. Buckets are never split; empty buckets are left out. The page from 0 of phase "customers" also carries the policy, adapters and campaigns (`others`). Keep the `cursor` of the first page and pull changes after it once the snapshot is complete.\n\n' +
        'Prebuilt snapshots: the backend renders the whole snapshot once, at one feed position, and serves those pages to every rep. Such a page carries `build`, and every page of one build carries the same `cursor`. Send that `build` with every later request (both phases): the page comes from the same build while the backend still keeps it (the newest two builds are kept), its `bits` match and `maxRows` is the one the build was made with; otherwise the answer is a live page, which is newer and therefore just as safe. A first page (phase "customers", from 0, no `build`) comes from the newest build when it is recent enough (by default at most 24 hours old and at most 250,000 changes behind the feed); any other request without `build` gets a live page, which has no `build` field.',
      security,
      middleware: [anyRole] as const,
      request: {
        query: SnapshotQuery,
      },
      responses: {
        200: {
          description: `One page of whole buckets: as JSON, with \`encoding=deflate\` that JSON compressed with raw DEFLATE (${DEFLATED_JSON}), or with \`encoding=buckets\` each bucket in the text the extension stores, deflated (${BUCKET_PAGE}; lib/api.ts BucketPageHeader). Prebuilt pages are served for \`encoding=buckets\` only.`,
          content: {
            'application/json': { schema: z.union([SnapshotCustomersPage, SnapshotIdentifiersPage]) },
            [DEFLATED_JSON]: { schema: z.string().openapi({ format: 'binary', description: 'The page\'s JSON (as application/json), compressed with raw DEFLATE (RFC 1951).' }) },
            [BUCKET_PAGE]: {
              schema: z.string().openapi({
                format: 'binary',
                description: 'A 4-byte big-endian length, that many bytes of JSON (the header: the page\'s fields and, per bucket, [deflated bytes, text bytes] of each text), then the bucket texts, each raw DEFLATE.',
              }),
            },
          },
        },
        400: jsonError('Invalid phase, bits, from, maxRows or build id, or `from` past the end of the layout.'),
        401: E[401],
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      // A prebuilt page is the same bytes for every rep: sent from disk, no database work.
      const built = await snapshots?.pageFile(q);
      if (built) return typedBody<SnapshotCustomersPage | SnapshotIdentifiersPage>(c, built, BUCKET_PAGE);
      let json: Uint8Array;
      try {
        json = await db.snapshot(q);
      } catch (e) {
        if (e instanceof SnapshotRangeError) return c.json(err('invalid_query', e.message, [{ path: 'from', message: e.message }]), 400);
        throw e;
      }
      return snapshotAnswer<SnapshotCustomersPage | SnapshotIdentifiersPage>(c, q.encoding, json);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/customers/lookup',
      tags: ['sync'],
      summary: 'On-demand mode: the customers identifier keys name, with their consents',
      description:
        'Keys are lib/buckets.ts identifier keys (`crm:<adapter>:<id>`, `acct:<number>`, `tel:<E.164>`, `mail:<email>`); repeat `key` for several (at most 20). Unknown keys match nothing (200, empty `matches`).',
      security,
      middleware: [anyRole] as const,
      request: { query: LookupQuery },
      responses: {
        200: { description: 'Every live customer a key names (at most 50).', content: { 'application/json': { schema: LookupResponse } } },
        400: E[400],
        401: E[401],
      },
    }),
    async (c) => {
      const { key } = c.req.valid('query');
      return jsonText<LookupResponse>(c, await db.lookupCustomers(typeof key === 'string' ? [key] : key));
    },
  );

  // ---- audit ----
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/audit-events',
      tags: ['audit'],
      summary: 'Deliver audit events (idempotent by event id)',
      description:
        "Every event's actor and actorRole must be the signed-in user's email and role, else the whole batch is refused (403) and nothing is stored. Events already stored are acknowledged as duplicates.",
      security,
      middleware: [anyRole] as const,
      request: { body: { required: true, content: { 'application/json': { schema: AuditPushRequest } } } },
      responses: {
        200: { description: 'Stored (accepted) or already stored (duplicates).', content: { 'application/json': { schema: AuditPushResponse } } },
        400: E[400],
        401: E[401],
        403: jsonError('An event names another actor or role than the signed-in user; nothing was stored.'),
      },
    }),
    async (c) => {
      const { events } = c.req.valid('json');
      const user = c.get('user');
      const forged: ImportIssue[] = [];
      events.forEach((e, i) => {
        if (e.actor !== user.email) forged.push({ path: `events[${i}].actor`, message: `actor ${e.actor} is not the signed-in user ${user.email}` });
        if (e.actorRole !== user.role) forged.push({ path: `events[${i}].actorRole`, message: `actorRole ${e.actorRole} is not your role ${user.role}` });
      });
      if (forged.length) {
        return c.json(err('forbidden', 'Audit events may only be recorded as the signed-in user; nothing in this batch was stored.', forged.slice(0, MAX_ISSUES)), 403);
      }
      return c.json(await db.insertAuditEvents(events, now()), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/audit-events',
      tags: ['audit'],
      summary: 'Search the audit trail, newest first (manager, counsel, admin)',
      description: '`from` and `to` are inclusive bounds on the event time. Pass `next` from a response as `before` for the next page.',
      security,
      middleware: [requireRole('manager', 'counsel', 'admin')] as const,
      request: { query: AuditQuery },
      responses: {
        200: { description: 'One page of events.', content: { 'application/json': { schema: AuditQueryResponse } } },
        400: E[400],
        401: E[401],
        403: E[403],
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      let before: { atMs: number; id: string } | null = null;
      if (q.before !== undefined) {
        before = decodeAuditToken(q.before);
        if (!before) return c.json(err('invalid_query', 'The `before` page token is malformed.', [{ path: 'before', message: 'not a page token from this server' }]), 400);
      }
      const { events, next } = await db.queryAudit(
        {
          actor: q.actor,
          kind: q.kind,
          action: q.action,
          ruleId: q.ruleId,
          customerId: q.customerId,
          fromMs: q.from !== undefined ? Date.parse(q.from) : undefined,
          toMs: q.to !== undefined ? Date.parse(q.to) : undefined,
        },
        before,
        q.limit,
      );
      return c.json({ events, next: next ? encodeAuditToken(next) : null }, 200);
    },
  );

  // ---- import ----
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/import/customers',
      tags: ['admin'],
      summary: 'Import customers and consents (admin): JSON array or NDJSON',
      description:
        'Every row is validated; if any row is bad nothing changes and `issues` names the row (1-based; for NDJSON the line number) and field. Consents must name a customer that exists or is imported in the same batch. Besides ImportRow, a row `{ "type": "tombstone", "entity": "customer", "id": "..." }` removes a customer from sync (its consent records are retained).',
      security,
      middleware: [requireRole('admin')] as const,
      request: {
        body: {
          content: {
            'application/json': { schema: z.array(ServerImportRowSchema) },
            'application/x-ndjson': { schema: z.string().describe('One import row (JSON) per line.') },
          },
        },
      },
      responses: {
        200: { description: 'Imported (customers and consents written).', content: { 'application/json': { schema: ImportResponse } } },
        400: E[400],
        401: E[401],
        403: E[403],
      },
    }),
    async (c) => {
      const contentType = c.req.header('content-type') ?? '';
      let rows: NumberedImportRow[];
      if (isNdjson(contentType)) {
        const parsed = parseImportBody(contentType, await c.req.text());
        if (!parsed.ok) return c.json(err('invalid_import', parsed.message, parsed.issues), 400);
        rows = parsed.rows;
      } else {
        // Already validated against z.array(ServerImportRowSchema) (failures: the hook below).
        rows = (c.req.valid('json') as ServerImportRow[]).map((value, i) => ({ row: i + 1, value }));
        if (!rows.length) return c.json(err('invalid_import', 'The import is empty.', [{ path: '', message: 'no rows' }]), 400);
      }
      const outcome = await db.importRows(rows, now());
      if (!outcome.ok) {
        const rowsBad = new Set(outcome.issues.map((i) => i.row)).size;
        return c.json(err('invalid_import', `${rowsBad} row(s) were refused; nothing was imported.`, outcome.issues.slice(0, MAX_ISSUES)), 400);
      }
      return c.json({ customers: outcome.customers, consents: outcome.consents }, 200);
    },
    // A JSON body that fails validation is re-read row by row, so issues name the row and field.
    (result, c) => {
      if (result.success) return;
      return (async () => {
        const parsed = parseImportBody(c.req.header('content-type') ?? 'application/json', await c.req.text());
        if (!parsed.ok) return c.json(err('invalid_import', parsed.message, parsed.issues), 400);
        const issues = result.error.issues.slice(0, MAX_ISSUES).map((i) =>
          typeof i.path[0] === 'number'
            ? { row: i.path[0] + 1, path: issuePath(i.path.slice(1)), message: i.message }
            : { path: issuePath(i.path), message: i.message },
        );
        return c.json(err('invalid_import', 'The import failed validation; nothing was imported.', issues), 400);
      })();
    },
  );

  // ---- consents (retention) ----
  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/consents/{id}',
      tags: ['admin'],
      summary: 'Delete a consent record (admin), only after its retention period',
      description: 'Consent records are kept at least 1 year after their last change (RETENTION); an earlier delete is refused with 409.',
      security,
      middleware: [requireRole('admin')] as const,
      request: { params: z.object({ id: z.string().min(1).max(64) }) },
      responses: {
        200: { description: 'Deleted; sync carries a tombstone.', content: { 'application/json': { schema: z.object({ deleted: z.literal(true), version: z.number().int() }) } } },
        401: E[401],
        403: E[403],
        404: jsonError('No such consent.'),
        409: jsonError('The consent is still within its retention period.'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const r = await db.deleteConsent(id, now());
      if (r.ok) return c.json({ deleted: true as const, version: r.version }, 200);
      if (r.reason === 'not_found') return c.json(err('not_found', `No consent ${id}.`), 404);
      return c.json(
        err('retention', `Consent ${id} must be kept until ${r.keepUntil} (approval records are retained at least 1 year, 47 C.F.R. 64.2009(c)); nothing was deleted.`),
        409,
      );
    },
  );

  // ---- policy ----
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/policy',
      tags: ['policy'],
      summary: 'The policy settings',
      security,
      middleware: [anyRole] as const,
      responses: {
        200: { description: 'Current settings.', content: { 'application/json': { schema: PolicySettings } } },
        401: E[401],
      },
    }),
    async (c) => c.json((await db.getPolicy()).settings, 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/policy',
      tags: ['policy'],
      summary: 'Replace the policy settings (admin); synced to every extension',
      security,
      middleware: [requireRole('admin')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: PolicySettings } } } },
      responses: {
        200: { description: 'Saved.', content: { 'application/json': { schema: PolicySettings } } },
        400: E[400],
        401: E[401],
        403: E[403],
      },
    }),
    async (c) => {
      const settings = c.req.valid('json');
      return c.json((await db.putPolicy(settings, now(), c.get('user').email)).settings, 200);
    },
  );

  registerCampaignRoutes(app, { db, now, requireRole });
  registerCallRoutes(app, { db, now, requireRole });
  registerAdapterRoutes(app, { db, now, requireRole });

  app.doc('/api/openapi.json', {
    openapi: '3.0.0',
    info: {
      title: 'CPNI Guard backend',
      version: SERVER_VERSION,
      description: 'Sync, audit and administration API behind the CPNI Guard extension (47 C.F.R. 64.2001-64.2011).',
    },
  });

  return app;
}

export type App = ReturnType<typeof createApp>;
