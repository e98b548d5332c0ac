import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunningApp } from '../../src/server/app.ts';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../helpers/db.ts';
import { projectRoot } from '../helpers/process.ts';
import { startTestServer } from '../helpers/server.ts';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; runbook_url: string };
}

const ALERTS = path.join(projectRoot, 'ops', 'alerts.yml');
const RUNBOOK = path.join(projectRoot, 'ops', 'runbook.md');
const DASHBOARD = path.join(projectRoot, 'ops', 'grafana-dashboard.json');

// PromQL words that are not metric names: functions are recognised by their `(`; these are the
// operators, modifiers and aggregation clauses.
const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression reads (label matchers, ranges, grouping labels and strings left out). */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/(^|[^A-Za-z0-9_:])\d+(\.\d+)?(e[+-]?\d+)?/gi, '$1 ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const word = match[0];
    // A function call (`rate(`, `histogram_quantile (`) is not a metric.
    const next = stripped.slice(match.index + word.length).trimStart();
    if (next.startsWith('(') || PROMQL_WORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

/** Series names present in a Prometheus text exposition (`name{...} value` or `name value`). */
function exportedSeries(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (match) names.add(match[1]!);
  }
  return names;
}

/**
 * Series names of the metric families /metrics declares (`# TYPE`), samples or not: a labelled
 * counter no event has touched yet has no sample, and a dashboard panel shows it once one does.
 */
function registeredSeries(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE ([A-Za-z_:][A-Za-z0-9_:]*) (\w+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

async function loadRules(): Promise<Rule[]> {
  const file = parse(await readFile(ALERTS, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  return file.groups.flatMap((group) => group.rules);
}

describe('ops/alerts.yml', () => {
  let db: TestDatabase;
  let app: RunningApp;
  beforeAll(async () => {
    db = await createTestDatabase(testDatabaseKinds()[0]!);
    app = await startTestServer(db);
  });
  afterAll(async () => {
    await app?.stop();
    await db?.close();
  });

  it('reads the expression words right', () => {
    expect(
      metricNames('sum(rate(a_total{reason="x"}[5m])) / clamp_min(sum by (le) (rate(b_bucket[5m])), 0.001) > 0.2 and c == 0').sort(),
    ).toEqual(['a_total', 'b_bucket', 'c']);
  });

  it('names only metrics a freshly started server exports, histograms and labelled counters included', async () => {
    const rules = await loadRules();
    const res = await fetch(`${app.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    const exported = exportedSeries(await res.text());
    const named = new Set(rules.flatMap((rule) => metricNames(rule.expr)));
    // The section's four, and ours.
    for (const metric of [
      'divergence_rate',
      'snapshot_lag_minutes',
      'scene_load_time_seconds_bucket',
      'update_persist_errors_total',
      'yjs_ack_latency_seconds_bucket',
      'yjs_quarantined_updates_total',
      'redis_fanout_connected',
      'redis_fanout_enabled',
      'webhook_delivery_failures_total',
      'webhook_deliveries_total',
    ]) {
      expect(named).toContain(metric);
    }
    const missing = [...named].filter((metric) => !exported.has(metric));
    expect(missing, 'metrics the rules name that /metrics does not export').toEqual([]);
  });

  it('gives every alert a severity, a summary and a runbook section that exists', async () => {
    const rules = await loadRules();
    const runbook = await readFile(RUNBOOK, 'utf8');
    // GitHub's heading anchors: lower case, spaces to hyphens, punctuation dropped.
    const anchors = new Set([...runbook.matchAll(/^#+\s+(.+)$/gm)].map((m) => m[1]!.trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
    expect(rules.length).toBeGreaterThanOrEqual(12);
    for (const rule of rules) {
      expect(['info', 'warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      const [file, anchor] = rule.annotations.runbook_url.split('#');
      expect(file).toBe('ops/runbook.md');
      expect(anchors, `runbook section for ${rule.alert}`).toContain(anchor);
    }
  });

  it('is valid for Prometheus (promtool check rules)', async () => {
    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((candidate) => existsSync(candidate));
    // Fails, never skips, without it, as the browser tests do without Chromium.
    if (promtool === undefined) {
      throw new Error('promtool is not installed: apt-get install --no-install-recommends prometheus (.ci/run does this)');
    }
    const { stdout } = await promisify(execFile)(promtool, ['check', 'rules', ALERTS]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('has a Grafana dashboard whose panels query only metrics the server registers', async () => {
    const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as { title: string; panels: { title: string; targets?: { expr: string }[] }[] };
    expect(dashboard.title).toBeTruthy();
    const res = await fetch(`${app.httpUrl}/metrics`);
    const registered = registeredSeries(await res.text());
    const queried = dashboard.panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => metricNames(target.expr)));
    expect(queried.length).toBeGreaterThan(10);
    expect(queried.filter((metric) => !registered.has(metric))).toEqual([]);
  });
});
