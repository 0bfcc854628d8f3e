// The scrub the worker runs: header detection, batches through decideMany, outputs and counts.
import { describe, expect, it } from 'vitest';
import { runScrub, ScrubError, SCRUB_BATCH } from '@/entrypoints/campaigns/scrub';
import { DEFAULT_POLICY } from '@/lib/schemas';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { NOW, makeConsent } from '../lib/factories';

const optedIn = { customerId: 'A', consents: [makeConsent({ customerId: 'A', state: 'opt_in', method: 'written' })] };
const denied = { customerId: 'B', consents: [makeConsent({ customerId: 'B', state: 'denied', method: 'written' })] };

async function* chunks(text: string, size = 7) {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

function scrub(text: string, calls: RecordIdentifiers[][] = [], batchSize?: number) {
  return runScrub({
    batchSize,
    chunks: chunks(text),
    totalBytes: text.length,
    crm: 'demo-crm',
    policy: DEFAULT_POLICY,
    now: NOW,
    decideMany: async (ids, decide) => {
      calls.push([...ids]);
      return ids.map((i) => decide(i.crmId === 'A' || i.emails[0] === 'a@example.com' ? optedIn : i.crmId === 'B' ? denied : null));
    },
  });
}

describe('runScrub', () => {
  it('sorts rows into allowed, blocked (with rule and reason), unknown and malformed (with line numbers)', async () => {
    const out = await scrub('\uFEFFcrm_id,E-mail,name\nA,,"Ann, A"\nB,,Bo\nZ,,Zed\n,A@Example.com,by email\nA,oops\n,,\n');
    expect(out.counts).toEqual({ total: 6, allowed: 2, blocked: 1, unknown: 1, malformed: 2 });
    expect(out.columns).toEqual({ customerId: 'crm_id', email: 'E-mail' });
    expect(out.allowedCsv.join('')).toBe('crm_id,E-mail,name\r\nA,,"Ann, A"\r\n,A@Example.com,by email\r\n');
    expect(out.blockedCsv[1]).toMatch(/^B,,Bo,blocked,APPROVAL_REQUIRED,.+,3\r\n$/);
    expect(out.blockedCsv[2]).toMatch(/^Z,,Zed,unknown,UNKNOWN_STATUS,.+,4\r\n$/);
    expect(out.problems.map((p) => p.line)).toEqual([6, 7]);
    expect(out.problems[0]!.problem).toBe('Line 6 has 2 fields; the header has 3');
  });

  it('looks rows up in batches', async () => {
    const calls: RecordIdentifiers[][] = [];
    const rows = 205;
    const out = await scrub('id\n' + Array.from({ length: rows }, () => 'A').join('\n'), calls, 100);
    expect(out.counts.allowed).toBe(rows);
    expect(calls.length).toBeGreaterThan(1);
    expect(Math.max(...calls.map((c) => c.length))).toBeLessThan(200);
    expect(SCRUB_BATCH).toBeGreaterThanOrEqual(100_000); // a big list reads each bucket a few times at most
  });

  it('refuses a file whose header names no identifier column', async () => {
    await expect(scrub('name,city\nAnn,Orlando\n')).rejects.toThrow(ScrubError);
    await expect(scrub('')).rejects.toThrow(/empty/);
  });
});
