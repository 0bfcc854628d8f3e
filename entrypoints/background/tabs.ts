// Per-tab state (the record on screen, the last blocked action) and the panel ports that show
// it. The snapshot itself (CPNI) is kept in memory only; what survives a worker restart, in
// `storage.session` (memory-backed, extension contexts only), is the record's identifiers and
// the last block, and the snapshot is looked up again from the cache.
import { z } from 'zod';
import { PanelState } from '@/lib/messages';
import { RecordIdentifiers, type Snapshot } from '@/lib/snapshot';

export type LastBlock = NonNullable<PanelState['lastBlock']>;
const LastBlockSchema = PanelState.shape.lastBlock;

const StoredTab = z.object({
  identifiers: RecordIdentifiers.nullable(),
  frameId: z.number().int().nullable().default(null), // the frame that opened the record
  lastBlock: LastBlockSchema,
});
type StoredTab = z.infer<typeof StoredTab>;

export interface TabState extends StoredTab {
  snapshot: Snapshot | null; // null: not looked up since the worker started
}

/** The subset of `browser.storage.session` used here (absent in tests or old browsers). */
export interface SessionArea {
  get(key: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(key: string | string[]): Promise<void>;
}

export interface PanelPort {
  name: string;
  postMessage(message: unknown): void;
}

const key = (tabId: number) => `tab:${tabId}`;

export class TabRegistry {
  private readonly tabs = new Map<number, TabState>();
  private readonly ports = new Map<number, Set<PanelPort>>();

  constructor(private readonly area: SessionArea | null) {}

  /** The tab's state, restored from session storage after a worker restart. */
  async get(tabId: number): Promise<TabState> {
    const known = this.tabs.get(tabId);
    if (known) return known;
    let restored: StoredTab = { identifiers: null, frameId: null, lastBlock: null };
    if (this.area) {
      const got: Record<string, unknown> = await this.area.get(key(tabId)).catch(() => ({}));
      const raw = got[key(tabId)];
      const parsed = StoredTab.safeParse(raw);
      if (parsed.success) restored = parsed.data;
    }
    const state = this.tabs.get(tabId) ?? { ...restored, snapshot: null };
    this.tabs.set(tabId, state);
    return state;
  }

  async update(tabId: number, patch: Partial<TabState>): Promise<TabState> {
    const state = { ...(await this.get(tabId)), ...patch };
    this.tabs.set(tabId, state);
    await this.area
      ?.set({ [key(tabId)]: { identifiers: state.identifiers, frameId: state.frameId, lastBlock: state.lastBlock } satisfies StoredTab })
      .catch(() => undefined);
    return state;
  }

  async remove(tabId: number): Promise<void> {
    this.tabs.delete(tabId);
    this.ports.delete(tabId);
    await this.area?.remove(key(tabId)).catch(() => undefined);
  }

  /** Tabs known in memory (after a restart, only those that spoke since). */
  knownTabIds(): number[] {
    return [...new Set([...this.tabs.keys(), ...this.ports.keys()])];
  }

  addPort(tabId: number, port: PanelPort): () => void {
    let set = this.ports.get(tabId);
    if (!set) this.ports.set(tabId, (set = new Set()));
    set.add(port);
    return () => {
      set.delete(port);
      if (set.size === 0 && this.ports.get(tabId) === set) this.ports.delete(tabId);
    };
  }

  hasPorts(tabId: number): boolean {
    return (this.ports.get(tabId)?.size ?? 0) > 0;
  }

  post(tabId: number, message: PanelState): void {
    for (const port of this.ports.get(tabId) ?? []) {
      try {
        port.postMessage(message);
      } catch {
        // the panel went away between connect and now; its onDisconnect removes it
      }
    }
  }
}
