// Messages between the campaigns page and its scrub worker, parsed with zod on both sides.
import { z } from 'zod';

export const ScrubStart = z.object({
  type: z.literal('start'),
  file: z.instanceof(Blob),
  crm: z.string().min(1).max(64),
  now: z.string(),
  cacheName: z.string().min(1).max(100),
});
export type ScrubStart = z.infer<typeof ScrubStart>;

const Counts = z.object({
  total: z.number().int(),
  allowed: z.number().int(),
  blocked: z.number().int(),
  unknown: z.number().int(),
  malformed: z.number().int(),
});

export const ScrubWorkerReply = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), rows: z.number().int(), bytes: z.number(), totalBytes: z.number() }),
  z.object({
    type: z.literal('done'),
    counts: Counts,
    columns: z.record(z.string(), z.string()),
    problems: z.array(z.object({ line: z.number().int(), problem: z.string() })),
    durationMs: z.number().int().nonnegative(),
    allowed: z.instanceof(Blob),
    blocked: z.instanceof(Blob),
    problemsCsv: z.instanceof(Blob),
  }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type ScrubWorkerReply = z.infer<typeof ScrubWorkerReply>;
