// The rep's call on the backend: password verification (slow salted hash, attempts limited per
// customer and per rep, lock and manager unlock), the versioned CPNI notice, consent captures
// (idempotent by consent id; they sync to every extension), mailing requests to the address of
// record, and account-change notices. Rules and shapes are in lib/calls.ts; every attempt and
// every write is an audit event stored here with a server-made UUIDv7 whose actor is the
// signed-in user. Neither the password nor its hash ever leaves this file.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { uuidv7 } from 'uuidv7';
import {
  AccountChangeCreate,
  AccountChangeNotice,
  AccountChangeNoticeList,
  CaptureBatch,
  CaptureBatchResponse,
  CpniNotice,
  MailingRequest,
  MailingRequestCreate,
  PasswordLockList,
  REP_PASSWORD_FAILURES_MAX,
  REP_PASSWORD_WINDOW_MS,
  VerifyPasswordRequest,
  VerifyPasswordResponse,
  ACCOUNT_FIELD_LABELS,
  accountChangeNoticeText,
  addressAgeDays,
  captureProblem,
  noticeRecipient,
} from '../../lib/calls';
import { ADDRESS_OF_RECORD_MIN_DAYS } from '../../lib/policy';
import type { ActionKind, AuditEvent, AuditKind, Role, RuleId, User } from '../../lib/schemas';
import { dummyPasswordHash, verifyPassword } from '../crypto';
import { ApiError } from '../../lib/api';
import { IdParam, apiError, bearerSecurity, errorResponses, json, serverAuditEvent, type Env, type RouteDeps } from './common';

export type CallRouteDeps = RouteDeps;

const E = errorResponses({
  404: 'No such customer or record.',
  409: 'Not possible for this customer now (see message).',
});
const security = bearerSecurity;
const CustomerParam = IdParam;
const err = (error: string, message: string) => apiError(error, message);

/** Who works calls; managers and admins too (they unlock and may take calls). */
const CALL_ROLES: Role[] = ['rep', 'manager', 'admin'];
const UNLOCK_ROLES: Role[] = ['manager', 'admin'];
const NOTICE_READ_ROLES: Role[] = ['manager', 'counsel', 'admin'];
const NOTICE_WRITE_ROLES: Role[] = ['manager', 'admin'];

function auditEvent(
  user: User,
  now: Date,
  kind: AuditKind,
  action: ActionKind | null,
  customerId: string | null,
  ruleIds: RuleId[],
  reason: string,
  details: AuditEvent['details'],
): AuditEvent {
  return serverAuditEvent(user, now, { kind, action, customerId, ruleIds, reasons: [reason], details });
}

export function registerCallRoutes(app: OpenAPIHono<Env>, { db, now, requireRole }: CallRouteDeps): void {
  // ---- caller verification: password ----
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/customers/{id}/verify-password',
      tags: ['calls'],
      summary: 'Check the password the caller gave (policy §3A; 64.2010(b)); every attempt is audited',
      description:
        'Compared with the customer\'s scrypt hash. Consecutive failures lock the password at the policy\'s passwordMaxAttempts until a manager unlocks it; one rep may fail at most ' +
        `${REP_PASSWORD_FAILURES_MAX} checks per ${REP_PASSWORD_WINDOW_MS / 60_000} minutes across customers (429). A locked password is not checked at all.`,
      security,
      middleware: [requireRole(...CALL_ROLES)] as const,
      request: { params: CustomerParam, body: { required: true, content: { 'application/json': { schema: VerifyPasswordRequest } } } },
      responses: {
        200: json('The outcome (verified or not, tries left, locked).', VerifyPasswordResponse),
        400: E[400],
        401: E[401],
        403: E[403],
        404: E[404],
        409: json('No password is established on this account.', ApiError),
        429: json('This rep made too many failed checks recently.', ApiError),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { password, callId } = c.req.valid('json');
      const user = c.get('user');
      const customer = await db.getCustomer(id);
      if (!customer) return c.json(err('not_found', `No customer ${id}.`), 404);
      const hash = await db.getCustomerPasswordHash(id);
      if (!hash) {
        await verifyPassword(password, await dummyPasswordHash()); // same cost as a real check
        return c.json(err('no_password', `No password is established on ${customer.name}'s account; use another way to verify the caller.`), 409);
      }
      const max = (await db.getPolicy()).settings.passwordMaxAttempts;
      const t = now();
      const record = (result: 'verified' | 'wrong' | 'locked' | 'rep_limited', text: string) =>
        db.calls.recordAttempt({ id: uuidv7(), customerId: id, actor: user.email, callId, now: t, result, max }, (after) =>
          auditEvent(user, t, 'verification.attempted', 'disclose.call_detail', id, ['CALL_DETAIL_AUTH'], text, {
            method: 'password',
            result,
            callId,
            failures: after.failures,
            attemptsLeft: Math.max(0, max - after.failures),
            locked: after.locked,
          }),
        );

      if (db.calls.repFailuresSince(user.email, t.getTime() - REP_PASSWORD_WINDOW_MS) >= REP_PASSWORD_FAILURES_MAX) {
        record('rep_limited', `Password check refused: ${user.email} failed ${REP_PASSWORD_FAILURES_MAX} checks in ${REP_PASSWORD_WINDOW_MS / 60_000} minutes`);
        return c.json(err('rate_limited', `Too many failed password checks by you in the last ${REP_PASSWORD_WINDOW_MS / 60_000} minutes; ask a manager.`), 429);
      }
      if (db.calls.passwordState(id).lockedAt !== null) {
        record('locked', 'Password check refused: the account password is locked after too many wrong answers');
        return c.json({ verified: false, attemptsLeft: 0, locked: true }, 200);
      }
      const ok = await verifyPassword(password, hash);
      if (ok) {
        record('verified', 'Caller gave the correct account password');
        return c.json({ verified: true, attemptsLeft: max, locked: false }, 200);
      }
      const after = record('wrong', 'Caller gave a wrong account password');
      return c.json({ verified: false, attemptsLeft: Math.max(0, max - after.failures), locked: after.locked }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/customers/{id}/password-unlock',
      tags: ['calls'],
      summary: 'Unlock a locked account password (manager, admin)',
      security,
      middleware: [requireRole(...UNLOCK_ROLES)] as const,
      request: { params: CustomerParam },
      responses: {
        200: json('Unlocked.', z.object({ unlocked: z.literal(true) })),
        401: E[401],
        403: E[403],
        404: E[404],
        409: json('The password is not locked.', ApiError),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const user = c.get('user');
      if (!(await db.getCustomer(id))) return c.json(err('not_found', `No customer ${id}.`), 404);
      const t = now();
      const ok = db.calls.unlock(
        id,
        t,
        auditEvent(user, t, 'verification.attempted', null, id, ['CALL_DETAIL_AUTH'], `Account password unlocked by ${user.email}`, {
          method: 'password',
          result: 'unlocked',
        }),
      );
      if (!ok) return c.json(err('not_locked', `The password of ${id} is not locked.`), 409);
      return c.json({ unlocked: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/password-locks',
      tags: ['calls'],
      summary: 'Locked account passwords (manager, counsel, admin)',
      security,
      middleware: [requireRole(...NOTICE_READ_ROLES)] as const,
      responses: { 200: json('Locked passwords, oldest first.', PasswordLockList), 401: E[401], 403: E[403] },
    }),
    (c) => c.json({ locks: db.calls.listLocks() }, 200),
  );

  // ---- caller verification: send to the address of record ----
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/customers/{id}/mailing-requests',
      tags: ['calls'],
      summary: 'Mail call detail to the address of record instead of disclosing it on the call',
      description: `Only when the address of record has been on the account at least ${ADDRESS_OF_RECORD_MIN_DAYS} days (64.2010(b)); else 409.`,
      security,
      middleware: [requireRole(...CALL_ROLES)] as const,
      request: { params: CustomerParam, body: { required: true, content: { 'application/json': { schema: MailingRequestCreate } } } },
      responses: { 201: json('Queued for mailing.', MailingRequest), 400: E[400], 401: E[401], 403: E[403], 404: E[404], 409: E[409] },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const user = c.get('user');
      const customer = await db.getCustomer(id);
      if (!customer) return c.json(err('not_found', `No customer ${id}.`), 404);
      const t = now();
      const age = addressAgeDays(customer, t);
      if (age === null || age < ADDRESS_OF_RECORD_MIN_DAYS) {
        const why = age === null ? 'there is no address of record' : `the address of record changed ${age} days ago (it must be on the account ${ADDRESS_OF_RECORD_MIN_DAYS} days)`;
        return c.json(err('address_too_recent', `Call detail cannot be mailed: ${why}.`), 409);
      }
      const m: MailingRequest = {
        id: uuidv7(),
        customerId: id,
        callId: body.callId,
        what: 'call_detail',
        addressLines: customer.addressOfRecord!.lines,
        requestedBy: user.email,
        requestedAt: t.toISOString(),
      };
      db.calls.createMailingRequest(
        m,
        auditEvent(user, t, 'verification.attempted', 'disclose.call_detail', id, ['CALL_DETAIL_AUTH'], 'Call detail to be mailed to the address of record', {
          method: 'address_of_record',
          result: 'mailing_requested',
          callId: body.callId,
          mailingRequestId: m.id,
          addressAgeDays: age,
        }),
      );
      return c.json(m, 201);
    },
  );

  // ---- CPNI notices ----
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/notices/current',
      tags: ['calls'],
      summary: 'The CPNI notice in force (64.2008(c)), with its version',
      security,
      middleware: [requireRole('rep', 'marketing', 'manager', 'counsel', 'admin')] as const,
      responses: { 200: json('The current notice.', CpniNotice), 401: E[401] },
    }),
    (c) => c.json(db.calls.currentNotice(), 200),
  );

  // ---- consent captures ----
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/consents/captures',
      tags: ['calls'],
      summary: 'Deliver consents captured by reps (idempotent by consent id); they sync to every extension',
      description:
        'Each capture is a new consent record, kept (RETENTION: never deleted within a year). capturedBy must be the signed-in user and noticeVersion a notice this backend keeps, else the whole batch is refused and nothing is stored. An id already stored is acknowledged as a duplicate.',
      security,
      middleware: [requireRole(...CALL_ROLES)] as const,
      request: { body: { required: true, content: { 'application/json': { schema: CaptureBatch } } } },
      responses: { 200: json('Stored (accepted) or already stored (duplicates).', CaptureBatchResponse), 400: E[400], 401: E[401], 403: E[403] },
    }),
    async (c) => {
      const { consents } = c.req.valid('json');
      const user = c.get('user');
      for (const [i, k] of consents.entries()) {
        if (k.capturedBy !== user.email) {
          return c.json(err('forbidden', `consents[${i}].capturedBy ${k.capturedBy} is not the signed-in user ${user.email}; nothing was stored.`), 403);
        }
        if (!k.noticeVersion || !db.calls.notice(k.noticeVersion)) {
          return c.json(err('invalid_body', `consents[${i}].noticeVersion ${k.noticeVersion} is not a CPNI notice this backend keeps; nothing was stored.`), 400);
        }
        if (!k.method || !k.capturedAt || !['opt_in', 'denied', 'revoked'].includes(k.state)) {
          return c.json(err('invalid_body', `consents[${i}] is not a capture (state opt_in/denied/revoked, method and capturedAt needed).`), 400);
        }
        const problem = captureProblem(
          { customerId: k.customerId, purpose: k.purpose, state: k.state as 'opt_in', method: k.method, scope: k.scope, noticeVersion: k.noticeVersion, evidence: k.evidence },
          k.scope === 'call' && k.callId ? { id: k.callId, customerId: k.customerId, direction: 'inbound', startedAt: k.capturedAt, endedAt: null } : null,
        );
        if (problem) return c.json(err('invalid_body', `consents[${i}]: ${problem}`), 400);
      }
      const out = db.calls.insertCaptures(consents, now());
      if (out.refused.length) {
        return c.json(err('invalid_body', `${out.refused.map((r) => `${r.id}: ${r.message}`).join('; ')}; the other captures were stored.`), 400);
      }
      return c.json({ accepted: out.accepted, duplicates: out.duplicates }, 200);
    },
  );

  // ---- account-change notices ----
  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/customers/{id}/account-changes',
      tags: ['calls'],
      summary: 'An account change happened: create its notice now (policy §10; 64.2010(f)); idempotent by id',
      description:
        'The notice is addressed to the number or address of record as this backend knows it before the change, and never carries the new value. A changed address of record restarts its 30-day clock (64.2010(b)).',
      security,
      middleware: [requireRole(...CALL_ROLES)] as const,
      request: { params: CustomerParam, body: { required: true, content: { 'application/json': { schema: AccountChangeCreate } } } },
      responses: {
        200: json('Already recorded (the stored notice).', AccountChangeNotice),
        201: json('Notice created.', AccountChangeNotice),
        400: E[400],
        401: E[401],
        403: E[403],
        404: E[404],
        409: json('No number or address of record to send the notice to, or the id belongs to another customer.', ApiError),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const user = c.get('user');
      const existing = db.calls.getChange(body.id);
      if (existing) {
        if (existing.customerId !== id) return c.json(err('conflict', `Account change ${body.id} belongs to another customer.`), 409);
        return c.json(existing, 200);
      }
      const customer = await db.getCustomer(id);
      if (!customer) return c.json(err('not_found', `No customer ${id}.`), 404);
      const to = noticeRecipient(customer, body.field);
      if (!to) return c.json(err('no_recipient', `${customer.name} has no number or address of record; the notice cannot be sent.`), 409);
      const t = now();
      const notice: AccountChangeNotice = {
        id: body.id,
        customerId: id,
        field: body.field,
        channel: to.channel,
        addressedTo: to.to,
        text: accountChangeNoticeText(customer.name, body.field, body.changedAt),
        source: body.source,
        changedAt: body.changedAt,
        createdAt: t.toISOString(),
        createdBy: user.email,
        sentAt: null,
        sentBy: null,
      };
      const { notice: saved, created } = db.calls.createChange(
        notice,
        auditEvent(user, t, 'account.change_notice', 'account.change', id, ['ACCOUNT_CHANGE_NOTICE'], `Notice of a ${ACCOUNT_FIELD_LABELS[body.field]} change created (${to.channel}, to the record before the change)`, {
          field: body.field,
          channel: to.channel,
          source: body.source,
          noticeId: body.id,
          callId: body.callId,
        }),
      );
      return c.json(saved, created ? 201 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/account-change-notices',
      tags: ['calls'],
      summary: 'Account-change notices (manager, counsel, admin): unsent ones oldest first by default',
      security,
      middleware: [requireRole(...NOTICE_READ_ROLES)] as const,
      request: { query: z.object({ unsent: z.enum(['true', 'false']).default('true') }) },
      responses: { 200: json('Notices.', AccountChangeNoticeList), 400: E[400], 401: E[401], 403: E[403] },
    }),
    (c) => c.json({ notices: db.calls.listChanges(c.req.valid('query').unsent === 'true') }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/account-change-notices/{id}/sent',
      tags: ['calls'],
      summary: 'Mark an account-change notice sent (manager, admin)',
      security,
      middleware: [requireRole(...NOTICE_WRITE_ROLES)] as const,
      request: { params: z.object({ id: z.string().min(1).max(64) }) },
      responses: { 200: json('Marked sent.', AccountChangeNotice), 401: E[401], 403: E[403], 404: E[404] },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const user = c.get('user');
      const t = now();
      const n = db.calls.markChangeSent(
        id,
        user.email,
        t,
        auditEvent(user, t, 'account.change_notice', 'account.change', null, ['ACCOUNT_CHANGE_NOTICE'], 'Account-change notice marked sent', { noticeId: id, result: 'sent' }),
      );
      if (!n) return c.json(err('not_found', `No account-change notice ${id}.`), 404);
      return c.json(n, 200);
    },
  );
}
