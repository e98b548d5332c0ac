/** A horizontal bar chart as a self-contained SVG: one group of bars per row, one bar per series. */
export interface ChartRow {
  label: string;
  values: Array<{ series: string; value: number | null }>;
}

const COLORS = ['#7a7a7a', '#c97b2a', '#2a7bc9', '#3c9a5f'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function barChart(title: string, unit: string, rows: ChartRow[]): string {
  const series = [...new Set(rows.flatMap((r) => r.values.map((v) => v.series)))];
  const max = Math.max(1e-9, ...rows.flatMap((r) => r.values.map((v) => v.value ?? 0)));
  const barHeight = 16;
  const labelWidth = 260;
  const plotWidth = 420;
  const groupHeight = series.length * (barHeight + 2) + 14;
  const height = 50 + rows.length * groupHeight + 20 + series.length * 18;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + 120}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escape(title)} (${escape(unit)})</text>`,
  ];
  rows.forEach((row, r) => {
    const top = 40 + r * groupHeight;
    parts.push(`<text x="10" y="${top + barHeight}">${escape(row.label)}</text>`);
    series.forEach((name, s) => {
      const value = row.values.find((v) => v.series === name)?.value ?? null;
      const y = top + s * (barHeight + 2);
      const width = value === null ? 0 : Math.max(1, (value / max) * plotWidth);
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="${barHeight}" fill="${COLORS[s % COLORS.length]}"/>`);
      parts.push(
        `<text x="${labelWidth + width + 6}" y="${y + barHeight - 4}">${value === null ? 'n/a' : escape(formatValue(value))}</text>`,
      );
    });
  });
  series.forEach((name, s) => {
    const y = height - 10 - (series.length - 1 - s) * 18;
    parts.push(`<rect x="10" y="${y - 11}" width="12" height="12" fill="${COLORS[s % COLORS.length]}"/>`);
    parts.push(`<text x="28" y="${y}">${escape(name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function formatValue(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
