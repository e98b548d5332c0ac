import * as Y from 'yjs';
import type { RunningApp } from '../../src/server/app.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { applyRestBlocksToYDoc } from '../../src/screenplay/index.ts';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  body: any;
}

export interface RequestOptions {
  token?: string;
  /** Sent as JSON unless `rawBody` is given. */
  body?: unknown;
  /** Sent as is, with `contentType`. */
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A real HTTP request against the running server. */
export async function request(app: RunningApp, method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    if (options.contentType) headers['content-type'] = options.contentType;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const response = await fetch(`${app.httpUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

/**
 * Appends updates that turn the scene (as its log has it now) into each of `versions` in turn, as
 * an editor would; returns the seq of each update appended.
 */
export async function appendVersions(app: RunningApp, sceneId: string, versions: unknown[][]): Promise<bigint[]> {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, replayUpdates(await app.sceneLog.load(sceneId)).state);
  const seqs: bigint[] = [];
  for (const blocks of versions) {
    const { update } = applyRestBlocksToYDoc(doc, blocks);
    if (!update) continue;
    const [appended] = await app.sceneLog.append([{ sceneId, update, createdBy: null }]);
    if (appended instanceof Error) throw appended;
    seqs.push(appended!.seq);
  }
  doc.destroy();
  return seqs;
}

/**
 * A small Prometheus text-format parser: every line is a comment (`# HELP`, `# TYPE`) or a sample
 * `name{labels} value [timestamp]`; throws on anything else. Returns samples by name.
 */
export function parsePrometheusText(text: string): Map<string, Array<{ labels: Record<string, string>; value: number }>> {
  const samples = new Map<string, Array<{ labels: Record<string, string>; value: number }>>();
  const types = new Map<string, string>();
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/y;
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    if (line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type ?? '')) throw new Error(`line ${index + 1}: bad type ${type}`);
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`line ${index + 1} is not a sample: ${line}`);
    const [, name, , labelText, valueText] = match;
    const labels: Record<string, string> = {};
    if (labelText) {
      labelPair.lastIndex = 0;
      while (labelPair.lastIndex < labelText.length) {
        const pair = labelPair.exec(labelText);
        if (!pair) throw new Error(`line ${index + 1}: bad labels {${labelText}}`);
        labels[pair[1]!] = pair[2]!;
      }
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : valueText === 'NaN' ? NaN : Number(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`line ${index + 1}: bad value ${valueText}`);
    const base = name!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(name!) && !types.has(base)) throw new Error(`line ${index + 1}: sample ${name} has no # TYPE`);
    const list = samples.get(name!) ?? [];
    list.push({ labels, value });
    samples.set(name!, list);
  }
  return samples;
}
