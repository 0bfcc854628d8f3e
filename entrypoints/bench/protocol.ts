// Messages between bench.html and its scrub worker (scrub-worker.ts), parsed on both sides.
import { z } from 'zod';

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
