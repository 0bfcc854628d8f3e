// Admin-defined CRM adapters on the backend: an admin PUTs or DELETEs a document, every role
// may read them, and each write goes into the change feed (entity "adapter"), so every
// extension receives it on its next sync. A document is checked with the same schema the
// extension uses (lib/adapter-config.ts, its Node-safe selector check); a refused one changes
// nothing and the adapters already in force stay as they are.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { validateAdapterConfig } from '../../lib/adapter-config';
import { ALL_ROLES, IdParam, apiError, bearerSecurity, errorResponses, json, type Env, type RouteDeps } from './common';

export type AdapterRouteDeps = RouteDeps;

const E = errorResponses({
  400: 'The document failed validation; `issues` names each field (path) and why.',
  404: 'No such adapter.',
});
const security = bearerSecurity;
const err = apiError;

const AdapterDocumentBody = z
  .looseObject({ schemaVersion: z.number(), id: z.string() })
  .openapi('AdapterDocument', {
    description:
      'An admin-defined CRM adapter (README "Describing a new CRM (admin)"): schemaVersion, id, name, matches, excludeMatches, record, identifiers, actions, panel.',
  });
const StoredAdapter = z.object({ id: z.string(), version: z.number().int(), updatedAt: z.string(), document: z.unknown() });
const AdapterList = z.object({ adapters: z.array(StoredAdapter) });


export function registerAdapterRoutes(app: OpenAPIHono<Env>, { db, now, requireRole }: AdapterRouteDeps) {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/adapters',
      tags: ['admin'],
      summary: 'The admin-defined CRM adapters in force (every role; the extension also gets them by sync)',
      security,
      middleware: [requireRole(...ALL_ROLES)] as const,
      responses: { 200: json('Every stored adapter document.', AdapterList), 401: E[401] },
    }),
    async (c) => c.json({ adapters: await db.listAdapters() }, 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/adapters/{id}',
      tags: ['admin'],
      summary: 'Add or replace an admin-defined CRM adapter (admin); synced to every extension',
      description:
        'The body is the adapter document; its `id` must equal the path id. A document that fails validation (a selector that does not parse, a regex that does not compile or could run forever, a match pattern for every site) is refused with 400 and nothing changes.',
      security,
      middleware: [requireRole('admin')] as const,
      request: { params: IdParam, body: { required: true, content: { 'application/json': { schema: AdapterDocumentBody } } } },
      responses: {
        200: json('Saved; the version every extension will receive.', StoredAdapter),
        400: E[400],
        401: E[401],
        403: E[403],
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const r = validateAdapterConfig(c.req.valid('json'));
      if (!r.ok) {
        const issues = r.issues.map((i) => ({ path: i.path, message: i.message }));
        return c.json(err('invalid_adapter', `The adapter document was refused (${issues.length} problem${issues.length === 1 ? '' : 's'}); nothing changed. First: ${issues[0]!.path || '(document)'}: ${issues[0]!.message}`, issues), 400);
      }
      if (r.config.id !== id) {
        return c.json(err('invalid_adapter', `The document's id "${r.config.id}" is not the id in the path "${id}"; nothing changed.`, [{ path: 'id', message: `must be "${id}"` }]), 400);
      }
      const at = now();
      const version = await db.putAdapter(id, r.config, at);
      return c.json({ id, version, updatedAt: at.toISOString(), document: r.config }, 200);
    },
    (result, c) => {
      if (result.success) return;
      const r = validateAdapterConfig((result as { data?: unknown }).data);
      const issues = r.ok ? result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) : r.issues.map((i) => ({ path: i.path, message: i.message }));
      return c.json(err('invalid_adapter', 'The adapter document was refused; nothing changed.', issues), 400);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api/adapters/{id}',
      tags: ['admin'],
      summary: 'Remove an admin-defined CRM adapter (admin); extensions drop it on their next sync',
      security,
      middleware: [requireRole('admin')] as const,
      request: { params: IdParam },
      responses: {
        200: json('Deleted; sync carries a tombstone.', z.object({ deleted: z.literal(true), version: z.number().int() })),
        401: E[401],
        403: E[403],
        404: E[404],
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const version = await db.deleteAdapter(id, now());
      if (version === null) return c.json(err('not_found', `No adapter ${id}.`), 404);
      return c.json({ deleted: true as const, version }, 200);
    },
  );
}
