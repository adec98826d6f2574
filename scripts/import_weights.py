"""Reads an exported model family (manifest.json + ONNX files, as export_onnx.py writes it)
back into training checkpoints, so a shipped family can be fine-tuned further:

- <train>/base.pt from the analysis graph (the base model Phase 1 ran on),
- <train>/<name>.pt with every effort's weights (what finetune_efforts.py --init reads).

  /usr/bin/python3 scripts/import_weights.py --family models/fmnist-vit --train build/train --name efforts-v1
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
from pathlib import Path

import torch

from pivot_vit import PivotViT, state_from_onnx

ARCH_KEYS = ("image", "patch", "channels", "dim", "depth", "heads", "mlp_ratio", "classes")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", default="models/fmnist-vit")
    ap.add_argument("--train", default="build/train")
    ap.add_argument("--name", default="efforts-imported")
    args = ap.parse_args()

    family, train_dir = Path(args.family), Path(args.train)
    train_dir.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((family / "manifest.json").read_text())
    model = PivotViT(**{k: manifest["architecture"][k] for k in ARCH_KEYS})
    base = state_from_onnx(family / manifest["analysis"]["file"])
    model.load_state_dict(base)
    torch.save({"model": model.state_dict(), "arch": model.arch, "epoch": 0, "history": [],
                "imported_from": str(family)}, train_dir / "base.pt")
    efforts = {}
    for e in manifest["efforts"]:
        model.load_state_dict(state_from_onnx(family / e["file"], e["active"], base))
        efforts[e["effort"]] = {k: v.clone() for k, v in model.state_dict().items()}
    torch.save(efforts, train_dir / f"{args.name}.pt")
    print(f"wrote {train_dir / 'base.pt'} and {train_dir / (args.name + '.pt')} ({len(efforts)} efforts)")


if __name__ == "__main__":
    main()
