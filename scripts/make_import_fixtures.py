"""Builds the small ONNX graphs `pivot import` is tested on (test/fixtures/import/):

  /usr/bin/python3 scripts/make_import_fixtures.py [--out test/fixtures/import]

- tv-vit-opset{14,17}.onnx: torchvision's VisionTransformer (class token), random weights,
  exported with torch.onnx.export (LayerNorm is decomposed below opset 17); dynamic batch.
- tv-vit-fixed.onnx: the same model with a fixed batch of 1.
- tv-vit-reference.json: the architecture, three input tensors and PyTorch's logits for
  every attention mask (a skipped attention is bypassed: x + attn(ln(x)) becomes x).
- hf-vit.onnx + hf-config.json: a module laid out like Hugging Face's ViTForImageClassification
  (/vit/encoder/layer.N/... names, pixel_values in, logits out, opset 14), with its reference.
- mean-vit.onnx: this repository's PivotViT (mean pooling, no class token), with its reference.
- vit-features.onnx: a torchvision ViT without classifier (heads = Identity).
- cnn.onnx: a small CNN classifier (not a ViT).
- calib/<class>/*.png + labels.txt: random 32x32 RGB images in one folder per class.

Weights are random (seeded): only the graph structure and the arithmetic are under test.
The 2.x exporter is not needed; torch 1.13 exports up to opset 17, and onnx 1.12's version
converter cannot go to 18, so no opset-18 fixture is made here.
"""
import argparse
import itertools
import json
import math
import sys
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.io import write_png
from torchvision.models.vision_transformer import VisionTransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pivot_vit import PivotViT  # noqa: E402

TV = dict(image_size=32, patch_size=8, num_layers=4, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=5)
LABELS = ["apple", "bicycle", "cloud", "door", "eagle"]


def randomize(model, seed):
    """torchvision zero-initialises the head and class token: random values make every logit depend on every weight."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.3 if p.dim() > 1 else 0.1))
    return model.eval()


def tv_forward(model, x, mask):
    """torchvision VisionTransformer.forward with attention i skipped when mask[i] == 0."""
    x = model._process_input(x)
    x = torch.cat([model.class_token.expand(x.shape[0], -1, -1), x], dim=1)
    x = x + model.encoder.pos_embedding
    for on, layer in zip(mask, model.encoder.layers):
        if on:
            h = layer.ln_1(x)
            x = x + layer.self_attention(h, h, h, need_weights=False)[0]
        x = x + layer.mlp(layer.ln_2(x))
    x = model.encoder.ln(x)
    return model.heads(x[:, 0])


class HFSelfAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)

    def split(self, x):
        return x.view(x.size()[:-1] + (self.heads, self.head_dim)).permute(0, 2, 1, 3)

    def forward(self, h):
        q, k, v = self.split(self.query(h)), self.split(self.key(h)), self.split(self.value(h))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        ctx = torch.matmul(scores.softmax(dim=-1), v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size()[:-2] + (self.heads * self.head_dim,))


class HFSelfOutput(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dense = nn.Linear(dim, dim)

    def forward(self, h):
        return self.dense(h)


class HFAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.attention, self.output = HFSelfAttention(dim, heads), HFSelfOutput(dim)

    def forward(self, h):
        return self.output(self.attention(h))


class HFIntermediate(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.dense = nn.Linear(dim, hidden)

    def forward(self, h):
        return F.gelu(self.dense(h))


class HFOutput(nn.Module):
    def __init__(self, hidden, dim):
        super().__init__()
        self.dense = nn.Linear(hidden, dim)

    def forward(self, h, residual):
        return self.dense(h) + residual


class HFLayer(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.attention = HFAttention(dim, heads)
        self.intermediate, self.output = HFIntermediate(dim, hidden), HFOutput(hidden, dim)
        self.layernorm_before, self.layernorm_after = nn.LayerNorm(dim, eps=1e-12), nn.LayerNorm(dim, eps=1e-12)
        self.active = True

    def forward(self, h):
        if self.active:
            h = self.attention(self.layernorm_before(h)) + h
        return self.output(self.intermediate(self.layernorm_after(h)), h)


class HFPatchEmbeddings(nn.Module):
    def __init__(self, channels, dim, patch):
        super().__init__()
        self.projection = nn.Conv2d(channels, dim, patch, patch)

    def forward(self, x):
        return self.projection(x).flatten(2).transpose(1, 2)


class HFEmbeddings(nn.Module):
    def __init__(self, image, patch, channels, dim):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.patch_embeddings = HFPatchEmbeddings(channels, dim, patch)
        self.position_embeddings = nn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1, dim))

    def forward(self, x):
        e = self.patch_embeddings(x)
        return torch.cat((self.cls_token.expand(e.shape[0], -1, -1), e), dim=1) + self.position_embeddings


class HFEncoder(nn.Module):
    def __init__(self, depth, dim, heads, hidden):
        super().__init__()
        self.layer = nn.ModuleList(HFLayer(dim, heads, hidden) for _ in range(depth))

    def forward(self, h):
        for layer in self.layer:
            h = layer(h)
        return h


class HFViTModel(nn.Module):
    def __init__(self, image, patch, channels, dim, depth, heads, hidden):
        super().__init__()
        self.embeddings = HFEmbeddings(image, patch, channels, dim)
        self.encoder = HFEncoder(depth, dim, heads, hidden)
        self.layernorm = nn.LayerNorm(dim, eps=1e-12)

    def forward(self, x):
        return self.layernorm(self.encoder(self.embeddings(x)))


class HFViTForImageClassification(nn.Module):
    """Module names as in transformers' ViTForImageClassification, so the export's node names match optimum's."""

    def __init__(self, image=32, patch=8, channels=3, dim=32, depth=3, heads=4, hidden=128, classes=5):
        super().__init__()
        self.arch = dict(image=image, patch=patch, channels=channels, dim=dim, depth=depth, heads=heads,
                         mlp_ratio=hidden / dim, tokens=(image // patch) ** 2 + 1, classes=classes,
                         pooling="cls", stem=f"conv{patch}x{patch}/{patch}")
        self.vit = HFViTModel(image, patch, channels, dim, depth, heads, hidden)
        self.classifier = nn.Linear(dim, classes)

    def forward(self, pixel_values):
        return self.classifier(self.vit(pixel_values)[:, 0, :])

    def with_mask(self, mask):
        for on, layer in zip(mask, self.vit.encoder.layer):
            layer.active = bool(on)
        return self


class MaskedPivotViT(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)


class SmallCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = F.relu(self.c2(F.relu(self.c1(x))))
        return self.fc(x.mean(dim=(2, 3)))


def export(module, x, path, opset, in_name="x", out_name="logits", dynamic=True):
    axes = {in_name: {0: "batch"}, out_name: {0: "batch"}} if dynamic else None
    torch.onnx.export(module, (x,), str(path), input_names=[in_name], output_names=[out_name],
                      dynamic_axes=axes, opset_version=opset, do_constant_folding=True)


def reference(arch, inputs, logits_for, depth):
    masks = [list(m) for m in itertools.product([0, 1], repeat=depth)]
    with torch.no_grad():
        return {
            "architecture": arch,
            "input_shape": list(inputs.shape),
            "inputs": [round(v, 7) for v in inputs.flatten().tolist()],
            "logits": {"".join(map(str, m)): [round(v, 7) for v in logits_for(m).flatten().tolist()] for m in masks},
        }


def write_json(path, value):
    path.write_text(json.dumps(value, separators=(",", ":")) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="test/fixtures/import")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)

    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(1))

    tv = randomize(VisionTransformer(**TV), seed=2)
    for opset in (14, 17):
        export(tv, x[:1], out / f"tv-vit-opset{opset}.onnx", opset)
    export(tv, x[:1], out / "tv-vit-fixed.onnx", 17, dynamic=False)
    tv_arch = dict(image=32, patch=8, channels=3, dim=32, depth=4, heads=2, mlp_ratio=2.0, tokens=17, classes=5,
                   pooling="cls", stem="conv8x8/8")
    write_json(out / "tv-vit-reference.json", reference(tv_arch, x, lambda m: tv_forward(tv, x, m), 4))

    hf = randomize(HFViTForImageClassification(), seed=3)
    export(hf, x[:1], out / "hf-vit.onnx", 14, in_name="pixel_values")
    write_json(out / "hf-vit-reference.json", reference(hf.arch, x, lambda m: hf.with_mask(m)(x), 3))
    hf.with_mask([1, 1, 1])
    (out / "hf-config.json").write_text(json.dumps({
        "architectures": ["ViTForImageClassification"], "model_type": "vit", "image_size": 32, "patch_size": 8,
        "num_hidden_layers": 3, "hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 128,
        "id2label": {str(i): label for i, label in enumerate(LABELS)},
        "label2id": {label: i for i, label in enumerate(LABELS)}}, indent=2) + "\n")

    mean = randomize(PivotViT(image=32, patch=8, channels=3, dim=32, depth=3, heads=2, mlp_ratio=2.0, classes=5), seed=4)
    export(MaskedPivotViT(mean), x[:1], out / "mean-vit.onnx", 17, in_name="pixel_values")
    mean_arch = dict(mean.arch, tokens=16, pooling="mean", stem="conv8x8/8")
    write_json(out / "mean-vit-reference.json", reference(mean_arch, x, lambda m: mean(x, m), 3))

    features = randomize(VisionTransformer(**TV), seed=5)
    features.heads = nn.Identity()
    export(features, x[:1], out / "vit-features.onnx", 17, out_name="features")

    export(randomize(SmallCnn(), seed=6), x[:1], out / "cnn.onnx", 17)

    (out / "labels.txt").write_text("\n".join(LABELS) + "\n")
    g = torch.Generator().manual_seed(7)
    for c, label in enumerate(LABELS):
        folder = out / "calib" / label
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(4):
            # Smooth colour fields (upsampled 4x4 noise) plus a class-specific tint.
            base = torch.rand(3, 4, 4, generator=g) * 160
            img = F.interpolate(base[None], size=(32, 32), mode="bilinear", align_corners=False)[0]
            img[c % 3] += 60 + 10 * c
            write_png(img.clamp(0, 255).to(torch.uint8), str(folder / f"{label}-{i}.png"))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
