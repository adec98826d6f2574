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
import type { ArrayDims, Dataflow, Gemm, StreamedOperand } from './dataflow/index.js';
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

export function gemmTraffic(df: Dataflow, g: Gemm, a: ArrayDims, hw: Hardware, computeCycles: number): GemmTraffic {
  const { input, weight, output } = df.traffic(g, a);
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
    sram: {
      inputReads: input.elements * input.passes,
      weightReads: weight.elements * weight.passes,
      outputWrites: output.elements * output.passes,
    },
    dram,
    dramBytes,
    stallCycles: Math.max(0, transferCycles - computeCycles),
  };
}
