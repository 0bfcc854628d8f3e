import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BackgroundError, sendPageMessage } from '@/components/background-client';
import { Reply, StatusReply } from '@/lib/messages';

describe('sendPageMessage', () => {
  it('returns the data of an ok reply', async () => {
    const data = await sendPageMessage({ type: 'sync.now' }, Reply(z.object({ n: z.number() })), async () => ({
      ok: true,
      data: { n: 1 },
    }));
    expect(data).toEqual({ n: 1 });
  });

  it('throws the error of an ok:false reply', async () => {
    await expect(
      sendPageMessage({ type: 'status.get' }, StatusReply, async () => ({ ok: false, error: 'signed out' })),
    ).rejects.toThrow(new BackgroundError('signed out'));
  });

  it('rejects a reply that does not match its schema', async () => {
    await expect(
      sendPageMessage({ type: 'status.get' }, StatusReply, async () => ({ ok: true, data: { user: 'x' } })),
    ).rejects.toThrow(/Unexpected reply to status.get/);
  });

  it('reports a background that does not answer', async () => {
    await expect(
      sendPageMessage({ type: 'status.get' }, StatusReply, async () => {
        throw new Error('Receiving end does not exist.');
      }),
    ).rejects.toThrow(/not responding \(Receiving end does not exist\.\)/);
  });

  it('refuses to send an invalid message', async () => {
    let called = false;
    await expect(
      sendPageMessage(
        { type: 'auth.signIn', backendUrl: 'not a url', email: 'a', password: 'b' },
        StatusReply,
        async () => {
          called = true;
        },
      ),
    ).rejects.toThrow(/Invalid request: backendUrl/);
    expect(called).toBe(false);
  });
});
