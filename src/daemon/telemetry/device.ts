/**
 * Host readings for the telemetry message (systeminformation). Each reading is independent:
 * one that fails leaves its fields null (never a made-up 0) and the others still count.
 */
import * as si from 'systeminformation';

export interface DeviceStats {
  /** CPU load in % (0-100) since the previous reading (since boot on the first); null when it could not be read. */
  cpu_load_percent: number | null;
  /** CPU temperature in °C; null when the board has no sensor or it reports nothing. */
  cpu_temp_c: number | null;
  /** Memory in use by processes (total minus available: page cache not counted); null when it could not be read. */
  mem_used_bytes: number | null;
  mem_total_bytes: number | null;
}

/** Which readings failed and why, for the caller to log. */
export interface DeviceReading {
  stats: DeviceStats;
  /** `reading` names what failed: 'cpu load', 'cpu temperature', 'memory'. */
  failures: { reading: string; reason: string }[];
}

const finiteOrNull = (value: number | null | undefined): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null;

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
    const [load, temp, mem] = await Promise.allSettled([
      si.currentLoad(),
      this.hasTemperature ? si.cpuTemperature() : Promise.resolve(undefined),
      si.mem(),
    ]);
    const failures: DeviceReading['failures'] = [];
    const value = <T>(result: PromiseSettledResult<T>, reading: string): T | undefined => {
      if (result.status === 'fulfilled') return result.value;
      failures.push({ reading, reason: reason(result.reason) });
      return undefined;
    };
    const loadData = value(load, 'cpu load');
    const tempData = value(temp, 'cpu temperature');
    const memData = value(mem, 'memory');
    const cpuLoad = finiteOrNull(loadData?.currentLoad);
    const cpu_temp_c = temperature(tempData?.main);
    if (temp.status === 'fulfilled' && tempData && cpu_temp_c === null) this.hasTemperature = false;
    return {
      stats: {
        cpu_load_percent: cpuLoad === null ? null : Math.min(100, Math.max(0, cpuLoad)),
        cpu_temp_c,
        mem_used_bytes: finiteOrNull(memData?.active),
        mem_total_bytes: finiteOrNull(memData?.total),
      },
      failures,
    };
  }
}

const shared = new DeviceReader();

/** One reading of the host; failed readings are null (use DeviceReader to learn which failed). */
export async function readDevice(): Promise<DeviceStats> {
  return (await shared.read()).stats;
}
