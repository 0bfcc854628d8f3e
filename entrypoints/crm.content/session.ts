// The record on screen, as plain data the guard can decide from synchronously: identifiers,
// snapshot, user, policy. A change of record clears the snapshot at once (state unknown,
// 'loading'), so a click can never be decided with the previous customer's status; a reply
// that arrives after the rep moved on is dropped.
import { recordKey, sameIdentifiers } from '@/lib/adapter';
import { DEFAULT_POLICY, type PolicySettings, type User } from '@/lib/schemas';
import type { RecordIdentifiers, Snapshot } from '@/lib/snapshot';
import { sendContextGet, sendRecordClose, sendRecordOpen, type Send } from './messaging';

export interface GuardState {
  identifiers: RecordIdentifiers | null;
  snapshot: Snapshot;
  user: User | null;
  policy: PolicySettings;
}

export const loadingSnapshot = (): Snapshot => ({ state: 'unknown', why: 'loading', syncedAt: null });
const noRecordSnapshot = (): Snapshot => ({ state: 'unknown', why: 'not_found', syncedAt: null });

export class RecordSession {
  private generation = 0;
  private key: string | null = null;
  private destroyed = false;
  private state: GuardState = {
    identifiers: null,
    snapshot: noRecordSnapshot(),
    user: null,
    policy: DEFAULT_POLICY,
  };

  constructor(
    private readonly send: Send,
    private readonly log: Pick<Console, 'warn'> = console,
  ) {}

  /** What the guard decides from. Synchronous, never waits. */
  current(): Readonly<GuardState> {
    return this.state;
  }

  /** Feed every read of the page here; it is cheap when nothing changed. */
  update(ids: RecordIdentifiers | null): void {
    if (this.destroyed) return;
    const key = recordKey(ids);
    if (key !== this.key) {
      const hadRecord = this.key !== null;
      this.key = key;
      this.generation++;
      this.state = {
        ...this.state,
        identifiers: ids,
        snapshot: ids && key ? loadingSnapshot() : noRecordSnapshot(),
      };
      if (ids && key) this.open(ids);
      else if (hadRecord) this.close();
      return;
    }
    if (ids && key && !sameIdentifiers(ids, this.state.identifiers)) {
      // Same customer, more identifiers on screen now (the CRM finished rendering): ask
      // again with all of them, keeping what we know meanwhile.
      this.state = { ...this.state, identifiers: ids };
      this.generation++;
      this.open(ids);
    }
  }

  /**
   * Ask again for the record on screen (the rep comes back from the panel, or the background
   * says the cache changed). With `invalidate` the old status is forgotten at once, so nothing
   * is decided on data the extension no longer holds (sign-out).
   */
  refresh(invalidate = false): void {
    if (this.destroyed) return;
    this.generation++;
    if (invalidate) {
      this.state = { ...this.state, user: null, snapshot: this.key ? loadingSnapshot() : noRecordSnapshot() };
    }
    if (this.key && this.state.identifiers) this.open(this.state.identifiers);
    else this.loadContext();
  }

  /** With no record open, still learn who is signed in and the policy (list-page exports). */
  loadContext(): void {
    if (this.destroyed) return;
    const generation = this.generation;
    sendContextGet(this.send).then(
      (reply) => {
        if (generation !== this.generation || !reply.ok) return;
        this.state = { ...this.state, user: reply.data.user, policy: reply.data.policy };
      },
      (err: unknown) => this.log.warn('CPNI Guard: context.get got no valid reply:', err),
    );
  }

  destroy(): void {
    if (this.destroyed) return;
    const hadRecord = this.key !== null;
    this.destroyed = true;
    this.generation++;
    this.key = null;
    this.state = { ...this.state, identifiers: null, snapshot: noRecordSnapshot() };
    if (hadRecord) this.close();
  }

  private open(identifiers: RecordIdentifiers): void {
    const generation = this.generation;
    sendRecordOpen(this.send, { type: 'record.open', identifiers }).then(
      (reply) => {
        if (generation !== this.generation) return; // the rep moved on
        if (reply.ok) {
          const { snapshot, user, policy } = reply.data;
          this.state = { ...this.state, snapshot, user, policy };
        } else {
          this.state = { ...this.state, snapshot: { state: 'unknown', why: 'not_synced', syncedAt: null } };
          this.log.warn('CPNI Guard: record.open failed:', reply.error);
        }
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        // No answer (background asleep or the extension updated): stay unknown, fail closed.
        this.state = { ...this.state, snapshot: { state: 'unknown', why: 'not_synced', syncedAt: null } };
        this.log.warn('CPNI Guard: record.open got no valid reply:', err);
      },
    );
  }

  private close(): void {
    sendRecordClose(this.send).catch((err: unknown) => this.log.warn('CPNI Guard: record.close failed:', err));
  }
}
