#!/usr/bin/env bash
# Rebuilds models/fmnist-vit from scratch: base training, Phase 1 path selection
# (`pivot paths`, TypeScript), per-effort fine-tuning, ONNX export. Needs Debian's
# python3-torch and dataset-fashion-mnist, and `npm ci` done. About 2.5 h on 2 idle cores.
# Every step checkpoints under build/train, so a stopped run resumes where it was.
# Seeds are fixed (0 everywhere). The fine-tuning commands are the recorded ones behind the
# shipped files; the base schedule is the recorded one run as a single schedule (see
# models/README.md for how close a rerun lands).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3          # Debian's interpreter, which has torch
OUT=${OUT:-models/fmnist-vit}
TRAIN=${TRAIN:-build/train}
tune() { (cd scripts && $PY finetune_efforts.py --train "../$TRAIN" --paths "../$OUT/paths.json" "$@"); }

(cd scripts && $PY train_base.py --out "../$TRAIN" --epochs 18 --augment-epochs 7 --threads 1)
# Phase 1 runs on the base model (full effort + analysis graph) before any fine-tuning.
(cd scripts && $PY export_onnx.py --train "../$TRAIN" --out "../$TRAIN/base-family" --fixtures "../$TRAIN/base-family" --base-only)
mkdir -p "$OUT"
npx tsx src/cli/index.ts paths --model "$TRAIN/base-family" --out "$OUT" --random-paths 12
# Checkpoints named later in sort order win when export_onnx.py merges efforts*.pt.
tune --efforts 1,2,3,4,5 --epochs 1 --no-augment --name efforts-b
tune --efforts 0 --epochs 1 --no-augment --name efforts-a
tune --efforts 6 --epochs 3 --lr 1e-3 --distill 0 --no-augment --name efforts-full
tune --efforts 6 --epochs 5 --lr 7e-4 --distill 0 --no-augment --init efforts-full --name efforts-full2
tune --efforts 1 --epochs 3 --entropy 0.3 --no-augment --init efforts-b --name efforts-c
tune --efforts 1 --epochs 3 --lr 4e-4 --entropy 0.6 --no-augment --init efforts-c --name efforts-e
tune --efforts 1 --epochs 3 --lr 4e-4 --entropy 1.0 --no-augment --init efforts-e --name efforts-g
(cd scripts && $PY export_onnx.py --train "../$TRAIN" --out "../$OUT" --paths "../$OUT/paths.json" --fixtures ../test/fixtures)
