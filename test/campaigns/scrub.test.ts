// The scrub the worker runs: header detection, batches through decideMany, outputs and counts.
import { describe, expect, it } from 'vitest';
import { runScrub, ScrubError, SCRUB_BATCH } from '@/entrypoints/campaigns/scrub';
import { createScrubDecider, parseCsv } from '@/lib/campaign';
import { DEFAULT_POLICY } from '@/lib/schemas';
import type { RecordIdentifiers } from '@/lib/snapshot';
import { NOW, makeConsent } from '../lib/factories';

const optedIn = { customerId: 'A', consents: [makeConsent({ customerId: 'A', state: 'opt_in', method: 'written' })] };
const denied = { customerId: 'B', consents: [makeConsent({ customerId: 'B', state: 'denied', method: 'written' })] };

async function* chunks(text: string, size = 7) {
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

/** An output file's text. */
const text = (chunks: Uint8Array[]) => Buffer.concat(chunks).toString('utf8');

function scrub(csv: string, calls: RecordIdentifiers[][] = [], batchSize?: number, chunkBytes?: number) {
  return runScrub({
    batchSize,
    chunks: chunks(csv, chunkBytes),
    totalBytes: csv.length,
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
    expect(text(out.allowedCsv)).toBe('crm_id,E-mail,name\r\nA,,"Ann, A"\r\n,A@Example.com,by email\r\n');
    const blocked = text(out.blockedCsv).split(/(?<=\r\n)/);
    expect(blocked).toHaveLength(3);
    expect(blocked[0]).toBe('crm_id,E-mail,name,cpni_status,cpni_rule_ids,cpni_reason,source_line\r\n');
    expect(blocked[1]).toMatch(/^B,,Bo,blocked,APPROVAL_REQUIRED,.+,3\r\n$/);
    expect(blocked[2]).toMatch(/^Z,,Zed,unknown,UNKNOWN_STATUS,.+,4\r\n$/);
    expect(text(out.problemsCsv)).toBe(
      'line,problem\r\n6,Line 6 has 2 fields; the header has 3\r\n7,"Line 7 has no customer id, account number, phone or email"\r\n',
    );
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

  it('writes blocked rows as CSV that reads back as the row, the verdict, rules, reason and line', async () => {
    const out = await scrub('crm_id,name,note\nB,"Bo, ""the"" man",=1+1\nZ,Zed, x \n');
    const { records } = parseCsv(text(out.blockedCsv));
    const reason = createScrubDecider(DEFAULT_POLICY, NOW)(denied);
    expect(records.map((r) => r.fields)).toEqual([
      ['crm_id', 'name', 'note', 'cpni_status', 'cpni_rule_ids', 'cpni_reason', 'source_line'],
      ['B', 'Bo, "the" man', "'=1+1", 'blocked', reason.ruleIds.join(' '), reason.reason, '2'],
      ['Z', 'Zed', ' x ', 'unknown', 'UNKNOWN_STATUS', createScrubDecider(DEFAULT_POLICY, NOW)(null).reason, '3'],
    ]);
    expect(reason.reason).toMatch(/,/); // quoted on the way out
  });

  it('gives the same rows, line numbers and files however the file arrives in chunks', async () => {
    // line breaks inside quotes, multi-byte characters and CRLFs cut anywhere by the chunks
    const csv = 'crm_id,note\r\nB,"a\r\nb"\r\nZ,"é\r\n😀"\r\nA,oops,x\r\nA,end\r\n';
    const whole = await scrub(csv, [], undefined, csv.length * 4);
    expect(whole.problems).toEqual([{ line: 6, problem: 'Line 6 has 3 fields; the header has 2' }]);
    const blocked = parseCsv(text(whole.blockedCsv)).records.slice(1).map((r) => [r.fields[1], r.fields.at(-1)]);
    expect(blocked).toEqual([['a\r\nb', '2'], ['é\r\n😀', '4']]); // source_line: where each row starts
    expect(text(whole.allowedCsv)).toBe('crm_id,note\r\nA,end\r\n');
    for (let size = 1; size <= 12; size++) {
      const out = await scrub(csv, [], 2, size);
      expect([out.counts, out.problems, text(out.allowedCsv), text(out.blockedCsv), text(out.problemsCsv)]).toEqual([
        whole.counts,
        whole.problems,
        text(whole.allowedCsv),
        text(whole.blockedCsv),
        text(whole.problemsCsv),
      ]);
    }
  });

  it('writes each blocked row with its own rule and reason when rules alternate', async () => {
    const out = await scrub('crm_id\nB\nZ\nB\nZ\n');
    const rows = parseCsv(text(out.blockedCsv)).records.slice(1).map((r) => r.fields.slice(1, 3));
    expect(rows).toEqual([
      ['blocked', 'APPROVAL_REQUIRED'],
      ['unknown', 'UNKNOWN_STATUS'],
      ['blocked', 'APPROVAL_REQUIRED'],
      ['unknown', 'UNKNOWN_STATUS'],
    ]);
  });

  it('writes every row of a long list once, in order', async () => {
    const rows = 10_000;
    const csv = 'id,n\n' + Array.from({ length: rows }, (_, i) => `${i % 3 === 0 ? 'B' : 'A'},${i}`).join('\n');
    const out = await scrub(csv, [], 3000);
    const allowed = text(out.allowedCsv).split('\r\n').slice(1, -1);
    const blocked = text(out.blockedCsv).split('\r\n').slice(1, -1);
    expect(allowed).toEqual(Array.from({ length: rows }, (_, i) => i).filter((i) => i % 3 !== 0).map((i) => `A,${i}`));
    expect(blocked.map((l) => l.split(',').slice(0, 2).join(','))).toEqual(
      Array.from({ length: rows }, (_, i) => i).filter((i) => i % 3 === 0).map((i) => `B,${i}`),
    );
    expect(blocked.every((l, k) => l.endsWith(`,${3 * k + 2}`))).toBe(true); // source_line: header is line 1
  });

  it('refuses a file whose header names no identifier column', async () => {
    await expect(scrub('name,city\nAnn,Orlando\n')).rejects.toThrow(ScrubError);
    await expect(scrub('')).rejects.toThrow(/empty/);
  });
});
