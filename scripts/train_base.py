"""Trains the full-effort (base) ViT on Fashion-MNIST.

Checkpoints every epoch to <out>/base.pt and resumes from it, so a run that is
stopped can be continued with the same command.

  /usr/bin/python3 scripts/train_base.py --out build/train --epochs 30 --threads 2
"""
import os

# OpenBLAS threads beyond torch's own pool only add spin time on small GEMMs (measured: 2 cores).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from pivot_vit import PivotViT, augment, evaluate, load_split, state_from_onnx, to_input


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="build/train")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--augment-epochs", type=int, default=None,
                    help="flip/shift augmentation for the first N epochs only, plain images after "
                         "(the small ViT underfits: plain images fit faster in a short schedule)")
    ap.add_argument("--no-augment", dest="augment", action="store_false", help="no augmentation at all")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 measured faster than 2 on 2 cores)")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--depth", type=int, default=6)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--mlp-ratio", type=float, default=2.0)
    ap.add_argument("--patch", type=int, default=4)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images (smoke runs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", default=None,
                    help="warm start from an exported full-effort graph (effort-K.onnx of the same dim/depth/MLP); "
                         "its heads may differ from --heads: the QKV and projection weights keep their shapes")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "base.pt"

    train_x, train_y = load_split("train")
    test_x, test_y = load_split("test")
    if args.limit:
        train_x, train_y = train_x[:args.limit], train_y[:args.limit]

    model = PivotViT(patch=args.patch, dim=args.dim, depth=args.depth, heads=args.heads, mlp_ratio=args.mlp_ratio)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(train_x) / args.batch)
    total = steps_per_epoch * args.epochs
    warmup = steps_per_epoch

    def lr_at(step):
        if step < warmup:
            return args.lr * (step + 1) / warmup
        return args.lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))

    start_epoch, history = 0, []
    if args.init and not ckpt_path.exists():
        warm_start(model, args.init)
        print(f"initialized from {args.init}: test accuracy {evaluate(model, test_x, test_y):.4f}", flush=True)
    if ckpt_path.exists():
        ckpt = torch.load(ckpt_path)
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        start_epoch, history = ckpt["epoch"], ckpt["history"]
        print(f"resumed at epoch {start_epoch}", flush=True)

    for epoch in range(start_epoch, args.epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(train_x))
        loss_sum = 0.0
        for s in range(steps_per_epoch):
            idx = perm[s * args.batch:(s + 1) * args.batch]
            x = to_input(train_x[idx])
            use_aug = args.augment and (args.augment_epochs is None or epoch < args.augment_epochs)
            x = augment(x) if use_aug else x
            for g in opt.param_groups:
                g["lr"] = lr_at(epoch * steps_per_epoch + s)
            loss = F.cross_entropy(model(x), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            loss_sum += loss.item()
        acc = evaluate(model, test_x, test_y)
        history.append({"epoch": epoch + 1, "loss": loss_sum / steps_per_epoch, "test_acc": acc,
                        "seconds": time.time() - t0})
        print(json.dumps(history[-1]), flush=True)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch + 1,
                    "history": history, "arch": model.arch}, ckpt_path)


def warm_start(model, onnx_path):
    """Loads an exported full effort into `model`. With more heads than the source, each old
    head's query/key dims split into new heads. A new head sees a 1/k share of the old head's dims,
    so its logits are about 1/k of the old ones: queries are scaled so that each new head keeps
    the old head's logit size (sqrt(new heads / old heads), with the new 1/sqrt(head dim)).
    Measured on v1's full effort, 4 -> 8 heads: 89.3% before any training (87.5% unscaled)."""
    state = state_from_onnx(onnx_path)
    dim, heads = model.arch["dim"], model.arch["heads"]
    src = onnx_heads(onnx_path)
    if src and src != heads:
        factor = math.sqrt(heads / src)
        for key in [k for k in state if k.endswith("attn.qkv.weight") or k.endswith("attn.qkv.bias")]:
            state[key] = state[key].clone()
            state[key][:dim] *= factor
    model.load_state_dict(state)


def onnx_heads(onnx_path):
    """Attention heads of an exported graph, from the manifest beside it (None if absent)."""
    manifest = Path(onnx_path).parent / "manifest.json"
    if not manifest.exists():
        return None
    return json.loads(manifest.read_text())["architecture"].get("heads")


if __name__ == "__main__":
    main()
