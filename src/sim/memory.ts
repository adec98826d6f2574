/**
 * SRAM and DRAM traffic of one GEMM, and the stall cycles when DRAM cannot keep up.
 *
 * Model (first order, closed form): the operand SRAMs are double buffered (half serves the
 * array while the other half prefetches, as in SCALE-Sim's read buffers), so an operand is
 * fetched from DRAM once when what must stay between passes fits in half its SRAM, and once
 * per pass otherwise. Partial sums that do not fit in half the output SRAM spill to DRAM and
 * come back (write + read per extra pass). DRAM transfers overlap compute; the array stalls
 * only for the part of the transfer time that exceeds the compute time. The global buffer is
 * a staging FIFO between DRAM and the operand SRAMs (Fig. 5): every DRAM byte passes through
 * it, it adds no reuse.
 */
import type { ArrayDims, Dataflow, Gemm, OperandTraffic, StreamedOperand } from './dataflow/index.js';
import type { Hardware } from './hardware.js';

export interface GemmTraffic {
  /** Elements moved between the operand SRAMs and the array. */
  sram: { inputReads: number; weightReads: number; outputWrites: number };
  /** Elements moved between DRAM and chip (through the global buffer). */
  dram: { inputReads: number; weightReads: number; outputReads: number; outputWrites: number };
  dramBytes: number;
  stallCycles: number;
}

/** DRAM bytes one PL clock cycle can move, or Infinity in ideal-bandwidth mode. */
export function dramBytesPerCycle(hw: Hardware): number {
  if (hw.dram_bandwidth_gbps === 'ideal') return Infinity;
  return (hw.dram_bandwidth_gbps * 1e9) / (hw.clock_mhz * 1e6);
}

/** Elements in the active half of a double-buffered SRAM. */
function halfBufferElems(kb: number, wordBytes: number): number {
  return Math.floor((kb * 1024) / 2 / wordBytes);
}

function streamedFromDram(op: StreamedOperand, capacityElems: number): number {
  return op.reuseSet <= capacityElems ? op.elements : op.elements * op.passes;
}

/** SRAM <-> array traffic: every operand element once per pass; the same in both memory models. */
function sramTraffic({ input, weight, output }: OperandTraffic): GemmTraffic['sram'] {
  return {
    inputReads: input.elements * input.passes,
    weightReads: weight.elements * weight.passes,
    outputWrites: output.elements * output.passes,
  };
}

export function gemmTraffic(df: Dataflow, g: Gemm, a: ArrayDims, hw: Hardware, computeCycles: number): GemmTraffic {
  if (hw.memory === 'scalesim') return scaleSimTraffic(df, g, a, hw, computeCycles);
  const traffic = df.traffic(g, a);
  const { input, weight, output } = traffic;
  const spills = output.passes > 1 && output.accumulatorSet > halfBufferElems(hw.sram_kb.output, hw.word_bytes);
  const dram = {
    inputReads: streamedFromDram(input, halfBufferElems(hw.sram_kb.input, hw.word_bytes)),
    weightReads: streamedFromDram(weight, halfBufferElems(hw.sram_kb.weight, hw.word_bytes)),
    outputReads: spills ? output.elements * (output.passes - 1) : 0,
    outputWrites: spills ? output.elements * output.passes : output.elements,
  };
  const dramBytes = (dram.inputReads + dram.weightReads + dram.outputReads + dram.outputWrites) * hw.word_bytes;
  const transferCycles = Math.ceil(dramBytes / dramBytesPerCycle(hw));
  return {
    sram: sramTraffic(traffic),
    dram,
    dramBytes,
    stallCycles: Math.max(0, transferCycles - computeCycles),
  };
}

/**
 * SCALE-Sim v2's memory system (its read_buffer.py / double_buffered_scratchpad_mem.py), in
 * closed form over prefetch chunks instead of cycle by cycle:
 * - each read operand has its own DRAM port of the configured bandwidth (SCALE-Sim gives the
 *   IFMAP and FILTER buffers `Bandwidth` words per cycle each) and a double-buffered SRAM whose
 *   active half (active_buf_frac 0.5) is filled before the layer starts (SCALE-Sim issues that
 *   fill at negative cycles, so it never stalls);
 * - an operand that fits in the active half is never fetched again;
 * - a larger one streams through in chunks of half the SRAM, once per sweep (a sweep is a pass
 *   of the dataflow that cannot reuse what is on chip). Prefetches run back to back from the
 *   previous one's completion, chunk time = ceil(chunk / bandwidth) cycles;
 * - at every chunk boundary SCALE-Sim fetches twice: its window moves by the prefetch half, and
 *   the skewed demand rows that straddle the boundary still read the previous half; its golden
 *   runs read 2 x chunks per operand (the fill, two per boundary, one more), so the first boundary
 *   here waits for three;
 * - the array consumes each sweep evenly over its compute cycles; when a boundary's data is
 *   late the array waits, and SCALE-Sim adds each such wait twice to its stall count
 *   (read_buffer.service_reads adds the potential stall to the offset, then again when > 0).
 * Output writes drain in the background and are not charged (SCALE-Sim does not count its final
 * drain; its golden runs' totals follow the reads). Agrees with SCALE-Sim's USER-bandwidth goldens
 * within 2% (test/sim/scalesim.test.ts); it is not a cycle-exact replay of its traces.
 */
function scaleSimTraffic(df: Dataflow, g: Gemm, a: ArrayDims, hw: Hardware, computeCycles: number): GemmTraffic {
  const traffic = df.traffic(g, a);
  const { input, weight, output } = traffic;
  const perCycle = dramBytesPerCycle(hw) / hw.word_bytes;
  const boundaries: { at: number; ready: number }[] = [];
  const dramReads = (op: StreamedOperand, sramKb: number): number => {
    const half = halfBufferElems(sramKb, hw.word_bytes); // the active half of this operand's SRAM
    if (op.elements <= half) return op.elements;
    const sweeps = op.reuseSet <= half ? 1 : op.passes;
    const chunks = sweeps * Math.ceil(op.elements / half);
    const chunkCycles = Number.isFinite(perCycle) ? Math.ceil(half / perCycle) : 0;
    for (let i = 1; i < chunks; i++) boundaries.push({ at: (i * computeCycles) / chunks, ready: (2 * i + 1) * chunkCycles });
    return half * 2 * chunks;
  };
  const dram = {
    inputReads: dramReads(input, hw.sram_kb.input),
    weightReads: dramReads(weight, hw.sram_kb.weight),
    outputReads: 0,
    outputWrites: output.elements,
  };
  boundaries.sort((x, y) => x.at - y.at);
  let stall = 0;
  for (const b of boundaries) {
    const late = b.ready - (b.at + stall);
    if (late > 0) stall += 2 * late;
  }
  return {
    sram: sramTraffic(traffic),
    dram,
    dramBytes: (dram.inputReads + dram.weightReads + dram.outputWrites) * hw.word_bytes,
    stallCycles: Math.round(stall),
  };
}
