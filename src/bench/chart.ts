/**
 * `pivot bench --chart`: measured vs predicted per effort as paired bars, with the error above
 * each pair. With a device profile the bars are ms per image; with an accelerator (absolute
 * times differ by design) they are each side's ratio to the full effort.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { BenchReport } from './run.js';

export function benchChartSpec(report: BenchReport): TopLevelSpec {
  const device = report.hardware_kind === 'cpu';
  const predicted = device ? `predicted (${report.hardware})` : `PIVOT-Sim (${report.hardware})`;
  const rows = report.efforts.rows.flatMap((r) => [
    { effort: String(r.effort), side: 'measured', value: device ? r.measured_ms : r.measured_ratio, label: '' },
    {
      effort: String(r.effort),
      side: predicted,
      value: device ? r.simulated_ms : r.simulated_ratio,
      label: device ? `${r.error >= 0 ? '+' : ''}${(r.error * 100).toFixed(1)}%` : `x${(r.measured_ratio / r.simulated_ratio).toFixed(2)}`,
    },
  ]);
  const x = {
    field: 'effort',
    type: 'nominal',
    title: 'effort',
    sort: report.efforts.rows.map((r) => String(r.effort)),
    axis: { labelAngle: 0 },
  };
  const y = {
    field: 'value',
    type: 'quantitative',
    title: device ? 'ms per image (median)' : `ratio to effort ${report.efforts.full_effort}`,
  };
  const s = report.settings;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `${report.model}: measured vs ${device ? 'predicted' : 'simulated'} per effort`,
      subtitle: `${report.device.cpu}, onnxruntime-node, ${s.threads} thread(s), batch ${s.batch}; ${device ? 'label: prediction error' : 'label: measured/simulated ratio'}`,
    },
    width: 480,
    height: 260,
    data: { values: rows },
    encoding: { x, xOffset: { field: 'side' }, y },
    layer: [
      {
        mark: 'bar',
        encoding: {
          color: { field: 'side', type: 'nominal', title: null, legend: { orient: 'bottom' }, scale: { range: ['#4e79a7', '#f28e2b'] } },
        },
      },
      { mark: { type: 'text', dy: -6, fontSize: 10 }, encoding: { text: { field: 'label' } } },
    ],
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}
