/** `pivot import`: a user's ONNX ViT classifier -> a model family directory (efforts, Phase 1, manifest, model card). */
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { type ImportResult, runImport } from '../import/index.js';
import { createLogger } from '../util/log.js';
import { numberList, positiveInt } from './options.js';

/** "a,b,c" -> three numbers (or one, used for every channel). */
const channelValues = numberList(
  'one number or three comma-separated numbers',
  (l) => (l.length === 1 || l.length === 3) && l.every(Number.isFinite),
);

/** "all" or a comma-separated list of efforts. */
const effortNumbers = numberList('"all" or a list of efforts like 1,3,6', (l) => l.every((n) => Number.isInteger(n) && n >= 0));
const effortList = (value: string): 'all' | number[] => (value === 'all' ? 'all' : effortNumbers(value));

const PLAIN = { head: [], border: [] };
const pct = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);

function report(r: ImportResult): string {
  const a = r.manifest.architecture;
  const imp = r.manifest.imported!;
  const lines = [
    `${r.manifest.name}: ViT found in ${imp.from} (opset ${imp.opset}, batch ${imp.batch})`,
    `  depth ${a.depth}, dim ${a.dim}, heads ${a.heads}, tokens ${a.tokens}, MLP ratio ${a.mlp_ratio}, image ${a.image}, patch ${a.patch}, stem ${a.stem}, pooling ${a.pooling}, classes ${a.classes}`,
    `Phase 1 on ${imp.calib.images} calibration images from ${imp.calib.source}${imp.calib.labelled ? '' : ' (unlabelled)'}`,
  ];
  const t = new Table({ head: ['effort', 'active mask', 'Path-Score', 'MACs', 'calib accuracy', 'file', 'bytes'], style: PLAIN });
  for (const e of r.manifest.efforts)
    t.push([
      e.effort,
      e.active.join(' '),
      e.path_score?.toFixed(3) ?? '-',
      `${(e.macs / 1e6).toFixed(1)} M`,
      pct(e.accuracy.calib),
      e.file,
      r.sizes.efforts[e.effort] ?? '-',
    ]);
  lines.push(t.toString(), `(imported file: ${r.sizes.input} bytes; efforts are not fine-tuned)`);
  for (const note of r.notes) lines.push(`note: ${note}`);
  lines.push(`wrote ${r.dir}/ (manifest.json, effort-<k>.onnx, analysis.onnx, paths.json, cka.svg, cka.png, README.md)`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('import')
    .description(
      'turn an ONNX ViT classifier (torchvision, Hugging Face, timm exports) into a model family: efforts by graph surgery, Phase 1 paths on your images, manifest',
    )
    .argument('<model.onnx>', 'the ONNX classifier to import')
    .requiredOption('--out <dir>', 'output model family directory')
    .requiredOption('--calib <dir>', 'calibration images: one subfolder per class (accuracy per effort is then measured) or a flat folder')
    .option(
      '--labels <file>',
      'labels.txt (one per line, in class order) or a Hugging Face config.json (id2label); default: the calib class folders, sorted',
    )
    .option('--preprocess <file>', 'a Hugging Face preprocessor_config.json (mean, std, resample)')
    .option('--size <n>', "input size, required when the model's height/width are dynamic", positiveInt)
    .addOption(new Option('--resize <fit>', 'how images are fitted to the input size').choices(['fill', 'cover', 'contain']))
    .option('--mean <a,b,c>', "per-channel mean of pixel/255 (default: ImageNet's)", channelValues)
    .option('--std <a,b,c>', "per-channel std of pixel/255 (default: ImageNet's)", channelValues)
    .option('--efforts <all|list>', 'efforts to write, e.g. 2,4 (the full effort is always written)', effortList, 'all' as const)
    .option('--images <n>', 'calibration images to use', positiveInt, 256)
    .option('--name <name>', 'family name (default: the model file name)')
    .option('--threads <n>', "onnxruntime intra-op threads (default: onnxruntime's choice)", positiveInt)
    .option('--json', 'print the manifest as JSON instead of the report')
    .action(async (model: string, opts) => {
      const result = await runImport({
        model,
        out: opts.out,
        calib: opts.calib,
        labels: opts.labels,
        name: opts.name,
        preprocess: { config: opts.preprocess, size: opts.size, resize: opts.resize, mean: opts.mean, std: opts.std },
        efforts: opts.efforts,
        images: opts.images,
        threads: opts.threads,
        logger: createLogger(),
      });
      process.stdout.write(`${opts.json ? JSON.stringify(result.manifest, null, 2) : report(result)}\n`);
    });
}
