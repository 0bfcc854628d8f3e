// decide(): the policy engine. Pure and synchronous (DESIGN invariant 2).
import type { ActionKind, Decision, PolicySettings } from './schemas';
import type { ActionContextInput, Snapshot } from './snapshot';

export function decide(
  _action: ActionKind,
  _snapshot: Snapshot,
  _context: ActionContextInput,
  _policy: PolicySettings,
  _now: Date,
): Decision {
  throw new Error('not implemented yet');
}
