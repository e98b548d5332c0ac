// `--only=interchange`: a 120-scene, ~120-page Final Draft script imported over HTTP into the
// durable server (the answer comes after every scene's seed commit), then the same script exported
// as PDF (and FDX, for comparison), from the live state: the logs the import seeded.
import type { ScreenplayDocument } from '../../src/interchange/document.ts';
import { serializeFdx } from '../../src/interchange/fdx.ts';
import { paginateScreenplay } from '../../src/interchange/pagination.ts';
import type { CanonicalRestBlock } from '../../src/screenplay/index.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { createUser } from '../helpers/fixtures.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { percentiles, type Percentiles } from './scenarios.ts';
import { settleDatabase } from './storage.ts';
import { startDurable } from './targets.ts';

const SCENES = 120;

export interface InterchangeFigures {
  /** POST /api/scripts/import of the FDX file, answered after every scene is seeded. */
  importFdx: Percentiles;
  /** GET /api/scripts/:id/export?format=pdf of the imported script. */
  exportPdf: Percentiles;
  exportFdx: Percentiles;
  pages: number;
  fileBytes: number;
}

const WORDS = 'the a rain neon diner coffee night door light window counter street car sign slowly again never always quiet cold old last first hand face table booth waitress cook radio clock'.split(' ');
const NAMES = ['MAYA', 'JOE', 'MCGREGOR', 'ANA', 'THE COOK'];

/** About a page per scene: a heading, action, six speeches, sometimes a transition. Seeded, so every run imports the same file. */
export function benchmarkScreenplay(seed: number): ScreenplayDocument {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const sentence = (words: number) => {
    const text = Array.from({ length: words }, () => pick(WORDS)).join(' ');
    return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
  };
  const paragraph = (sentences: number) => Array.from({ length: sentences }, () => sentence(6 + Math.floor(random() * 8))).join(' ');
  const scenes = Array.from({ length: SCENES }, (_, i) => {
    const blocks: CanonicalRestBlock[] = [
      { type: 'scene_heading', text: `${pick(['INT.', 'EXT.'])} ${pick(['DINER', 'PARKING LOT', 'KITCHEN', 'STREET', 'MOTEL ROOM'])} - ${pick(['DAY', 'NIGHT', 'LATER'])}`, scene_number: String(i + 1) },
      { type: 'action', text: paragraph(4), marks: [{ type: 'italic', from: 0, to: 4 }] },
    ];
    for (let s = 0; s < 6; s += 1) {
      blocks.push({ type: 'character', text: pick(NAMES) + (random() < 0.2 ? ' (V.O.)' : '') });
      if (random() < 0.3) blocks.push({ type: 'parenthetical', text: '(beat)' });
      blocks.push({ type: 'dialogue', text: paragraph(1 + Math.floor(random() * 3)) });
      if (s === 1 || s === 3) blocks.push({ type: 'action', text: paragraph(3) });
    }
    if (random() < 0.3) blocks.push({ type: 'transition', text: 'CUT TO:' });
    return { blocks };
  });
  return { title: 'Benchmark Nights', titlePage: { title: 'BENCHMARK NIGHTS', credit: 'Written by', author: 'A. Writer' }, scenes };
}

export async function interchangeScenario(options: { repeats: number; seed: number; log: (line: string) => void }): Promise<InterchangeFigures> {
  const doc = benchmarkScreenplay(options.seed);
  const file = serializeFdx(doc);
  const pages = paginateScreenplay(doc).pageCount;
  const db = await createTestDatabase('postgres');
  try {
    const userId = await createUser(db.prisma);
    const token = await tokenFor(userId, { ttlSeconds: 24 * 3600 });
    const target = await startDurable(db.databaseUrl!);
    const headers = { authorization: `Bearer ${token}` };
    const timed = async <T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> => {
      const started = performance.now();
      const value = await run();
      return { ms: performance.now() - started, value };
    };
    try {
      const imports: number[] = [];
      const pdfs: number[] = [];
      const fdxs: number[] = [];
      // One import and export before the measured ones: the server's first request warms its workers.
      for (let round = 0; round <= options.repeats; round += 1) {
        await settleDatabase(db.databaseUrl!);
        const imported = await timed(async () => {
          const res = await fetch(`${target.httpUrl}/api/scripts/import`, { method: 'POST', headers: { ...headers, 'content-type': 'application/xml' }, body: file });
          if (res.status !== 201) throw new Error(`import answered ${res.status}: ${await res.text()}`);
          return (await res.json()) as { scriptUUID: string; scenes: Array<{ sceneUUID: string }> };
        });
        const scriptId = imported.value.scriptUUID;
        // The answer came after the seeds: every scene has its row already.
        const seeded = await db.prisma.sceneVersion.count({ where: { scene: { scriptId } } });
        if (seeded !== SCENES) throw new Error(`the import answered with ${seeded} of ${SCENES} scenes seeded`);
        const exported = async (format: 'pdf' | 'fdx') =>
          timed(async () => {
            const res = await fetch(`${target.httpUrl}/api/scripts/${scriptId}/export?format=${format}`, { headers });
            if (res.status !== 200) throw new Error(`export ${format} answered ${res.status}: ${await res.text()}`);
            return (await res.arrayBuffer()).byteLength;
          });
        const pdf = await exported('pdf');
        const fdx = await exported('fdx');
        if (round === 0) continue;
        imports.push(imported.ms);
        pdfs.push(pdf.ms);
        fdxs.push(fdx.ms);
        options.log(`  interchange round ${round}: import ${imported.ms.toFixed(0)} ms, PDF export ${pdf.ms.toFixed(0)} ms (${pdf.value} bytes), FDX export ${fdx.ms.toFixed(0)} ms`);
      }
      return { importFdx: percentiles(imports), exportPdf: percentiles(pdfs), exportFdx: percentiles(fdxs), pages, fileBytes: Buffer.byteLength(file) };
    } finally {
      await target.stop();
    }
  } finally {
    await db.close();
  }
}
