/**
 * Charts as vega-lite specifications, compiled to vega and rendered to SVG headless (no
 * canvas: vega's SVG renderer estimates text widths), or to PNG by sharp from that SVG.
 * `pivot sim --chart` draws delay by module (Fig. 6a) and energy by component (Fig. 6b) as
 * 100%-stacked bars; `pivot bench --chart` uses the same renderer (src/bench/chart.ts).
 */
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { ConfigError } from '../errors.js';

export interface ChartBar {
  label: string;
  /** Segment name -> value; drawn as shares of the bar's total. */
  parts: Record<string, number>;
  /** Printed right of the bar (the absolute total, say). */
  note?: string;
}

const MODULE_COLORS: Record<string, string> = {
  attention_mac: '#4e79a7',
  softmax: '#e15759',
  mlp: '#59a14f',
  other: '#bab0ac',
  ps: '#f28e2b',
  pe_array: '#4e79a7',
  sram: '#76b7b2',
  periphery: '#bab0ac',
};

/** One panel: a 100%-stacked horizontal bar per ChartBar, the total beside it. */
function stackedPanel(title: string, bars: ChartBar[]): TopLevelSpec['vconcat' & keyof TopLevelSpec] {
  const keys = [...new Set(bars.flatMap((b) => Object.keys(b.parts)))];
  const rows = bars.flatMap((b) => {
    const total = Object.values(b.parts).reduce((s, v) => s + v, 0) || 1;
    return Object.entries(b.parts).map(([part, value], i) => ({
      bar: b.label,
      part,
      rank: keys.indexOf(part),
      value,
      share: value / total,
      note: i === 0 ? (b.note ?? '') : '',
    }));
  });
  const y = { field: 'bar', type: 'nominal', sort: bars.map((b) => b.label), title: null };
  return {
    title,
    width: 460,
    data: { values: rows },
    layer: [
      {
        mark: 'bar',
        encoding: {
          y,
          x: { field: 'value', type: 'quantitative', stack: 'normalize', axis: { format: '%' }, title: 'share' },
          color: {
            field: 'part',
            type: 'nominal',
            title: null,
            legend: { orient: 'bottom' },
            scale: { domain: keys, range: keys.map((k) => MODULE_COLORS[k] ?? '#999') },
          },
          order: { field: 'rank', sort: 'ascending' },
          tooltip: [{ field: 'part' }, { field: 'share', format: '.1%' }],
        },
      },
      {
        transform: [
          { stack: 'value', groupby: ['bar'], offset: 'normalize', as: ['x0', 'x1'], sort: [{ field: 'rank', order: 'ascending' }] },
          { calculate: '(datum.x0 + datum.x1) / 2', as: 'mid' },
          { filter: 'datum.share >= 0.07' },
        ],
        mark: { type: 'text', color: 'white' },
        encoding: { y, x: { field: 'mid', type: 'quantitative' }, text: { field: 'share', format: '.0%' } },
      },
      {
        transform: [{ filter: "datum.note !== ''" }],
        mark: { type: 'text', align: 'left', dx: 6 },
        encoding: { y, x: { datum: 1 }, text: { field: 'note' } },
      },
    ],
  } as never;
}

/** Fig. 6a and 6b side by side in one chart. */
export function breakdownSpec(delayBars: ChartBar[], energyBars: ChartBar[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    vconcat: [stackedPanel('Delay by module', delayBars), stackedPanel('Energy by component', energyBars)],
    resolve: { scale: { color: 'independent' } },
    config: { font: 'sans-serif', view: { stroke: null } },
  } as TopLevelSpec;
}

export async function chartSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Writes `spec` as SVG, or as PNG (rendered by sharp from the SVG) when the name ends in .png. */
export async function writeChart(path: string, spec: TopLevelSpec): Promise<string> {
  const svg = await chartSvg(spec);
  try {
    if (/\.png$/i.test(path)) await sharp(Buffer.from(svg), { density: 144 }).png().toFile(path);
    else writeFileSync(path, svg);
  } catch (err) {
    throw new ConfigError(`--chart: ${path}: ${(err as Error).message}`, { cause: err });
  }
  return path;
}
