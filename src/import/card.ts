/** The generated model card (README.md) of an imported family: what was found, what each file is, what skipping costs. */
import type { Manifest } from '../model/manifest.js';

const pct = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
const skipped = (active: readonly number[]) => active.flatMap((a, i) => (a ? [] : [i + 1])).join(', ') || 'none';

/** The intermediate resize before a center crop, when there is one. */
function cropFrom(m: Manifest): string {
  const from = m.preprocess.resize.crop_from;
  if (!from) return '';
  return 'shortest_edge' in from
    ? `shorter edge to ${from.shortest_edge}, then center-crop `
    : `${from.width}x${from.height}, then center-crop `;
}

export function modelCard(m: Manifest, labelsSource: string): string {
  const a = m.architecture;
  const imp = m.imported!;
  const full = m.efforts.at(-1)!;
  const lines = [
    `# ${m.name}`,
    '',
    `Imported by \`pivot import\` from \`${imp.from}\` (sha256 ${imp.sha256.slice(0, 16)}..., opset ${imp.opset}${imp.producer ? `, ${imp.producer}` : ''}).`,
    '',
    '## Architecture as found in the graph',
    '',
    '| depth | dim | heads | tokens | MLP ratio | image | patch | stem | pooling | classes | batch |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    `| ${a.depth} | ${a.dim} | ${a.heads} | ${a.tokens} | ${a.mlp_ratio} | ${a.image} | ${a.patch} | ${a.stem} | ${a.pooling} | ${a.classes} | ${imp.batch} |`,
    '',
    `Labels: ${labelsSource}. Preprocessing: ${cropFrom(m)}resize to ${m.preprocess.resize.width}x${m.preprocess.resize.height} (${m.preprocess.resize.fit}, ${m.preprocess.resize.kernel}), mean ${m.preprocess.mean.join(', ')}, std ${m.preprocess.std.join(', ')}.`,
    '',
    '## Efforts',
    '',
    `Effort k runs k of the ${a.depth} attention modules; the others are removed from the graph. The path (which attentions stay) is the one with the highest Path-Score on ${imp.calib.images} calibration images from \`${imp.calib.source}\` (see paths.json and cka.svg).`,
  ];
  if (a.pooling === 'cls' && !m.efforts.some((e) => e.effort === 0))
    lines.push('', 'Effort 0 is not offered: the model classifies from its class token, which sees the image only through attention.');
  lines.push(
    '',
    '| effort | skipped attentions | MACs | Path-Score | calibration accuracy | cost vs full effort | file |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const e of m.efforts) {
    const cost =
      e.accuracy.calib !== undefined && full.accuracy.calib !== undefined
        ? `${((full.accuracy.calib - e.accuracy.calib) * 100).toFixed(1)} points`
        : '-';
    lines.push(
      `| ${e.effort} | ${skipped(e.active)} | ${(e.macs / 1e6).toFixed(1)} M | ${e.path_score?.toFixed(3) ?? '-'} | ${pct(e.accuracy.calib)} | ${cost} | ${e.file} |`,
    );
  }
  lines.push(
    '',
    '**The efforts are not fine-tuned**: each is the imported weights with attention modules removed. ' +
      (imp.calib.labelled
        ? 'The accuracy column, measured on the labelled calibration images (the same images Phase 1 tapped, so an optimistic estimate), shows what that costs.'
        : 'The calibration folder had no class subfolders, so the accuracy cost was not measured; import again with one subfolder per class to measure it.') +
      " Fine-tuning each effort with the paper's loss recovers most of it (see scripts/ and docs/import.md).",
    '',
    '## Files',
    '',
    '- `manifest.json`: input, preprocessing, labels, architecture and efforts; read by every pivot command.',
    '- `effort-<k>.onnx`: one graph per effort.',
    '- `analysis.onnx`: the full model with an `attn_gate` input and the residual-stream taps (for `pivot paths`).',
    '- `paths.json`, `cka.svg`, `cka.png`: Phase 1 (CKA matrix, Path-Score, chosen path per effort).',
    '',
  );
  return lines.join('\n');
}
