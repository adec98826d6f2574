/**
 * The CKA matrix as a heatmap (like the paper's Fig. 3a): rows MLP_0..MLP_D, columns
 * A_1..A_D. The colour scale runs from the smallest value (rounded down to 0.1) to 1:
 * residual-stream CKAs sit close to 1, and a 0..1 scale would paint them all one colour.
 * Cells with j <= i are faded: Algorithm 1 never reads them. Written as SVG, and as PNG
 * rendered from that SVG by sharp (librsvg).
 */
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { CkaMatrix } from './path-score.js';

/** Viridis sampled at 0, 1/4, 1/2, 3/4, 1 (perceptually ordered, readable in greyscale). */
const STOPS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** Viridis colour of `value` on the scale [lo, 1]. */
export function colorFor(value: number, lo = 0): string {
  const t = Math.min(1, Math.max(0, (value - lo) / (1 - lo))) * (STOPS.length - 1);
  const k = Math.min(STOPS.length - 2, Math.floor(t));
  const f = t - k;
  const [a, b] = [STOPS[k]!, STOPS[k + 1]!];
  const hex = [0, 1, 2].map((c) =>
    Math.round(a[c]! + (b[c]! - a[c]!) * f)
      .toString(16)
      .padStart(2, '0'),
  );
  return `#${hex.join('')}`;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function heatmapSvg(cka: CkaMatrix, title: string): string {
  const rows = cka.length;
  const cols = cka[0]?.length ?? 0;
  const cell = 52;
  const left = 78;
  const top = 64;
  const barX = left + cols * cell + 24;
  const width = Math.max(barX + 70, left + 600);
  const values = cka.flat();
  const lo = Math.min(0.9, Math.max(0, Math.floor(Math.min(...values) * 10) / 10));
  const height = top + rows * cell + 46;
  const text = (x: number, y: number, s: string, attrs = '') => `<text x="${x}" y="${y}" ${attrs}>${escapeXml(s)}</text>`;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(left, 22, title, 'font-size="15" font-weight="bold"'),
    text(left, 40, 'CKA(MLP_i, A_j); faded cells (j <= i) are not used by Path-Score', 'font-size="11" fill="#555"'),
  ];
  cka.forEach((row, i) => {
    const y = top + i * cell;
    parts.push(text(left - 8, y + cell / 2 + 4, `MLP_${i}`, 'font-size="12" text-anchor="end"'));
    row.forEach((v, c) => {
      const x = left + c * cell;
      const used = c + 1 > i;
      const light = (v - lo) / (1 - lo) > 0.6;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${colorFor(v, lo)}" opacity="${used ? 1 : 0.3}" stroke="#fff"/>`,
        text(
          x + cell / 2,
          y + cell / 2 + 4,
          v.toFixed(2),
          `font-size="12" text-anchor="middle" fill="${used && !light ? '#fff' : '#000'}"`,
        ),
      );
    });
  });
  for (let c = 0; c < cols; c++) parts.push(text(left + c * cell + cell / 2, top - 6, `A_${c + 1}`, 'font-size="12" text-anchor="middle"'));
  // Colour bar, 1 at the top.
  const barH = rows * cell;
  for (let s = 0; s < 50; s++)
    parts.push(
      `<rect x="${barX}" y="${top + (s * barH) / 50}" width="14" height="${barH / 50 + 0.5}" fill="${colorFor(1 - (s + 0.5) / 50)}"/>`,
    );
  for (const t of [0, 0.5, 1]) parts.push(text(barX + 20, top + (1 - t) * barH + 4, (lo + t * (1 - lo)).toFixed(2), 'font-size="11"'));
  parts.push(
    text(
      left,
      height - 14,
      "rows: residual stream after encoder i (MLP_0: embedding); columns: after attention j's add",
      'font-size="11" fill="#555"',
    ),
  );
  parts.push('</svg>');
  return parts.join('\n');
}

/** Writes `<base>.svg` and `<base>.png`; returns both paths. */
export async function writeHeatmap(cka: CkaMatrix, title: string, base: string): Promise<{ svg: string; png: string }> {
  const svg = heatmapSvg(cka, title);
  const paths = { svg: `${base}.svg`, png: `${base}.png` };
  await writeFile(paths.svg, svg);
  await sharp(Buffer.from(svg), { density: 144 }).png().toFile(paths.png);
  return paths;
}
