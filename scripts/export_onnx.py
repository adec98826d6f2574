"""Exports the model family: one ONNX file per effort (skipped attention modules are
absent from the graph), the Phase 1 analysis variant, the bundled sample images,
the preprocessing reference fixture and manifest.json.

  /usr/bin/python3 scripts/export_onnx.py --train build/train --out models/fmnist-vit \
      [--paths models/fmnist-vit/paths.json]

Masks come from paths.json (written by `pivot paths`); without it, a provisional
deepest-first mask is used for each effort. Weights per effort come from
<train>/efforts*.pt (scripts/finetune_efforts.py) when present, else from base.pt.
"""
import os

# OpenBLAS threads beyond torch's own pool only add spin time on small GEMMs (measured: 2 cores).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import struct
import zlib
from pathlib import Path

import torch

from pivot_vit import (FMNIST_LABELS, FMNIST_MEAN, FMNIST_STD, PivotViT, evaluate, load_split, to_input)

SAMPLES_PER_CLASS = 60


def slug(label):
    return "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-").replace("--", "-")


def write_png_gray(path, pixels_u8):
    """Minimal 8-bit grayscale PNG writer (the only image format the exporter needs)."""
    h, w = pixels_u8.shape
    raw = b"".join(b"\x00" + bytes(pixels_u8[y].tolist()) for y in range(h))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    path.write_bytes(png)


def macs(arch, active):
    t, d, r = arch["tokens"], arch["dim"], arch["mlp_ratio"]
    p, c = arch["patch"], arch["channels"]
    total = t * p * p * c * d + d * arch["classes"]
    for on in active:
        if on:
            total += t * d * 3 * d + 2 * t * t * d + t * d * d
        total += 2 * t * d * int(d * r)
    return int(total)


def deepest_first(depth, effort):
    """Provisional path: keep the first `effort` attentions (the paper finds deep ones most redundant)."""
    return [1 if i < effort else 0 for i in range(depth)]


class EffortGraph(torch.nn.Module):
    def __init__(self, model, mask):
        super().__init__()
        self.model, self.mask = model, mask

    def forward(self, x):
        return self.model(x, self.mask)


class AnalysisGraph(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x, gate):
        return self.model.forward_taps(x, gate)


def export(module, args, path, input_names, output_names):
    dynamic = {n: {0: "batch"} for n in input_names[:1] + output_names}
    torch.onnx.export(module, args, str(path), input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic, opset_version=17, do_constant_folding=True)


def export_analysis(model, depth, out):
    """The Phase 1 variant: attn_gate input and the residual-stream taps as extra outputs."""
    mlp_names = [f"mlp_{i}" for i in range(depth + 1)]
    attn_names = [f"attn_{j}" for j in range(1, depth + 1)]
    export(AnalysisGraph(model), (torch.zeros(1, 1, 28, 28), torch.ones(depth)), out / "analysis.onnx",
           ["pixel_values", "attn_gate"], ["logits", *mlp_names, *attn_names])
    return mlp_names, attn_names


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", default="build/train")
    ap.add_argument("--out", default="models/fmnist-vit")
    ap.add_argument("--paths", default=None)
    ap.add_argument("--fixtures", default="test/fixtures")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--base-only", action="store_true",
                    help="export only the full effort and the analysis graph from base.pt: the family "
                         "`pivot paths` needs before the efforts are fine-tuned")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    train_dir, out = Path(args.train), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base = torch.load(train_dir / "base.pt")
    arch = dict(base["arch"])
    model = PivotViT(**arch)
    model.load_state_dict(base["model"])
    model.eval()
    depth = arch["depth"]
    arch["tokens"] = model.tokens

    tuned = {}
    for tuned_path in [] if args.base_only else sorted(train_dir.glob("efforts*.pt")):
        tuned.update(torch.load(tuned_path))
    paths = json.loads(Path(args.paths).read_text()) if args.paths else None
    masks = {e["effort"]: e["active"] for e in paths["efforts"]} if paths else {}
    scores = {e["effort"]: e.get("score") for e in paths["efforts"]} if paths else {}

    test_x, test_y = load_split("test")

    # Bundled sample: the first SAMPLES_PER_CLASS test images of each class.
    sample_idx = []
    sample_dir = out / "samples"
    for c, label in enumerate(FMNIST_LABELS):
        idx = (test_y == c).nonzero().flatten()[:SAMPLES_PER_CLASS].tolist()
        sample_idx += idx
        (sample_dir / slug(label)).mkdir(parents=True, exist_ok=True)
        for i in idx:
            write_png_gray(sample_dir / slug(label) / f"test-{i:05d}.png", test_x[i])
    sample_idx = torch.tensor(sorted(sample_idx))
    sample_x, sample_y = test_x[sample_idx], test_y[sample_idx]

    # Preprocessing reference: the training transform applied to one sample's pixels.
    fixtures = Path(args.fixtures)
    fixtures.mkdir(parents=True, exist_ok=True)
    ref_i = int(sample_idx[0])
    ref_label = FMNIST_LABELS[int(test_y[ref_i])]
    write_png_gray(fixtures / "reference-28x28.png", test_x[ref_i])
    (fixtures / "preprocess-reference.json").write_text(json.dumps({
        "image": "reference-28x28.png", "label": ref_label, "source": f"Fashion-MNIST test image {ref_i}",
        "shape": [1, 1, 28, 28], "values": [round(v, 7) for v in to_input(test_x[ref_i:ref_i + 1]).flatten().tolist()],
    }))

    efforts = []
    for effort in [depth] if args.base_only else range(depth + 1):
        mask = masks.get(effort, deepest_first(depth, effort))
        m = PivotViT(**base["arch"])
        m.load_state_dict(tuned.get(effort, base["model"]))
        m.eval()
        file = f"effort-{effort}.onnx"
        export(EffortGraph(m, mask), (torch.zeros(1, 1, 28, 28),), out / file, ["pixel_values"], ["logits"])
        acc_test = evaluate(m, test_x, test_y, mask)
        acc_sample = evaluate(m, sample_x, sample_y, mask)
        entry = {"effort": effort, "active": mask, "file": file, "macs": macs(arch, mask),
                 "accuracy": {"test": round(acc_test, 4), "sample": round(acc_sample, 4)}}
        if scores.get(effort) is not None:
            entry["path_score"] = scores[effort]
        efforts.append(entry)
        print(json.dumps(entry), flush=True)

    mlp_names, attn_names = export_analysis(model, depth, out)
    base_accuracy = {"test": round(evaluate(model, test_x, test_y), 4),
                     "sample": round(evaluate(model, sample_x, sample_y), 4)}

    manifest = {
        "$schema": "../../deploy/schemas/manifest.schema.json",
        "format": "pivot-edge/manifest@1",
        "name": "fmnist-vit",
        "input": {"name": "pixel_values", "shape": [-1, 1, 28, 28], "layout": "NCHW", "dtype": "float32"},
        "output": {"name": "logits"},
        "preprocess": {"resize": {"width": 28, "height": 28, "fit": "fill", "kernel": "lanczos3"},
                       "channels": 1, "mean": [FMNIST_MEAN], "std": [FMNIST_STD]},
        "labels": FMNIST_LABELS,
        "architecture": {**arch, "pooling": "mean", "stem": f"conv{arch['patch']}x{arch['patch']}/{arch['patch']}"},
        "efforts": efforts,
        "analysis": {"file": "analysis.onnx", "gate_input": "attn_gate", "mlp_outputs": mlp_names,
                     "attn_outputs": attn_names, "accuracy": base_accuracy},
        "samples": "samples",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {out / 'manifest.json'}")


if __name__ == "__main__":
    main()
