/**
 * A measured device (`kind: cpu`): per-operation costs fitted by `pivot bench --fit` to the
 * simulator's own operation list, so `pivot sim`, `pivot search --cost sim` and `pivot bench`
 * can predict what an effort, a pair or another model costs on that device. Same file family
 * as hw.yaml (YAML or JSON, strict zod schema, errors naming the field); `kind` tells them apart.
 *
 * Cost of one operation list for `batch` images per runtime call, per image:
 *   inference / batch + op_call x operations / batch + attention_call x active attentions / batch
 *   + gemm_mac x linear-layer MACs + attention_mac x QK^T/SMxV MACs
 *   + gemm_byte x GEMM operand bytes (weights once per call, so / batch)
 *   + softmax, layernorm, gelu, add, entropy (ns per element) x elements.
 */
import { z } from 'zod';

const cost = z.number().nonnegative();

export const CpuCostsSchema = z.strictObject({
  /** Per runtime call (session run, input/output tensors), shared by the batch. */
  inference: cost,
  /** Per operation of the simulator's list per runtime call (kernel launch, dispatch), shared by the batch. */
  op_call: cost,
  /**
   * Per active attention per runtime call, shared by the batch: what an attention branch runs
   * beyond the list's operations (splitting QKV into heads and merging them back: Reshape,
   * Transpose, Gather nodes, a dozen per attention in an exported graph, against the list's 7
   * operations), which makes a small model's attention cost more per call than its MACs and
   * elements say. Absent in profiles written before it existed (0).
   */
  attention_call: cost.default(0),
  /** Per multiply-accumulate of the linear layers (stem/patch embedding, QKV, projection, MLP, heads). */
  gemm_mac: cost,
  /** Per multiply-accumulate of the attention products QK^T and SMxV (small per-head matrices). */
  attention_mac: cost,
  /**
   * Per byte of every GEMM's operands (float32 input, weight and output; a weight is read once
   * per call, so it is shared by the batch): the part of a GEMM's time that scales with the data
   * it moves rather than its MACs, which is what makes small, low-intensity GEMMs slow per MAC.
   * Absent in profiles written before it existed (0).
   */
  gemm_byte: cost.default(0),
  softmax: cost,
  layernorm: cost,
  gelu: cost,
  /** Residual adds and mean pooling. */
  add: cost,
  /** Eq. 3 per class; not fitted (the runtime computes it outside the ONNX graph), 0 unless measured. */
  entropy: cost.default(0),
});

export const CPU_COSTS = [
  'inference',
  'op_call',
  'attention_call',
  'gemm_mac',
  'attention_mac',
  'gemm_byte',
  'softmax',
  'layernorm',
  'gelu',
  'add',
] as const;
export type CpuCostName = (typeof CPU_COSTS)[number];

const FitSummarySchema = z.object({
  model: z.string(),
  points: z.number().int().positive(),
  batches: z.array(z.number().int().positive()),
  /**
   * The calibration ladder fitted with the model (synthetic ViTs of other shapes, so the
   * profile spans them): which ladder, and its points' relative residuals; `none` when the
   * fit had none. Absent in profiles written before the ladder existed.
   */
  calibration: z
    .union([
      z.literal('none'),
      z.object({
        ladder: z.string(),
        probes: z.number().int().positive(),
        points: z.number().int().positive(),
        rms_error: z.number().nonnegative(),
        max_error: z.number().nonnegative(),
      }),
    ])
    .optional(),
  /** Root mean square of the relative residuals over the fit points (the ladder's included). */
  rms_error: z.number().nonnegative(),
  max_error: z.number().nonnegative(),
  date: z.string().optional(),
});

export const CpuDeviceSchema = z.strictObject({
  kind: z.literal('cpu'),
  name: z.string().min(1),
  /** What was measured: CPU model, runtime, threads (free text, for people). */
  device: z.string().optional(),
  /** onnxruntime intra-op threads the costs were measured with. */
  threads: z.number().int().positive().default(1),
  /**
   * How the fitted call times were measured: wall-clock, or the process's CPU time with one
   * thread (robust to other jobs on a shared machine; predicts the idle machine's wall-clock time).
   */
  clock: z.enum(['wall', 'cpu']).default('wall'),
  /** Images per runtime call the per-image predictions are for. */
  batch: z.number().int().positive().default(1),
  /** Nanoseconds (per call, per operation, per MAC or per element: see CpuCostsSchema). */
  costs_ns: CpuCostsSchema,
  /** Optional measured average power in watts (a USB power meter, RAPL): energy = power_w x delay. */
  power_w: z.number().positive().optional(),
  /** How the costs were obtained (written by `pivot bench --fit`). */
  fit: FitSummarySchema.optional(),
});

export type CpuDevice = z.infer<typeof CpuDeviceSchema>;
export type CpuCosts = z.infer<typeof CpuCostsSchema>;
