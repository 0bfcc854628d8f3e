// How the content script talks to the background: one-shot runtime messages, each parsed with
// the ContentMessage contract before it leaves and each reply parsed before it is used.
import { ContentMessage, ContextReply, GuardEvent, GuardEventReply, RecordOpenReply } from '@/lib/messages';

/** Sends one message to the background and resolves with its raw reply. */
export type Send = (message: ContentMessage) => Promise<unknown>;

export type RecordOpenData = Extract<RecordOpenReply, { ok: true }>['data'];

export async function sendRecordOpen(send: Send, message: Extract<ContentMessage, { type: 'record.open' }>) {
  return RecordOpenReply.parse(await send(ContentMessage.parse(message)));
}

export async function sendContextGet(send: Send) {
  return ContextReply.parse(await send(ContentMessage.parse({ type: 'context.get' })));
}

export async function sendRecordClose(send: Send): Promise<void> {
  await send(ContentMessage.parse({ type: 'record.close' }));
}

/** Reports what the guard did; resolves with the stored event id, or throws. */
export async function sendGuardEvent(send: Send, event: GuardEvent): Promise<string> {
  const reply = GuardEventReply.parse(await send(GuardEvent.parse(event)));
  if (!reply.ok) throw new Error(reply.error);
  return reply.data.eventId;
}
