/**
 * Host readings for the telemetry message (systeminformation). Each reading is independent:
 * one that fails leaves its fields at null/0 and the others still count.
 */
import * as si from 'systeminformation';

export interface DeviceStats {
  /** CPU load in % (0-100) since the previous reading (since boot on the first). */
  cpu_load_percent: number;
  /** CPU temperature in °C; null when the board has no sensor or it reports nothing. */
  cpu_temp_c: number | null;
  /** Memory in use by processes (total minus available: page cache not counted). */
  mem_used_bytes: number;
  mem_total_bytes: number;
}

/** Which readings failed and why, for the caller to log. */
export interface DeviceReading {
  stats: DeviceStats;
  /** `reading` names what failed: 'cpu load', 'cpu temperature', 'memory'. */
  failures: { reading: string; reason: string }[];
}

const finiteOr = (value: number | null | undefined, fallback: number): number => (typeof value === 'number' && Number.isFinite(value) ? value : fallback);

/** systeminformation reports a missing sensor as null, NaN or -1. */
function temperature(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value !== -1 ? value : null;
}

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Reads the host. Keeps one piece of state: a board whose first temperature reading is
 * empty has no sensor, so later readings skip the probe (it spawns shells on Linux).
 */
export class DeviceReader {
  private hasTemperature = true;

  async read(): Promise<DeviceReading> {
    const [load, temp, mem] = await Promise.allSettled([si.currentLoad(), this.hasTemperature ? si.cpuTemperature() : Promise.resolve(undefined), si.mem()]);
    const failures: DeviceReading['failures'] = [];
    const value = <T>(result: PromiseSettledResult<T>, reading: string): T | undefined => {
      if (result.status === 'fulfilled') return result.value;
      failures.push({ reading, reason: reason(result.reason) });
      return undefined;
    };
    const loadData = value(load, 'cpu load');
    const tempData = value(temp, 'cpu temperature');
    const memData = value(mem, 'memory');
    const cpu_temp_c = temperature(tempData?.main);
    if (temp.status === 'fulfilled' && tempData && cpu_temp_c === null) this.hasTemperature = false;
    return {
      stats: {
        cpu_load_percent: Math.min(100, Math.max(0, finiteOr(loadData?.currentLoad, 0))),
        cpu_temp_c,
        mem_used_bytes: finiteOr(memData?.active, 0),
        mem_total_bytes: finiteOr(memData?.total, 0),
      },
      failures,
    };
  }
}

const shared = new DeviceReader();

/** One reading of the host; failed readings are null/0 (use DeviceReader to learn which failed). */
export async function readDevice(): Promise<DeviceStats> {
  return (await shared.read()).stats;
}
