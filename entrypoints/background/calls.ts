// Background handlers for the rep's call (lib/calls.ts): the open call per customer, caller
// verification, consent captures and account changes. Calls are stored per customer in the
// GuardStore's kv table (`call:<customerId>`), so a stopped service worker keeps them; lookup()
// adds them to the snapshot. Captures and account changes wait in a small queue in the same
// table (`callq:<id>`), are delivered at least once with a client-made id (the backend is
// idempotent by it), and show in the panel as pending until the backend acknowledges them.
import type { z } from 'zod';
import { uuidv7 } from 'uuidv7';
import {
  AccountChangeCreate,
  AccountChangeNotice,
  AccountChangeNoticeList,
  CaptureBatchResponse,
  CpniNotice,
  MailingRequest,
  PasswordLockList,
  StoredCall,
  VerifyPasswordResponse,
  captureProblem,
  captureToConsent,
  closeIfIdle,
  effectiveCall,
  endCall,
  isCallLive,
  liveVerification,
  startCall,
  touchCall,
  verificationOption,
  type AccountField,
} from '@/lib/calls';
import type { CallPageMessage, CallPanelInfo, CaptureStatus, ChangeStatus } from '@/lib/messages-calls';
import type { GuardEvent } from '@/lib/messages';
import {
  Consent,
  type Call,
  type CallerVerification,
  type Customer,
  type PolicySettings,
  type RuleId,
  type VerificationMethod,
} from '@/lib/schemas';
import { z as zod } from 'zod';
import { createSessionCall, toReply, type Fetch } from './backend';
import type { Outbox } from './outbox';
import type { Reply } from './router';
import type { GuardStore, Session } from './store';

export const CALL_QUEUE_BACKOFF_MS = 10_000;
const RECORDED_KEEP_MS = 24 * 3600_000;

const QueueBase = {
  id: zod.string(),
  customerId: zod.string(),
  status: zod.enum(['pending', 'recorded', 'refused']),
  error: zod.string().nullable(),
  attempts: zod.number().int().nonnegative(),
  nextAttemptAt: zod.number(),
  doneAt: zod.number().nullable(),
};
const QueueItem = zod.discriminatedUnion('kind', [
  zod.object({ kind: zod.literal('capture'), ...QueueBase, consent: Consent }),
  zod.object({ kind: zod.literal('change'), ...QueueBase, body: AccountChangeCreate, notice: AccountChangeNotice.nullable() }),
]);
type QueueItem = z.infer<typeof QueueItem>;
type CaptureItem = Extract<QueueItem, { kind: 'capture' }>;
type ChangeItem = Extract<QueueItem, { kind: 'change' }>;
const isCapture = (q: QueueItem): q is CaptureItem => q.kind === 'capture';
const isChange = (q: QueueItem): q is ChangeItem => q.kind === 'change';

const callKey = (customerId: string) => `call:${customerId}`;
const mailKey = (customerId: string) => `callmail:${customerId}`;
const QUEUE_PREFIX = 'callq:';
const NOTICE_KEY = 'notice:current';

export interface CallDeps {
  store: GuardStore;
  fetch: Fetch;
  now: () => Date;
  session: () => Promise<Session | null>;
  activeSession: () => Promise<Session | null>;
  markExpired: () => Promise<void>;
  policy: () => Promise<PolicySettings>;
  outbox: Outbox;
  /** The customer as the record on screen shows it (the panel only acts on an open record). */
  customer: (customerId: string) => Promise<Customer | null>;
  /** A call, verification or capture changed: look records up again; tell panels and guards. */
  changed: () => Promise<void> | void;
  /** Start a sync (not awaited). */
  syncSoon: () => void;
  timeoutMs?: number;
}

export function createCallHandlers(deps: CallDeps) {
  const { store, now } = deps;

  // ---- kv helpers ----
  async function getCall(customerId: string): Promise<StoredCall | null> {
    const row = await store.kv.get(callKey(customerId));
    const p = row ? StoredCall.safeParse(row.value) : null;
    return p?.success ? p.data : null;
  }
  const putCall = (s: StoredCall) => store.kv.put({ key: callKey(s.call.customerId), value: s });

  async function queue(customerId?: string): Promise<QueueItem[]> {
    const rows = await store.kv.where('key').startsWith(QUEUE_PREFIX).toArray();
    const items: QueueItem[] = [];
    for (const r of rows) {
      const p = QueueItem.safeParse(r.value);
      if (p.success && (!customerId || p.data.customerId === customerId)) items.push(p.data);
    }
    return items;
  }
  const putItem = (q: QueueItem) => store.kv.put({ key: QUEUE_PREFIX + q.id, value: q });

  // ---- HTTP ----
  const http = createSessionCall(deps);
  const enc = encodeURIComponent;

  // ---- the snapshot's call part ----
  /** The call, verification and not-yet-synced captures of this customer, for lookup(). */
  async function snapshotPart(
    customerId: string,
    cachedConsents: readonly Consent[],
  ): Promise<{ call: Call | null; verification: CallerVerification | null; consents: Consent[] }> {
    const [stored, policy, items] = await Promise.all([getCall(customerId), deps.policy(), queue(customerId)]);
    const have = new Set(cachedConsents.map((c) => c.id));
    // A capture counts from the moment it is stored here (written before the panel says so);
    // one the backend refused does not count.
    const extra = items
      .filter((q): q is Extract<QueueItem, { kind: 'capture' }> => q.kind === 'capture' && q.status !== 'refused' && !have.has(q.id))
      .map((q) => q.consent);
    const call = effectiveCall(stored, policy);
    const v = stored?.verification ?? null;
    return { call, verification: v && stored && v.callId === stored.call.id ? v : null, consents: [...cachedConsents, ...extra] };
  }

  async function panelInfo(customerId: string): Promise<CallPanelInfo> {
    const [stored, policy, items, mailRow] = await Promise.all([getCall(customerId), deps.policy(), queue(customerId), store.kv.get(mailKey(customerId))]);
    const live = isCallLive(stored, policy, now());
    const mail = mailRow ? MailingRequest.safeParse(mailRow.value) : null;
    const byNewest = (a: QueueItem, b: QueueItem) => (a.id < b.id ? 1 : -1);
    return {
      password: live ? (stored?.password ?? null) : null,
      captures: items.filter(isCapture).sort(byNewest).slice(0, 10).map(captureStatus),
      changes: items.filter(isChange).sort(byNewest).slice(0, 10).map(changeStatus),
      mailing: live && mail?.success && mail.data.callId === stored?.call.id ? mail.data : null,
    };
  }

  // ---- the call ----
  /** The live call of this customer with its idle clock restarted, or an error reply. */
  async function liveCall(customerId: string): Promise<{ ok: true; s: StoredCall; policy: PolicySettings } | { ok: false; error: string }> {
    const [stored, policy] = await Promise.all([getCall(customerId), deps.policy()]);
    const t = now();
    if (!stored || !isCallLive(stored, policy, t)) {
      if (stored) await putCall(closeIfIdle(stored, policy, t));
      return { ok: false, error: 'No call is open with this customer: start the call first.' };
    }
    return { ok: true, s: touchCall(stored, policy, t), policy };
  }

  async function verified(s: StoredCall, method: VerificationMethod): Promise<StoredCall> {
    const session = await deps.session();
    const v: CallerVerification = {
      customerId: s.call.customerId,
      callId: s.call.id,
      method,
      verifiedAt: now().toISOString(),
      verifiedBy: session?.user.email ?? 'unknown',
    };
    const next = { ...s, verification: v };
    await putCall(next);
    return next;
  }

  async function auditVerification(customerId: string, callId: string, method: VerificationMethod, text: string, details: Record<string, string>) {
    const ruleIds: RuleId[] = method === 'business_contract' ? ['CALL_DETAIL_AUTH', 'BUSINESS_EXEMPTION'] : ['CALL_DETAIL_AUTH'];
    await deps.outbox.record({
      kind: 'verification.attempted',
      action: 'disclose.call_detail',
      customerId,
      ruleIds,
      reasons: [text],
      details: { method, result: 'verified', callId, ...details },
    });
  }

  async function verifyOption(customerId: string, method: VerificationMethod) {
    const customer = await deps.customer(customerId);
    if (!customer) return { ok: false as const, error: 'Open the customer’s record first.' };
    const option = verificationOption(customer, method, now());
    if (!option.available) return { ok: false as const, error: option.text };
    return { ok: true as const, customer, option };
  }

  // ---- the queue ----
  let flushing: Promise<void> | null = null;
  function flush(force = false): Promise<void> {
    flushing ??= flushOnce(force).finally(() => (flushing = null));
    return flushing;
  }

  async function flushOnce(force: boolean): Promise<void> {
    if (!(await deps.activeSession())) return;
    const t = now().getTime();
    const items = await queue();
    // Recorded items stay a day so the panel can show them; then they go (the synced consent
    // and the backend's notice are the records).
    const old = items.filter((q) => q.status !== 'pending' && q.doneAt !== null && q.doneAt < t - RECORDED_KEEP_MS);
    if (old.length) await store.kv.bulkDelete(old.map((q) => QUEUE_PREFIX + q.id));
    const due = items.filter((q) => q.status === 'pending' && (force || q.nextAttemptAt <= t));
    let changedAny = false;
    const retry = async (q: QueueItem, error: string) => {
      const attempts = q.attempts + 1;
      await putItem({ ...q, attempts, error, nextAttemptAt: now().getTime() + Math.min(300_000, CALL_QUEUE_BACKOFF_MS * 2 ** (attempts - 1)) });
    };
    const done = async (q: QueueItem, status: 'recorded' | 'refused', error: string | null, patch: Partial<QueueItem> = {}) => {
      await putItem({ ...q, ...patch, status, error, doneAt: now().getTime() } as QueueItem);
      changedAny = true;
    };

    const captures = due.filter((q): q is Extract<QueueItem, { kind: 'capture' }> => q.kind === 'capture');
    if (captures.length) {
      const r = await http('POST', '/api/consents/captures', CaptureBatchResponse, { consents: captures.map((q) => q.consent) });
      if (r.ok) {
        const acked = new Set([...r.data.accepted, ...r.data.duplicates]);
        for (const q of captures) if (acked.has(q.id)) await done(q, 'recorded', null);
        deps.syncSoon(); // the consent comes back through sync, to this and every extension
      } else if (r.status !== null && r.status !== 401 && r.status < 500) {
        // Refused for good (a bad capture); try them one by one so one bad capture stops only itself.
        for (const q of captures) {
          const one = captures.length === 1 ? r : await http('POST', '/api/consents/captures', CaptureBatchResponse, { consents: [q.consent] });
          if (one.ok) await done(q, 'recorded', null);
          else if (one.status !== null && one.status !== 401 && one.status < 500) await done(q, 'refused', one.error);
          else await retry(q, one.error);
        }
        deps.syncSoon();
      } else {
        for (const q of captures) await retry(q, r.error);
      }
    }

    for (const q of due) {
      if (q.kind !== 'change') continue;
      const r = await http('POST', `/api/customers/${enc(q.customerId)}/account-changes`, AccountChangeNotice, q.body);
      if (r.ok) await done(q, 'recorded', null, { notice: r.data });
      else if (r.status !== null && r.status !== 401 && r.status < 500) await done(q, 'refused', r.error);
      else await retry(q, r.error);
    }
    if (changedAny) await deps.changed();
  }

  async function enqueueChange(customerId: string, field: AccountField, source: 'panel' | 'crm', callId: string | null): Promise<ChangeStatus> {
    const id = uuidv7();
    const item: QueueItem = {
      kind: 'change',
      id,
      customerId,
      status: 'pending',
      error: null,
      attempts: 0,
      nextAttemptAt: 0,
      doneAt: null,
      body: { id, field, source, callId, changedAt: now().toISOString() },
      notice: null,
    };
    await putItem(item);
    void flush().catch(() => undefined);
    return changeStatus(item);
  }

  // ---- messages ----
  async function onPage(msg: CallPageMessage): Promise<Reply> {
    switch (msg.type) {
      case 'call.start': {
        if (!(await deps.activeSession())) return { ok: false, error: 'Sign in to CPNI Guard first.' };
        const [stored, policy] = await Promise.all([getCall(msg.customerId), deps.policy()]);
        const t = now();
        if (stored && isCallLive(stored, policy, t)) await putCall(endCall(stored, policy, t)); // one call per customer
        const s = startCall(uuidv7(), msg.customerId, msg.direction, t);
        await putCall(s);
        await deps.changed();
        return { ok: true, data: s.call };
      }
      case 'call.end': {
        const [stored, policy] = await Promise.all([getCall(msg.customerId), deps.policy()]);
        if (!stored) return { ok: false, error: 'No call to end.' };
        const ended = endCall(stored, policy, now());
        await putCall(ended);
        await deps.changed();
        return { ok: true, data: ended.call };
      }
      case 'verify.password': {
        const live = await liveCall(msg.customerId);
        if (!live.ok) return live;
        const r = await http('POST', `/api/customers/${enc(msg.customerId)}/verify-password`, VerifyPasswordResponse, {
          password: msg.password,
          callId: live.s.call.id,
        });
        if (!r.ok) {
          await putCall(live.s);
          return { ok: false, error: r.status === null ? `${r.error} The password cannot be checked offline; use another way.` : r.error };
        }
        let next: StoredCall = { ...live.s, password: { attemptsLeft: r.data.attemptsLeft, locked: r.data.locked } };
        if (r.data.verified) next = await verified(next, 'password');
        else await putCall(next);
        await deps.changed();
        return { ok: true, data: r.data };
      }
      case 'verify.callback': {
        const live = await liveCall(msg.customerId);
        if (!live.ok) return live;
        const opt = await verifyOption(msg.customerId, 'callback_number_of_record');
        if (!opt.ok) return opt;
        await auditVerification(msg.customerId, live.s.call.id, 'callback_number_of_record', 'Rep called the customer back at the telephone number of record', {});
        const next = await verified(live.s, 'callback_number_of_record');
        await deps.changed();
        return { ok: true, data: next.verification };
      }
      case 'verify.business': {
        const live = await liveCall(msg.customerId);
        if (!live.ok) return live;
        const opt = await verifyOption(msg.customerId, 'business_contract');
        if (!opt.ok) return opt;
        const contract = opt.customer.business!;
        await auditVerification(msg.customerId, live.s.call.id, 'business_contract', `Caller authenticated as the CPNI contract provides (${opt.option.detail})`, {
          contractId: contract.cpniContractId ?? '',
        });
        const next = await verified(live.s, 'business_contract');
        await deps.changed();
        return { ok: true, data: next.verification };
      }
      case 'verify.addressOfRecord': {
        const live = await liveCall(msg.customerId);
        if (!live.ok) return live;
        const opt = await verifyOption(msg.customerId, 'address_of_record');
        if (!opt.ok) {
          await putCall(live.s);
          return opt;
        }
        // The backend checks the 30 days again against its own record and stores the request.
        const r = await http('POST', `/api/customers/${enc(msg.customerId)}/mailing-requests`, MailingRequest, { callId: live.s.call.id, what: 'call_detail' });
        if (!r.ok) {
          await putCall(live.s);
          return { ok: false, error: r.error };
        }
        await store.kv.put({ key: mailKey(msg.customerId), value: r.data });
        await verified(live.s, 'address_of_record');
        await deps.changed();
        return { ok: true, data: r.data };
      }
      case 'notices.current': {
        const r = await http('GET', '/api/notices/current', CpniNotice);
        if (r.ok) {
          await store.kv.put({ key: NOTICE_KEY, value: r.data });
          return { ok: true, data: r.data };
        }
        const cached = await store.kv.get(NOTICE_KEY);
        const p = cached ? CpniNotice.safeParse(cached.value) : null;
        return p?.success ? { ok: true, data: p.data } : { ok: false, error: r.error };
      }
      case 'consent.capture': {
        const session = await deps.activeSession();
        if (!session) return { ok: false, error: 'Sign in to CPNI Guard first.' };
        const input = msg.input;
        const [stored, policy] = await Promise.all([getCall(input.customerId), deps.policy()]);
        const t = now();
        const live = stored && isCallLive(stored, policy, t) ? stored : null;
        const problem = captureProblem(input, live?.call ?? null);
        if (problem) return { ok: false, error: problem };
        const id = uuidv7();
        const consent = captureToConsent(input, { id, by: session.user.email, now: t, callId: live?.call.id ?? null });
        const ruleIds: RuleId[] =
          input.scope === 'call' ? ['ONE_TIME_CONSENT'] : input.purpose === 'third_party' ? ['THIRD_PARTY'] : input.purpose === 'new_carrier' ? ['NEW_CARRIER'] : ['APPROVAL_REQUIRED'];
        // The audit event and the capture are stored before the panel is told (invariant 4).
        await deps.outbox.record({
          kind: 'consent.captured',
          action: null,
          customerId: input.customerId,
          ruleIds,
          reasons: [`${input.state} for ${input.purpose} captured (${input.method}, notice ${input.noticeVersion}${input.scope === 'call' ? ', this call only' : ''})`],
          details: {
            consentId: id,
            purpose: input.purpose,
            state: input.state,
            method: input.method,
            scope: input.scope,
            noticeVersion: input.noticeVersion,
            callId: consent.callId,
          },
        });
        const item: QueueItem = { kind: 'capture', id, customerId: input.customerId, status: 'pending', error: null, attempts: 0, nextAttemptAt: 0, doneAt: null, consent };
        await putItem(item);
        if (live) await putCall(touchCall(live, policy, t));
        await deps.changed();
        void flush().catch(() => undefined);
        return { ok: true, data: captureStatus(item) };
      }
      case 'account.changed': {
        if (!(await deps.activeSession())) return { ok: false, error: 'Sign in to CPNI Guard first.' };
        const [stored, policy] = await Promise.all([getCall(msg.customerId), deps.policy()]);
        const live = stored && isCallLive(stored, policy, now()) ? stored : null;
        const status = await enqueueChange(msg.customerId, msg.field, 'panel', live?.call.id ?? null);
        await deps.changed();
        return { ok: true, data: status };
      }
      case 'passwordLocks.list':
        return toReply(await http('GET', '/api/password-locks', PasswordLockList));
      case 'passwordLocks.unlock':
        return toReply(await http('POST', `/api/customers/${enc(msg.customerId)}/password-unlock`, zod.object({ unlocked: zod.literal(true) })));
      case 'accountNotices.list':
        return toReply(await http('GET', `/api/account-change-notices?unsent=${msg.unsent}`, AccountChangeNoticeList));
      case 'accountNotices.markSent':
        return toReply(await http('POST', `/api/account-change-notices/${enc(msg.id)}/sent`, AccountChangeNotice));
    }
  }

  /** The guard let an account change through in the CRM: its notice goes out now. */
  async function onGuardEvent(msg: GuardEvent): Promise<void> {
    if (msg.action !== 'account.change' || msg.kind !== 'action.allowed' || !msg.customerId) return;
    const field = AccountChangeCreate.shape.field.safeParse(msg.details.accountField);
    if (!field.success) return;
    const [stored, policy] = await Promise.all([getCall(msg.customerId), deps.policy()]);
    const live = stored && isCallLive(stored, policy, now()) ? stored : null;
    await enqueueChange(msg.customerId, field.data, 'crm', live?.call.id ?? null);
    await deps.changed();
  }

  return { snapshotPart, panelInfo, onPage, onGuardEvent, flush, getCall, liveVerification };
}


function captureStatus(q: Extract<QueueItem, { kind: 'capture' }>): CaptureStatus {
  const c = q.consent;
  return {
    id: q.id,
    purpose: c.purpose,
    state: c.state as CaptureStatus['state'],
    method: c.method ?? 'oral',
    scope: c.scope,
    noticeVersion: c.noticeVersion ?? '',
    capturedAt: c.capturedAt ?? c.updatedAt,
    status: q.status,
    error: q.error,
  };
}

function changeStatus(q: Extract<QueueItem, { kind: 'change' }>): ChangeStatus {
  return { id: q.id, field: q.body.field, changedAt: q.body.changedAt, status: q.status, notice: q.notice, error: q.error };
}
