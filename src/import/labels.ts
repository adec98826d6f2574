/**
 * Class labels for an imported model: a text file (one label per line, in class-index
 * order), a Hugging Face config.json (id2label), the calibration folder's class subfolders
 * in sorted order (torchvision's ImageFolder convention), or class_0..class_N-1.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { readFailure } from '../util/files.js';

export interface Labels {
  labels: string[];
  /** Where they came from, for the log and the model card. */
  source: string;
}

/** Reads --labels (labels.txt or config.json with id2label) and checks it names exactly `classes` classes. */
export function readLabels(path: string, classes: number): Labels {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--labels: ${path}: ${readFailure(err)}`, { cause: err });
  }
  let labels: string[];
  if (path.endsWith('.json')) {
    let id2label: unknown;
    try {
      id2label = (JSON.parse(text) as { id2label?: unknown }).id2label;
    } catch (err) {
      throw new ConfigError(`--labels: ${path}: not valid JSON (${(err as Error).message})`, { cause: err });
    }
    if (!id2label || typeof id2label !== 'object')
      throw new ConfigError(`--labels: ${path}: has no id2label object (a Hugging Face config.json has one)`);
    const map = id2label as Record<string, unknown>;
    labels = Array.from({ length: classes }, (_, i) => {
      const label = map[String(i)];
      if (typeof label !== 'string' || !label) throw new ConfigError(`--labels: ${path}: id2label has no label for class ${i}`);
      return label;
    });
    if (Object.keys(map).length !== classes)
      throw new ConfigError(`--labels: ${path}: id2label has ${Object.keys(map).length} entries, the model has ${classes} classes`);
  } else {
    labels = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (labels.length !== classes)
      throw new ConfigError(`--labels: ${path}: has ${labels.length} labels, the model has ${classes} classes`);
  }
  if (new Set(labels).size !== labels.length) throw new ConfigError(`--labels: ${path}: a label is listed twice`);
  return { labels, source: path };
}

/** Visible subfolder names of `dir`, sorted. */
export function classFolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** Labels when --labels is not given: the calibration class folders if there is one per class, else class_<i>. */
export function defaultLabels(calib: string, classes: number): Labels {
  const folders = classFolders(calib);
  if (folders.length === classes)
    return { labels: folders, source: `${calib} class folders (sorted, as torchvision's ImageFolder numbers them)` };
  return { labels: Array.from({ length: classes }, (_, i) => `class_${i}`), source: 'none given (class_<index>)' };
}
