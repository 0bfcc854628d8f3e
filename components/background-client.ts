// The one place extension pages (panel, options, dashboard) talk to the background service
// worker. Every outgoing message is a PageMessage and every reply is parsed with its Reply
// schema (DESIGN invariant 5); components take a BackgroundClient so tests can pass a fake.
import { browser } from 'wxt/browser';
import { z } from 'zod';
import { errorMessage } from '@/lib/errors';
import { PageMessage, Reply } from '@/lib/messages';

export type ReplyShape = { ok: true; data: unknown } | { ok: false; error: string };
export type ReplySchema = z.ZodType<ReplyShape>;
export type ReplyData<S extends ReplySchema> = Extract<z.output<S>, { ok: true }>['data'];

/** Delivers one message and resolves with the raw reply (browser.runtime.sendMessage). */
export type Transport = (msg: PageMessage) => Promise<unknown>;

/** A reply the background sent with ok:false, or a reply/transport that could not be used. */
export class BackgroundError extends Error {
  override name = 'BackgroundError';
}

/** For messages whose reply carries nothing the page needs (sign-in, sync, sign-out, dismiss). */
export const AckReply = Reply(z.unknown());

const runtimeTransport: Transport = (msg) => browser.runtime.sendMessage(msg);

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

export async function sendPageMessage<S extends ReplySchema>(
  msg: PageMessage,
  replySchema: S,
  transport: Transport = runtimeTransport,
): Promise<ReplyData<S>> {
  const outgoing = PageMessage.safeParse(msg);
  if (!outgoing.success) throw new BackgroundError(`Invalid request: ${describeIssues(outgoing.error)}`);

  let raw: unknown;
  try {
    raw = await transport(outgoing.data);
  } catch (err) {
    const detail = errorMessage(err);
    throw new BackgroundError(`CPNI Guard's background is not responding (${detail})`);
  }

  const reply = replySchema.safeParse(raw);
  if (!reply.success) {
    throw new BackgroundError(`Unexpected reply to ${msg.type}: ${describeIssues(reply.error)}`);
  }
  const value = reply.data as ReplyShape;
  if (!value.ok) throw new BackgroundError(value.error);
  return value.data as ReplyData<S>;
}

export interface BackgroundClient {
  send<S extends ReplySchema>(msg: PageMessage, replySchema: S): Promise<ReplyData<S>>;
}

export function createBackgroundClient(transport: Transport = runtimeTransport): BackgroundClient {
  return { send: (msg, replySchema) => sendPageMessage(msg, replySchema, transport) };
}

export const defaultBackgroundClient: BackgroundClient = createBackgroundClient();

export { errorMessage };
