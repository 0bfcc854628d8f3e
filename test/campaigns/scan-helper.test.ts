// The scan helper's answer (entrypoints/campaigns/protocol.ts): half a million-row scrub's
// verdicts packed into a few arrays and two joined texts, posted across (a structured clone), checked
// and unpacked by the scrub worker into what CustomerCache.decideMany merges.
import { describe, expect, it } from 'vitest';
import type { ScanPart } from '@/entrypoints/background/cache';
import { ScanReply, ScanRequest, packScanPart, unpackScanPart } from '@/entrypoints/campaigns/protocol';
import type { RowVerdict } from '@/lib/campaign';

const optIn: RowVerdict['ruleIds'] = ['APPROVAL_REQUIRED'];
const noApproval: RowVerdict['ruleIds'] = ['APPROVAL_REQUIRED', 'UNKNOWN_STATUS'];
const allowed: RowVerdict = { verdict: 'allowed', ruleIds: optIn, reason: '' };
const blocked: RowVerdict = { verdict: 'blocked', ruleIds: noApproval, reason: 'No approval on record' };

const part: ScanPart<RowVerdict> = {
  generation: 7,
  claims: { keys: Uint32Array.from([0, 3, 4]), ids: ['c1', 'c2', 'c2'], decided: [allowed, blocked, blocked], several: [9] },
  overlaid: [['c2', [3, { k2: 2 }, []]]],
};

/** As the helper posts it and the scrub worker reads it. */
const across = (p: ScanPart<RowVerdict>) => ScanReply.safeParse(structuredClone({ type: 'done', id: 1, part: packScanPart(p) }));

describe('the scan helper answer', () => {
  it('arrives as the helper made it', () => {
    const reply = across(part);
    expect(reply.success).toBe(true);
    if (!reply.success || reply.data.type !== 'done') return;
    expect(unpackScanPart(reply.data.part)).toEqual(part);
  });

  it('arrives with its allowed verdicts shared, one per rule, and its strings whole (none, or past the Basic Multilingual Plane)', () => {
    const twoAllowed: ScanPart<RowVerdict> = {
      generation: 1,
      claims: { keys: Uint32Array.from([0, 1, 2]), ids: ['c1', 'c𝄞2', 'c3'], decided: [allowed, { ...allowed }, { ...blocked, reason: 'Not approved: the carrier’s 𝄞 proof' }], several: [] },
      overlaid: [],
    };
    const reply = across(twoAllowed);
    expect(reply.success).toBe(true);
    if (!reply.success || reply.data.type !== 'done') return;
    const got = unpackScanPart(reply.data.part);
    expect(got).toEqual(twoAllowed);
    expect(got.claims.decided[0]).toBe(got.claims.decided[1]);
    const empty = across({ generation: 1, claims: { keys: new Uint32Array(0), ids: [], decided: [], several: [] }, overlaid: [] });
    expect(empty.success && empty.data.type === 'done' && unpackScanPart(empty.data.part).claims.ids).toEqual([]);
  });

  it('a forged or broken answer is refused with a reason, never merged', () => {
    const packed = packScanPart(part);
    expect(() => unpackScanPart({ ...packed, verdicts: Uint8Array.from([0, 1, 9]) })).toThrow(/verdict it cannot have made/);
    const joined = (list: string[]) => ({ text: list.join(''), ends: Uint32Array.from(list, (_, i) => list.slice(0, i + 1).join('').length) });
    expect(() => unpackScanPart({ ...packed, ids: joined(['c1']) })).toThrow(/ids that do not match its keys/);
    // Ends that run backwards, past the text, or short of it.
    expect(() => unpackScanPart({ ...packed, ids: { text: 'c1c2c2', ends: Uint32Array.from([2, 1, 6]) } })).toThrow(/ids that do not match its keys/);
    expect(() => unpackScanPart({ ...packed, ids: { text: 'c1c2c2', ends: Uint32Array.from([2, 4, 7]) } })).toThrow(/ids that do not match its keys/);
    expect(() => unpackScanPart({ ...packed, reasons: { text: packed.reasons.text + 'x', ends: packed.reasons.ends } })).toThrow(/reasons that do not match/);
    // Only an allowed row has no reason.
    expect(() => unpackScanPart({ ...packed, reasons: joined(['Opt-in approval', 'No approval on record', 'No approval on record']) })).toThrow(/verdict it cannot have made/);
    expect(() => unpackScanPart({ ...packed, reasons: joined(['', '', 'No approval on record']) })).toThrow(/verdict it cannot have made/);
    expect(ScanReply.safeParse({ type: 'done', id: 1, part: { ...packed, ids: JSON.stringify(['c1', 'c2', 'c2']) } }).success).toBe(false);
    expect(ScanReply.safeParse({ type: 'done', id: 1, part: { ...packed, ids: { text: 'c1c2c2', ends: [2, 4, 6] } } }).success).toBe(false);
    expect(ScanReply.safeParse({ type: 'done', id: 1, part: { ...packed, ids: { text: 'c1c2c2', ends: Int32Array.from([2, 4, 6]) } } }).success).toBe(false);
    expect(ScanReply.safeParse({ type: 'done', id: 1, part: { ...packed, verdicts: [0, 1, 1] } }).success).toBe(false);
    expect(ScanReply.safeParse({ type: 'done', id: 1, part: { ...packed, ruleSets: new Uint16Array(1) } }).success).toBe(false);
    expect(ScanReply.safeParse({ type: 'done', id: 1, part: { ...packed, rules: [['NOT_A_RULE']] } }).success).toBe(false);
  });

  it('a request to open the cache ahead of the scan names a cache; a forged one is refused', () => {
    expect(ScanRequest.safeParse({ type: 'open', cacheName: 'cpni-cache' }).success).toBe(true);
    expect(ScanRequest.safeParse({ type: 'open' }).success).toBe(false);
    expect(ScanRequest.safeParse({ type: 'open', cacheName: '' }).success).toBe(false);
    expect(ScanRequest.safeParse({ type: 'open', cacheName: 'x'.repeat(101) }).success).toBe(false);
    expect(ScanRequest.safeParse({ type: 'warm', cacheName: 'cpni-cache' }).success).toBe(false);
  });
});
