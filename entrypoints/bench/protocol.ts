// Messages between bench.html and its scrub worker (scrub-worker.ts), parsed on both sides, and
// the list both of the bench's scrubs use.
import { z } from 'zod';

/**
 * Row `r` of the bench's scrub list over `customers` bulk customers (server/seed.ts's
 * identifiers): a CRM id, a phone and an email in turn, every 20th row an id no one has.
 */
export function benchListRow(r: number, customers: number, emailPrefixes: readonly string[]): { crmId?: string; phone?: string; email?: string } {
  const k = (r * 7919) % customers;
  if (r % 20 === 19) return { crmId: `X-${r}` };
  if (r % 3 === 0) return { crmId: `B-${String(k).padStart(7, '0')}` };
  if (r % 3 === 1) return { phone: `+1${2000000000 + 2 * k}` };
  return { email: `${emailPrefixes[k % emailPrefixes.length]}.${k}@example.com` };
}

export const BenchScrubRequest = z.object({
  n: z.number().int().positive(),
  customers: z.number().int().positive(),
  emailPrefixes: z.array(z.string()).min(1),
  crm: z.string().min(1),
  chunk: z.number().int().positive(),
});
export type BenchScrubRequest = z.infer<typeof BenchScrubRequest>;

export const BenchScrubReply = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    ms: z.number(),
    findMs: z.number(),
    counts: z.object({ allowed: z.number(), blocked: z.number(), unknown: z.number() }),
  }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type BenchScrubReply = z.infer<typeof BenchScrubReply>;
