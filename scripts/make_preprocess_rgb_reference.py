"""Makes the RGB preprocessing fixture: a synthetic 400x300 photo-like PNG (gradients, hard and
soft edges, fine stripes, sensor-like noise) and the tensors torchvision's transforms make of it,
for the recipes an imported model's preprocessing comes in. test/preprocess/rgb-reference.test.ts
compares src/preprocess's tensors with them.

  /usr/bin/python3 scripts/make_preprocess_rgb_reference.py [--out test/fixtures/preprocess-rgb]

Each reference is float32 little-endian NCHW [1, 3, 224, 224], gzipped, described in reference.json.
"""
import argparse
import gzip
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter
from torchvision import transforms as T

IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
I = T.InterpolationMode

# name -> (torchvision transform, the same recipe as pivot-edge's manifest preprocess block)
RECIPES = {
    # DeiT / timm evaluation: shorter side to 256 (bicubic), center crop 224.
    "deit-bicubic-256-crop-224": (
        T.Compose([T.Resize(256, interpolation=I.BICUBIC), T.CenterCrop(224), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]),
        {"resize": {"width": 224, "height": 224, "fit": "cover", "kernel": "cubic", "crop_from": {"shortest_edge": 256}},
         "channels": 3, "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
    ),
    # torchvision's default Resize (bilinear), shorter side straight to the grid: fit = cover.
    "bilinear-cover-224": (
        T.Compose([T.Resize(224, interpolation=I.BILINEAR), T.CenterCrop(224), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]),
        {"resize": {"width": 224, "height": 224, "fit": "cover", "kernel": "linear"},
         "channels": 3, "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
    ),
    # Hugging Face ViT: stretch to 224x224 (bilinear), mean = std = 0.5.
    "vit-bilinear-fill-224": (
        T.Compose([T.Resize((224, 224), interpolation=I.BILINEAR), T.ToTensor(), T.Normalize([0.5] * 3, [0.5] * 3)]),
        {"resize": {"width": 224, "height": 224, "fit": "fill", "kernel": "linear"},
         "channels": 3, "mean": [0.5] * 3, "std": [0.5] * 3},
    ),
    # Nearest neighbour has no filter to disagree on: this one checks the crop geometry exactly.
    "nearest-256-crop-224": (
        T.Compose([T.Resize(256, interpolation=I.NEAREST), T.CenterCrop(224), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]),
        {"resize": {"width": 224, "height": 224, "fit": "cover", "kernel": "nearest", "crop_from": {"shortest_edge": 256}},
         "channels": 3, "mean": IMAGENET_MEAN, "std": IMAGENET_STD},
    ),
}


def synthetic_photo(width=400, height=300, seed=9):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([255 * x / width, 255 * y / height, 128 + 100 * np.sin(x / 23.0) * np.cos(y / 17.0)], -1)
    im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    draw.ellipse((40, 40, 170, 170), fill=(230, 40, 30))
    draw.ellipse((250, 120, 380, 280), fill=(20, 60, 200))
    draw.rectangle((180, 20, 240, 110), fill=(250, 250, 240))
    for i in range(0, 60, 6):
        draw.line((300, 10 + i, 390, 10 + i), fill=(0, 0, 0), width=2)
    im = im.filter(ImageFilter.GaussianBlur(0.8))
    noisy = np.asarray(im).astype(np.int16) + rng.normal(0, 3, (height, width, 3)).round().astype(np.int16)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="test/fixtures/preprocess-rgb")
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    synthetic_photo().save(out / "photo-400x300.png", optimize=True)
    image = Image.open(out / "photo-400x300.png").convert("RGB")
    described = {}
    for name, (transform, preprocess) in RECIPES.items():
        tensor = transform(image).unsqueeze(0).contiguous()
        file = f"{name}.f32.gz"
        (out / file).write_bytes(gzip.compress(tensor.numpy().astype("<f4").tobytes(), mtime=0))
        described[name] = {"file": file, "shape": list(tensor.shape), "transform": repr(transform), "preprocess": preprocess}
        print(name, list(tensor.shape))
    (out / "reference.json").write_text(json.dumps({"image": "photo-400x300.png", "recipes": described}, indent=2) + "\n")


if __name__ == "__main__":
    main()
