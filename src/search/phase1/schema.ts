/** paths.json, the output of `pivot paths` (read by scripts/export_onnx.py --paths and by the lead's tooling). */
import { z } from 'zod';

const mask = z.array(z.union([z.literal(0), z.literal(1)]));

export const PathsFileSchema = z.object({
  format: z.literal('pivot-edge/paths@1'),
  model: z.string(),
  /** Number of tap images and where they came from. */
  images: z.number().int().positive(),
  data: z.string(),
  cka: z.object({
    rows: z.array(z.string()),
    cols: z.array(z.string()),
    /** values[i][j-1] = CKA(MLP_i, A_j). */
    values: z.array(z.array(z.number().min(0).max(1))),
  }),
  efforts: z.array(
    z.object({
      effort: z.number().int().nonnegative(),
      active: mask,
      score: z.number(),
      /** C(D, effort): how many paths were scored. */
      candidates: z.number().int().positive(),
      /** Another path had the same score; the one skipping deeper attentions was kept. */
      tie_broken: z.boolean(),
    }),
  ),
  random_paths: z
    .object({
      effort: z.number().int().nonnegative(),
      images: z.number().int().positive(),
      data: z.string(),
      seed: z.number().int(),
      paths: z.array(z.object({ active: mask, score: z.number(), accuracy: z.number().min(0).max(1) })),
      /** null when accuracy or score is constant over the drawn paths. */
      spearman: z.number().min(-1).max(1).nullable(),
    })
    .optional(),
});

export type PathsFile = z.infer<typeof PathsFileSchema>;
