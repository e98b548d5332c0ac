import * as Y from 'yjs';
import type { TestClient } from './clients.ts';

/**
 * An editor typing marker words (`w1:00042 `), one Yjs update per word, into paragraph `index` of
 * the `default` fragment. It types in bursts of up to `burst` unacknowledged updates and waits for
 * the provider to report none left; at that moment every word typed so far was acknowledged (on
 * disk), so `confirmed` moves up. It types only while synced, so the provider never queues updates
 * on a dead socket whose late acknowledgements would blur which words were confirmed. Every update
 * its document sends is kept in `sent`, for comparing with the rows a server stored.
 */
export class MarkerWriter {
  typed = 0;
  confirmed = 0;
  readonly sent: Uint8Array[] = [];
  private timer: NodeJS.Timeout | null = null;
  private waitingForAcks = false;

  constructor(
    readonly index: number,
    readonly client: TestClient,
    private readonly options: { burst?: number; intervalMs?: number } = {},
  ) {
    client.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== client.provider) this.sent.push(update);
    });
    client.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      if (number !== 0) return;
      this.confirmed = this.typed;
      this.waitingForAcks = false;
    });
  }

  /** The n-th word this writer types (from 1). */
  marker(n: number): string {
    return `w${this.index}:${String(n).padStart(5, '0')} `;
  }

  start(): void {
    this.stop();
    this.waitingForAcks = false;
    this.timer = setInterval(() => {
      if (this.waitingForAcks || !this.client.provider.isSynced) return;
      const paragraph = this.client.doc.getXmlFragment('default').get(this.index) as Y.XmlElement | undefined;
      if (!paragraph) return;
      const text = paragraph.get(0) as Y.XmlText;
      text.insert(text.length, this.marker(this.typed + 1));
      this.typed += 1;
      if (this.client.provider.unsyncedChanges >= (this.options.burst ?? 8)) this.waitingForAcks = true;
    }, this.options.intervalMs ?? 2);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** The text of each paragraph of the `default` fragment. */
export function paragraphs(doc: Y.Doc): string[] {
  return doc
    .getXmlFragment('default')
    .toArray()
    .map((p) => ((p as Y.XmlElement).get(0) as Y.XmlText).toString());
}
