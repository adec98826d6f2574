/** A short description of this machine for reports and device profiles. */
import { cpus } from 'node:os';

export const deviceDescription = (): string => `${cpus()[0]?.model.trim() ?? 'unknown CPU'} (${cpus().length} cores)`;
