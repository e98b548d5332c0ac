/** A curve chart as a self-contained SVG, both axes logarithmic: one polyline of points per series. */
export interface CurveSeries {
  name: string;
  points: Array<{ x: number; y: number }>;
}

const COLORS = ['#c97b2a', '#2a7bc9', '#7a7a7a', '#3c9a5f'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Powers of ten from below `min` to above `max`: the gridlines. */
function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e += 1) out.push(10 ** e);
  return out;
}

export function logLogChart(title: string, xUnit: string, yUnit: string, series: CurveSeries[]): string {
  const points = series.flatMap((s) => s.points).filter((p) => p.x > 0 && p.y > 0);
  const width = 800;
  const height = 400;
  const left = 70;
  const top = 40;
  const plotW = 440;
  const plotH = 300;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`, `<text x="10" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`];
  if (points.length === 0) return [...parts, '</svg>'].join('\n');
  const xs = decades(Math.min(...points.map((p) => p.x)), Math.max(...points.map((p) => p.x)));
  const ys = decades(Math.min(...points.map((p) => p.y)), Math.max(...points.map((p) => p.y)));
  const [lx0, lx1] = [Math.log10(xs[0]!), Math.log10(xs.at(-1)!)];
  const [ly0, ly1] = [Math.log10(ys[0]!), Math.log10(ys.at(-1)!)];
  const px = (x: number) => left + ((Math.log10(x) - lx0) / Math.max(1e-9, lx1 - lx0)) * plotW;
  const py = (y: number) => top + plotH - ((Math.log10(y) - ly0) / Math.max(1e-9, ly1 - ly0)) * plotH;
  for (const x of xs) parts.push(`<line x1="${px(x)}" y1="${top}" x2="${px(x)}" y2="${top + plotH}" stroke="#ddd"/><text x="${px(x)}" y="${top + plotH + 16}" text-anchor="middle">${x}</text>`);
  for (const y of ys) parts.push(`<line x1="${left}" y1="${py(y)}" x2="${left + plotW}" y2="${py(y)}" stroke="#ddd"/><text x="${left - 6}" y="${py(y) + 4}" text-anchor="end">${y}</text>`);
  parts.push(`<text x="${left + plotW / 2}" y="${top + plotH + 34}" text-anchor="middle">${escape(xUnit)}</text>`);
  parts.push(`<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${escape(yUnit)}</text>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const valid = s.points.filter((p) => p.x > 0 && p.y > 0);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${valid.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of valid) parts.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}"/>`);
    parts.push(`<rect x="${left + plotW + 14}" y="${top + i * 20}" width="12" height="12" fill="${color}"/><text x="${left + plotW + 32}" y="${top + i * 20 + 11}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
