"""Fine-tunes the efforts of a family made by `pivot import` from a torchvision ViT, with the
paper's loss L_CE + L_Distill + L_En, and writes them back in place: effort-K.onnx (same input
and output names, opset and batch axis as the imported graph; skipped attention modules absent)
and the manifest's accuracy per effort.

- L_Distill: mean squared error between the student's and the teacher's (the checkpoint with
  every attention on) final-layer class-token features.
- L_En: mean normalized entropy of the correctly classified inputs (Eq. 3 of the paper).

Each effort named in the manifest (all but the full one, unless --efforts says otherwise) starts
from the checkpoint's weights and keeps the manifest's attention mask (Phase 1's optimal path).

  /usr/bin/python3 scripts/finetune_imported.py --family models/my-vit --checkpoint my-vit.pt \\
      --images data/train [--eval data/val] [--epochs 3]

--checkpoint: a torchvision VisionTransformer saved whole (torch.save(model)), its state_dict,
or {"model": state_dict} (what scripts/make_deit.py writes); its shape must match the manifest's
architecture. --images / --eval: one subfolder per class, named like the manifest's labels.
The images go through the manifest's preprocessing (torchvision transforms with the same resize,
crop, filter, mean and std as the runtime's sharp pipeline).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageOps
from torchvision import transforms as T
from torchvision.models.vision_transformer import VisionTransformer

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}
KERNELS = {"nearest": T.InterpolationMode.NEAREST, "linear": T.InterpolationMode.BILINEAR,
           "cubic": T.InterpolationMode.BICUBIC, "lanczos3": T.InterpolationMode.LANCZOS}
TORCH_MAX_OPSET = 17  # torch 1.13's exporter


def fail(message):
    sys.exit(f"finetune_imported: {message}")


# ---- the family and the checkpoint -------------------------------------------------------

def load_manifest(family):
    path = Path(family) / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        fail(f"{path}: {err}")
    arch = manifest["architecture"]
    if arch.get("pooling") != "cls" or arch["channels"] != 3:
        fail(f"{path}: architecture: a torchvision ViT has a class token and 3 input channels "
             f"(manifest says pooling {arch.get('pooling')}, {arch['channels']} channel(s))")
    return path, manifest


def build_model(arch):
    return VisionTransformer(image_size=arch["image"], patch_size=arch["patch"], num_layers=arch["depth"],
                             num_heads=arch["heads"], hidden_dim=arch["dim"],
                             mlp_dim=round(arch["dim"] * arch["mlp_ratio"]), num_classes=arch["classes"])


def load_checkpoint(path, arch):
    try:
        ckpt = torch.load(path, map_location="cpu")
    except Exception as err:  # torch raises several types for unreadable files
        fail(f"{path}: cannot load the checkpoint ({err})")
    if isinstance(ckpt, torch.nn.Module):
        state = ckpt.state_dict()
    elif isinstance(ckpt, dict) and isinstance(ckpt.get("model"), dict):
        state = ckpt["model"]
    elif isinstance(ckpt, dict) and isinstance(ckpt.get("state_dict"), dict):
        state = ckpt["state_dict"]
    else:
        state = ckpt
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    model = build_model(arch)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        fail(f"{path}: does not fit the manifest's architecture {arch}: "
             f"missing {missing[:4]}{'...' if len(missing) > 4 else ''}, unexpected {unexpected[:4]}")
    return model.eval()


# ---- the attention-skipping forward -------------------------------------------------------

def forward_features(model, x, mask):
    """torchvision's VisionTransformer.forward with attention i left out when mask[i] == 0;
    returns the logits and the final-layer class-token features."""
    x = model._process_input(x)
    x = torch.cat([model.class_token.expand(x.shape[0], -1, -1), x], dim=1)
    x = model.encoder.dropout(x + model.encoder.pos_embedding)
    for on, layer in zip(mask, model.encoder.layers):
        if on:
            h = layer.ln_1(x)
            h, _ = layer.self_attention(h, h, h, need_weights=False)
            x = x + layer.dropout(h)
        x = x + layer.mlp(layer.ln_2(x))
    feat = model.encoder.ln(x)[:, 0]
    return model.heads(feat), feat


class EffortGraph(torch.nn.Module):
    def __init__(self, model, mask):
        super().__init__()
        self.model, self.mask = model, list(mask)

    def forward(self, x):
        return forward_features(self.model, x, self.mask)[0]


def normalized_entropy(logits):
    logp = F.log_softmax(logits, dim=-1)
    return -(logp.exp() * logp).sum(-1) / math.log(logits.shape[-1])


def pivot_loss(student_logits, student_feat, teacher_feat, y, distill, entropy):
    loss = F.cross_entropy(student_logits, y) + distill * F.mse_loss(student_feat, teacher_feat)
    correct = student_logits.argmax(1) == y
    if correct.any():
        loss = loss + entropy * normalized_entropy(student_logits[correct]).mean()
    return loss


# ---- images ---------------------------------------------------------------------------------

def transform_for(pre):
    """The manifest's preprocess block as torchvision transforms (what src/preprocess does with sharp)."""
    r = pre["resize"]
    w, h, fit = r["width"], r["height"], r.get("fit", "fill")
    interp = KERNELS.get(r.get("kernel", "lanczos3"), T.InterpolationMode.BILINEAR)
    steps = [T.Lambda(lambda im: im.convert("RGB"))]
    if fit == "cover":
        src = r.get("crop_from")
        size = (src["height"], src["width"]) if src and "width" in src else (src["shortest_edge"] if src else max(w, h))
        steps += [T.Resize(size, interpolation=interp), T.CenterCrop((h, w))]
    elif fit == "contain":
        steps.append(T.Lambda(lambda im: ImageOps.pad(im, (w, h), method=Image.Resampling(interp_pil(interp)), color=(0, 0, 0))))
    else:
        steps.append(T.Resize((h, w), interpolation=interp))
    rescale = pre.get("rescale", 1 / 255)
    steps += [T.PILToTensor(), T.Lambda(lambda t: t.float() * rescale), T.Normalize(pre["mean"], pre["std"])]
    return T.Compose(steps)


def interp_pil(mode):
    return {T.InterpolationMode.NEAREST: 0, T.InterpolationMode.LANCZOS: 1,
            T.InterpolationMode.BILINEAR: 2, T.InterpolationMode.BICUBIC: 3}[mode]


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class ImageFolder(torch.utils.data.Dataset):
    """Class subfolders named like the manifest's labels (exactly, or after lower-casing and slugging)."""

    def __init__(self, root, labels, transform):
        root = Path(root)
        if not root.is_dir():
            fail(f"{root}: not a folder of class subfolders")
        index = {**{slug(l): i for i, l in enumerate(labels)}, **{l: i for i, l in enumerate(labels)}}
        self.items = []
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            label = index.get(folder.name, index.get(slug(folder.name)))
            if label is None:
                fail(f"{folder}: no label of the manifest is called {folder.name!r} (labels: {', '.join(labels[:8])}...)")
            self.items += [(f, label) for f in sorted(folder.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
        if not self.items:
            fail(f"{root}: no images in class subfolders")
        self.transform = transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        with Image.open(path) as im:
            return self.transform(im), label


@torch.no_grad()
def accuracy(model, loader, mask):
    model.eval()
    correct = total = 0
    for x, y in loader:
        correct += (forward_features(model, x, mask)[0].argmax(1) == y).sum().item()
        total += len(y)
    return correct / total


# ---- writing the effort back ---------------------------------------------------------------

def export_effort(model, mask, manifest, path):
    inp, out = manifest["input"], manifest["output"]["name"]
    opset = min(manifest.get("imported", {}).get("opset", TORCH_MAX_OPSET), TORCH_MAX_OPSET)
    dynamic = inp["shape"][0] == -1
    example = torch.zeros(1 if dynamic else inp["shape"][0], *inp["shape"][1:])
    axes = {inp["name"]: {0: "batch"}, out: {0: "batch"}} if dynamic else None
    model.eval()
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)  # MultiheadAttention's shape asserts
    # Written beside the target and renamed over it, so a stopped run never leaves half a file.
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".onnx.tmp", delete=False) as tmp:
        torch.onnx.export(EffortGraph(model, mask), (example,), tmp.name, input_names=[inp["name"]],
                          output_names=[out], dynamic_axes=axes, opset_version=opset, do_constant_folding=True)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp.name, 0o666 & ~umask)  # NamedTemporaryFile makes it private
    os.replace(tmp.name, path)


def write_json(path, value):
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(value, indent=2) + "\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", required=True, help="the folder `pivot import` wrote (manifest.json, effort-K.onnx)")
    ap.add_argument("--checkpoint", required=True, help="the torchvision ViT the imported ONNX was exported from")
    ap.add_argument("--images", required=True, help="training images, one subfolder per class")
    ap.add_argument("--eval", default=None, help="held-out images (class subfolders): accuracy.test per effort")
    ap.add_argument("--efforts", default="", help="comma-separated efforts (default: every effort below the full one)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--steps", type=int, default=0, help="stop each effort after this many steps (0: whole epochs)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--distill", type=float, default=1.0, help="weight of L_Distill")
    ap.add_argument("--entropy", type=float, default=0.2, help="weight of L_En")
    ap.add_argument("--no-flip", dest="flip", action="store_false", help="no random horizontal flips while training")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    family = Path(args.family)
    manifest_path, manifest = load_manifest(family)
    arch, depth = manifest["architecture"], manifest["architecture"]["depth"]
    teacher = load_checkpoint(args.checkpoint, arch)
    for p in teacher.parameters():
        p.requires_grad_(False)
    by_effort = {e["effort"]: e for e in manifest["efforts"]}
    wanted = [int(e) for e in args.efforts.split(",")] if args.efforts else sorted(e for e in by_effort if e < depth)
    for e in wanted:
        if e not in by_effort:
            fail(f"--efforts: effort {e} is not in {manifest_path} (has {sorted(by_effort)})")

    transform = transform_for(manifest["preprocess"])
    train_tf = T.Compose([T.RandomHorizontalFlip(), transform]) if args.flip else transform
    train = ImageFolder(args.images, manifest["labels"], train_tf)
    plain = lambda root: torch.utils.data.DataLoader(ImageFolder(root, manifest["labels"], transform), batch_size=args.batch)
    calib = manifest.get("imported", {}).get("calib", {})
    calib_dir = Path(calib["source"]) if calib.get("labelled") else None
    if calib_dir is not None and not calib_dir.is_absolute():
        calib_dir = (family / calib_dir) if (family / calib_dir).is_dir() else calib_dir
    measure = {"test": plain(args.eval) if args.eval else None,
               "calib": plain(calib_dir) if calib_dir is not None and calib_dir.is_dir() else None}

    loader = torch.utils.data.DataLoader(train, batch_size=args.batch, shuffle=True, drop_last=len(train) > args.batch)
    steps = args.steps or args.epochs * len(loader)
    # The first training batch, without augmentation: the loss on it before and after shows the step did something.
    probe_x, probe_y = next(iter(torch.utils.data.DataLoader(ImageFolder(args.images, manifest["labels"], transform),
                                                             batch_size=args.batch, shuffle=False)))
    with torch.no_grad():
        probe_teacher = forward_features(teacher, probe_x, [1] * depth)[1]

    for effort in wanted:
        entry = by_effort[effort]
        mask = entry["active"]
        student = load_checkpoint(args.checkpoint, arch)
        opt = torch.optim.AdamW(student.parameters(), lr=args.lr, weight_decay=0.05)

        def probe_loss():
            student.eval()
            with torch.no_grad():
                logits, feat = forward_features(student, probe_x, mask)
                return pivot_loss(logits, feat, probe_teacher, probe_y, args.distill, args.entropy).item()

        before = {k: accuracy(student, dl, mask) for k, dl in measure.items() if dl is not None}
        loss_before = probe_loss()
        t0, step = time.time(), 0
        while step < steps:
            for x, y in loader:
                if step >= steps:
                    break
                for g in opt.param_groups:
                    g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * step / steps))
                student.train()
                with torch.no_grad():
                    t_feat = forward_features(teacher, x, [1] * depth)[1]
                logits, feat = forward_features(student, x, mask)
                loss = pivot_loss(logits, feat, t_feat, y, args.distill, args.entropy)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
                opt.step()
                step += 1
        seconds = time.time() - t0
        after = {k: accuracy(student, dl, mask) for k, dl in measure.items() if dl is not None}
        export_effort(student, mask, manifest, family / entry["file"])
        entry["accuracy"] = {**entry.get("accuracy", {}), **{k: round(v, 4) for k, v in after.items()}}
        write_json(manifest_path, manifest)
        print(json.dumps({"effort": effort, "active": mask, "steps": step, "train_seconds": round(seconds, 1),
                          "loss_before": round(loss_before, 5), "loss_after": round(probe_loss(), 5),
                          "accuracy_before": before, "accuracy_after": after}), flush=True)

    done = set(wanted) | {depth}
    if "imported" in manifest and all(e in done for e in by_effort):
        manifest["imported"]["fine_tuned"] = True
        write_json(manifest_path, manifest)
    print(f"wrote {len(wanted)} effort(s) and {manifest_path}")


if __name__ == "__main__":
    main()
