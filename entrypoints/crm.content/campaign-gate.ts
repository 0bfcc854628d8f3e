// The launch gate's data: what the extension's cache knows about each campaign a launch control
// on the page names. The guard decides synchronously in the click's capture phase, so the status
// is fetched from the background as soon as the page shows the control, before any click; a
// campaign not fetched yet is 'unknown' and its launch is blocked (fail closed).
import type { CrmAdapter } from '@/lib/adapter';
import { campaignContext } from '@/lib/campaign';
import { CampaignGetReply } from '@/lib/messages-campaigns';
import type { Campaign } from '@/lib/schemas';
import type { ActionContext } from '@/lib/snapshot';
import type { Send } from './messaging';

const CANDIDATES = 'button, a[href], input[type="submit"], input[type="button"], [role="button"], [data-crm-action]';

export class CampaignGate {
  private readonly known = new Map<string, Campaign | null>();
  private readonly asking = new Set<string>();
  private generation = 0;
  private lastAdapter: CrmAdapter | null = null;

  constructor(
    private readonly doc: Document,
    private readonly send: Send,
    private readonly log: Pick<Console, 'warn'> = console,
  ) {}

  /** The context decide() gets for a launch control naming `id` (unknown until fetched). */
  context(id: string): NonNullable<ActionContext['campaign']> {
    const c = this.known.get(id);
    if (c === undefined) this.fetch(id); // a control the scan missed: fetch for the next click
    return campaignContext(id, c ?? null);
  }

  /** Finds the page's launch controls through the adapter and fetches the campaigns they name. */
  scan(adapter: CrmAdapter | null): void {
    this.lastAdapter = adapter;
    if (!adapter) return;
    for (const el of Array.from(this.doc.querySelectorAll(CANDIDATES))) {
      let id: string | null | undefined;
      try {
        const m = adapter.classify(el, [el]);
        if (m?.action !== 'marketing.launch_campaign') continue;
        id = m.campaignId;
      } catch {
        continue;
      }
      if (id && !this.known.has(id)) this.fetch(id);
    }
  }

  /** The cache changed (a sync, sign-in/out): forget and ask again. */
  refresh(): void {
    this.generation++;
    this.known.clear();
    this.asking.clear();
    this.scan(this.lastAdapter);
  }

  private fetch(id: string): void {
    if (this.asking.has(id)) return;
    this.asking.add(id);
    const generation = this.generation;
    this.send({ type: 'campaign.get', id })
      .then((raw) => {
        if (generation !== this.generation) return;
        const reply = CampaignGetReply.parse(raw);
        if (reply.ok) this.known.set(id, reply.data.campaign);
        else this.log.warn('CPNI Guard: campaign.get failed:', reply.error);
      })
      .catch((err: unknown) => this.log.warn('CPNI Guard: campaign.get got no valid reply:', err))
      .finally(() => {
        if (generation === this.generation) this.asking.delete(id);
      });
  }
}
