#!/usr/bin/env bash
# Rebuilds models/fmnist-vit from scratch: base training, Phase 1 path selection
# (`pivot paths`, TypeScript), per-effort fine-tuning, ONNX export. Needs Debian's
# python3-torch and dataset-fashion-mnist, and `npm ci` done. About 1.5 h on 2 cores.
# Every step checkpoints under build/train, so a stopped run resumes where it was.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3          # Debian's interpreter, which has torch
OUT=${OUT:-models/fmnist-vit}
TRAIN=${TRAIN:-build/train}

(cd scripts && $PY train_base.py --out "../$TRAIN" --epochs 12 --augment-epochs 7 --threads 1)
# Phase 1 runs on the base model (full effort + analysis graph) before any fine-tuning.
(cd scripts && $PY export_onnx.py --train "../$TRAIN" --out "../$TRAIN/base-family" --fixtures "../$TRAIN/base-family" --base-only)
mkdir -p "$OUT"
npx tsx src/cli/index.ts paths --model "$TRAIN/base-family" --out "$OUT" --random-paths 12
(cd scripts && $PY finetune_efforts.py --train "../$TRAIN" --paths "../$OUT/paths.json" --epochs 1 --no-augment)
(cd scripts && $PY export_onnx.py --train "../$TRAIN" --out "../$OUT" --paths "../$OUT/paths.json" --fixtures ../test/fixtures)
