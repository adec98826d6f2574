#!/usr/bin/env bash
# Rebuilds models/fmnist-vit from scratch, in the order the shipped files were made:
#   1. v1: a 4-head base (18 epochs), its full effort fine-tuned 8 more epochs;
#   2. the 8-head base, warm-started from v1's full effort (each old head split in two), 14 epochs;
#   3. 12 more epochs of it on plain images (a fresh cosine schedule at lr 5e-4): the shipped base;
#   4. Phase 1 (`pivot paths`, TypeScript) on that base, per-effort fine-tuning, ONNX export;
#   5. longer fine-tuning of efforts 1-5.
# Needs Debian's python3-torch and dataset-fashion-mnist, and `npm ci` done. About 8 h on 2 idle
# cores. Every step checkpoints under build/, so a stopped run resumes where it was. Seeds are
# fixed. See models/README.md for what was actually run and how close a rerun lands.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3          # Debian's interpreter, which has torch
OUT=${OUT:-models/fmnist-vit}
B=${BUILD:-build}
base() { (cd scripts && $PY train_base.py --threads 1 "$@"); }
export_base() { (cd scripts && $PY export_onnx.py --train "../$1" --out "../$1/base-family" --fixtures "../$1/base-family" --base-only); }

# 1. v1 (4 heads): base, then its full effort trained on (L_CE + 0.2 L_En, no distillation).
base --out "../$B/train" --epochs 18 --augment-epochs 7
export_base "$B/train"
v1() { (cd scripts && $PY finetune_efforts.py --train "../$B/train" --paths "../$B/train/base-family/paths.json" --no-augment "$@"); }
[ -f "$B/train/base-family/paths.json" ] || npx tsx src/cli/index.ts paths --model "$B/train/base-family" --out "$B/train/base-family"
v1 --efforts 6 --epochs 3 --lr 1e-3 --distill 0 --name efforts-full
v1 --efforts 6 --epochs 5 --lr 7e-4 --distill 0 --init efforts-full --name efforts-full2
(cd scripts && $PY export_onnx.py --train "../$B/train" --out "../$B/train/v1-family" --paths "../$B/train/base-family/paths.json" --fixtures "../$B/train/v1-family")

# 2. The 8-head base, warm-started from v1's full effort.
base --out "../$B/train-v2" --heads 8 --init "../$B/train/v1-family/effort-6.onnx" --epochs 14 --augment-epochs 10 --lr 1e-3
export_base "$B/train-v2"

# 3. 12 more epochs on plain images: the shipped base model.
base --out "../$B/train-v3" --heads 8 --init "../$B/train-v2/base-family/effort-6.onnx" --epochs 12 --no-augment --lr 5e-4 --seed 1
export_base "$B/train-v3"

# 4. Phase 1 on the shipped base, then the efforts: L_CE + L_Distill (features) + KD (logits) + L_En.
mkdir -p "$OUT"
npx tsx src/cli/index.ts paths --model "$B/train-v3/base-family" --out "$OUT" --random-paths 12
tune() { (cd scripts && $PY finetune_efforts.py --train "../$B/train-v3" --paths "../$OUT/paths.json" --no-augment --threads 1 "$@"); }
tune --efforts 1 --epochs 6 --kd 1 --entropy 0.5 --name efforts-k1
tune --efforts 2,3,4,5 --epochs 1 --kd 1 --name efforts-k2
tune --efforts 0 --epochs 2 --kd 1 --entropy 0.5 --name efforts-k0
# Efforts 2 and 3 four more epochs each, so no effort is less accurate than the one below it.
tune --efforts 2 --epochs 4 --kd 1 --init efforts-k2 --name efforts-k3-2
tune --efforts 3 --epochs 4 --kd 1 --init efforts-k2 --name efforts-k3-3
# 5. Longer fine-tuning at lr 3e-4 from those checkpoints: effort 1 (the deployed low effort)
#    12 more epochs, efforts 2-5 six more each. export_onnx.py merges efforts*.pt in name order,
#    so these later checkpoints replace the earlier ones.
tune --efforts 1 --epochs 12 --kd 1 --entropy 0.5 --lr 3e-4 --init efforts-k1 --name efforts-k1b
tune --efforts 2 --epochs 6 --kd 1 --entropy 0.5 --lr 3e-4 --init efforts-k3-2 --name efforts-k4-2
tune --efforts 3 --epochs 6 --kd 1 --entropy 0.5 --lr 3e-4 --init efforts-k3-3 --name efforts-k4-3
tune --efforts 4 --epochs 6 --kd 1 --entropy 0.5 --lr 3e-4 --init efforts-k2 --name efforts-k4-4
tune --efforts 5 --epochs 6 --kd 1 --entropy 0.5 --lr 3e-4 --init efforts-k2 --name efforts-k4-5
(cd scripts && $PY export_onnx.py --train "../$B/train-v3" --out "../$OUT" --paths "../$OUT/paths.json" --fixtures ../test/fixtures)
