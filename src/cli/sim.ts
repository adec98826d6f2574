/** `pivot sim`: PIVOT-Sim estimates for a ViT effort, an effort pair, or a SCALE-Sim topology. */
import type { Command } from 'commander';
import { runSim, type SimOptions } from '../sim/run.js';
import { nonNegativeInt, number } from './options.js';

export function register(program: Command): void {
  program
    .command('sim')
    .description('PIVOT-Sim: delay, energy, EDP and FPS/W of a ViT effort (or effort pair) on a systolic-array accelerator + host CPU')
    .option(
      '--vit <preset|file>',
      'deit-t, deit-s, deit-b, vit-b16, lv-vit-s, lv-vit-m, a models/<name>/manifest.json, or a ViT description (.json/.yaml)',
    )
    .option('--hw <preset|file>', 'zcu102 (Table 1) or a hw.yaml (may start with "extends: zcu102")', 'zcu102')
    .option('--active <mask>', 'active-attention mask, one bit per encoder, e.g. 111111111000')
    .option(
      '--effort <k>',
      "a manifest effort's mask; for presets (and files without efforts) the first k attentions active, deepest skipped first",
      nonNegativeInt,
    )
    .option('--pair <low,high>', 'effort pair: D = F_L*D_L + F_H*(D_L + D_H)')
    .option('--fl <F_L>', 'fraction of inputs the low effort classifies (with --pair)', number)
    .option('--entropy', "charge Eq. 3's entropy to this effort (always on for the low effort of a pair)")
    .option('--dataflow <os|ws|is>', "override the hardware's dataflow")
    .option('--ideal-bandwidth', "no DRAM stalls (SCALE-Sim's compute cycles)")
    .option('--json', 'JSON for programs (delay_ms, energy_j, edp, fps_per_w, breakdown, layers)')
    .option('--csv', 'CSV: per-operation rows (SCALE-Sim inputs: COMPUTE_REPORT.csv)')
    .option('--layers', 'add the per-operation table to the readable output')
    .option('--chart <file.svg>', 'write the delay (Fig. 6a) and energy (Fig. 6b) breakdown chart (.svg, or .png)')
    .option('--trace <file.csv>', 'write the fold-by-fold PL timeline (start/end cycle of every fold, stalls, host gaps)')
    .option('--scalesim-config <cfg>', 'a SCALE-Sim config file (with --topology)')
    .option('--topology <csv>', 'a SCALE-Sim topology CSV (convolution or GEMM rows)')
    .action(async (opts: SimOptions) => {
      const out = await runSim(opts);
      process.stdout.write(out.text);
      for (const file of out.files) process.stderr.write(`wrote ${file}\n`);
    });
}
