/** hw.yaml validation: readable ConfigErrors that name the field. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { isCpuDevice, loadHardware, parseHardware, ZCU102 } from '../../src/sim/hardware.js';

const dir = mkdtempSync(join(tmpdir(), 'pivot-sim-hw-'));
function hwFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const rejects = (fn: () => unknown, ...patterns: RegExp[]) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });

describe('hardware config validation', () => {
  it('zero-sized array names array.rows', () => {
    const path = hwFile('zero.yaml', 'extends: zcu102\narray: { rows: 0, cols: 36 }\n');
    rejects(() => loadHardware(path), /zero\.yaml/, /array\.rows/);
  });

  it('unknown dataflow names dataflow and the allowed values', () => {
    const path = hwFile('df.yaml', 'extends: zcu102\ndataflow: rs\n');
    rejects(() => loadHardware(path), /dataflow/, /"os"/);
  });

  it('negative bandwidth names dram_bandwidth_gbps', () => {
    const path = hwFile('bw.yaml', 'extends: zcu102\ndram_bandwidth_gbps: -4\n');
    rejects(() => loadHardware(path), /dram_bandwidth_gbps/);
  });

  it('missing fields, unknown presets, bad YAML and missing files are ConfigErrors', () => {
    rejects(() => parseHardware({ name: 'x' }, 'inline'), /inline/, /array/);
    rejects(() => parseHardware({ extends: 'zcu999' }, 'inline'), /extends/, /zcu102/);
    rejects(() => loadHardware(hwFile('bad.yaml', 'array: [1, 2\n')), /not valid YAML/);
    rejects(() => loadHardware(join(dir, 'absent.yaml')), /no such file/);
  });

  it('extends a preset and overrides only what the file says', () => {
    const hw = loadHardware(
      hwFile('big.yaml', 'extends: zcu102\nname: big\narray: { rows: 128, cols: 128 }\ndram_bandwidth_gbps: ideal\n'),
    );
    assert.ok(!isCpuDevice(hw));
    assert.deepEqual(hw.array, { rows: 128, cols: 128 });
    assert.equal(hw.dram_bandwidth_gbps, 'ideal');
    assert.deepEqual(hw.host, ZCU102.host);
    assert.equal(loadHardware('ZCU102'), ZCU102);
  });
});

describe('hardware config typos', () => {
  it('a misspelt key is refused, not silently replaced by the preset value', () => {
    const path = hwFile('typo.yaml', 'extends: zcu102\ndram_bandwith_gbps: 2\n');
    rejects(() => loadHardware(path), /dram_bandwith_gbps/);
    rejects(() => parseHardware({ extends: 'zcu102', array: { rows: 8, colums: 8 } }, 'inline'), /colums/);
  });
});
