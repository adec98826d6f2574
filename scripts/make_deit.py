"""Builds paper-scale ViTs for `pivot import` and `pivot bench`: torchvision VisionTransformers
shaped like DeiT-S (depth 12, dim 384, 6 heads, 22 M parameters) and DeiT-T (dim 192, 3 heads),
224x224 RGB, patch 16, class token, 1000 classes, with random weights (latency does not depend
on them), exported to ONNX (opset 17, dynamic batch). Not committed: about 90 MB for DeiT-S.

  /usr/bin/python3 scripts/make_deit.py [--out build/deit] [--models deit-s,deit-t] [--calib 256]

(`--models tiny --calib 0 --out test/fixtures/finetune` makes the 3-block test model committed there.)

Writes, per model: <name>.onnx, <name>.pt (torchvision constructor arguments + state dict, for
scripts/finetune_imported.py); once: preprocessor_config.json (DeiT's evaluation transform:
shorter side 256 bicubic, center crop 224, ImageNet mean/std), labels.txt (Fashion-MNIST's class
names for outputs 0..9, class-k for the rest) and calib/ (Fashion-MNIST test images as RGB PNGs
in class folders named like those labels, for --calib and fine-tuning).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from torchvision.io import write_png
from torchvision.models.vision_transformer import VisionTransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pivot_vit import FMNIST_LABELS, load_split  # noqa: E402

SHAPES = {
    "deit-s": dict(image_size=224, patch_size=16, num_layers=12, num_heads=6, hidden_dim=384, mlp_dim=1536, num_classes=1000),
    "deit-t": dict(image_size=224, patch_size=16, num_layers=12, num_heads=3, hidden_dim=192, mlp_dim=768, num_classes=1000),
    # The fine-tuning test's model (test/fixtures/finetune): the same code path in a second.
    "tiny": dict(image_size=32, patch_size=8, num_layers=3, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=3),
}
PREPROCESSOR = {
    "image_processor_type": "DeiTImageProcessor",
    "do_resize": True,
    "size": {"shortest_edge": 256},
    "resample": 3,
    "do_center_crop": True,
    "crop_size": {"height": 224, "width": 224},
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.485, 0.456, 0.406],
    "image_std": [0.229, 0.224, 0.225],
}


def build(shape, seed):
    torch.manual_seed(seed)
    model = VisionTransformer(**shape)
    # torchvision zero-initialises the head: give it DeiT's init so logits (and entropies) differ per image.
    torch.nn.init.trunc_normal_(model.heads.head.weight, std=0.02)
    torch.nn.init.trunc_normal_(model.class_token, std=0.02)
    return model.eval()


def slug(label):
    return label.lower().replace("/", "-").replace(" ", "-")


def write_labels(path, classes):
    """Fashion-MNIST's 10 class names for outputs 0..9 (so calib/ is labelled), class-k for the rest."""
    path.write_text("".join(f"{slug(FMNIST_LABELS[k]) if k < len(FMNIST_LABELS) else f'class-{k}'}\n" for k in range(classes)))


def write_calib(out, count):
    """`count` Fashion-MNIST test images as 28x28 RGB PNGs, one folder per class."""
    images, labels = load_split("test")
    for i in range(count):
        folder = out / slug(FMNIST_LABELS[int(labels[i])])
        folder.mkdir(parents=True, exist_ok=True)
        write_png(images[i].unsqueeze(0).expand(3, -1, -1).contiguous(), str(folder / f"test-{i:05d}.png"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="build/deit")
    ap.add_argument("--models", default="deit-s,deit-t", help=f"comma-separated, from {', '.join(SHAPES)}")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--calib", type=int, default=256, help="calibration images to write (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    for name in args.models.split(","):
        if name not in SHAPES:
            ap.error(f"--models: unknown model {name!r} (known: {', '.join(SHAPES)})")
        t0 = time.time()
        model = build(SHAPES[name], args.seed)
        params = sum(p.numel() for p in model.parameters())
        torch.save({"arch": SHAPES[name], "model": model.state_dict()}, out / f"{name}.pt")
        path = out / f"{name}.onnx"
        size = SHAPES[name]["image_size"]
        torch.onnx.export(model, (torch.zeros(1, 3, size, size),), str(path), input_names=["pixel_values"],
                          output_names=["logits"], dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=args.opset, do_constant_folding=True)
        print(json.dumps({"model": name, "file": str(path), "params": params, "bytes": path.stat().st_size,
                          "seconds": round(time.time() - t0, 1)}), flush=True)

    if any(name.startswith("deit") for name in args.models.split(",")):
        (out / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR, indent=2) + "\n")
        write_labels(out / "labels.txt", 1000)
    if args.calib:
        write_calib(out / "calib", args.calib)
        print(f"wrote {args.calib} calibration images to {out / 'calib'}")


if __name__ == "__main__":
    main()
