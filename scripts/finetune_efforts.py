"""Fine-tunes the optimal path of each effort (from paths.json, written by `pivot paths`)
with the paper's loss: L_CE + L_Distill + L_En.

- L_Distill: mean squared error between the student's and the teacher's (the full base
  model's) final-layer pooled features.
- L_En: mean normalized entropy (Eq. 3) of the correctly classified inputs, which makes
  the low efforts confident where they are right, so the cascade can stop early.

Each effort starts from the base weights; results are checkpointed per effort into
<train>/efforts.pt, so a stopped run resumes with the same command.

  /usr/bin/python3 scripts/finetune_efforts.py --train build/train --paths models/fmnist-vit/paths.json --epochs 2
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from pivot_vit import PivotViT, augment, evaluate, load_split, normalized_entropy, to_input


@torch.no_grad()
def teacher_outputs(teacher, images, batch=250):
    """The teacher's logits and pooled features for every (plain) training image."""
    logits, feats = [], []
    for i in range(0, len(images), batch):
        lo, fe = teacher.forward_features(to_input(images[i:i + batch]))
        logits.append(lo)
        feats.append(fe)
    return torch.cat(logits), torch.cat(feats)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", default="build/train")
    ap.add_argument("--paths", default="models/fmnist-vit/paths.json")
    ap.add_argument("--epochs", type=float, default=2, help="passes over the training set (fractions allowed)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--distill", type=float, default=1.0, help="weight of L_Distill")
    ap.add_argument("--kd", type=float, default=0.0,
                    help="weight of a logit distillation term (KL divergence to the teacher's softmax)")
    ap.add_argument("--entropy", type=float, default=0.2, help="weight of L_En")
    ap.add_argument("--efforts", default="", help="comma-separated efforts (default: all, all-skipped to full)")
    ap.add_argument("--name", default="efforts",
                    help="checkpoint name: <train>/<name>.pt and .json (parallel runs use different names; "
                         "export_onnx.py merges every efforts*.pt)")
    ap.add_argument("--no-augment", dest="augment", action="store_false",
                    help="train on the plain images (no flip/shift): faster to fit in short schedules")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--teacher", default=None,
                    help="distil from the full effort of <train>/<teacher>.pt (a previous fine-tuning run) "
                         "instead of the base model")
    ap.add_argument("--init", default=None,
                    help="start each effort from <train>/<init>.pt (a previous fine-tuning run) instead of base.pt")
    ap.add_argument("--limit", type=int, default=0, help="train on the first N images (smoke runs)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train_dir = Path(args.train)
    base = torch.load(train_dir / "base.pt")
    paths = {e["effort"]: e["active"] for e in json.loads(Path(args.paths).read_text())["efforts"]}
    teacher = PivotViT(**base["arch"])
    teacher.load_state_dict(torch.load(train_dir / f"{args.teacher}.pt")[max(paths)] if args.teacher else base["model"])
    teacher.eval()
    needs_teacher = bool(args.distill or args.kd)
    wanted = [int(e) for e in args.efforts.split(",")] if args.efforts else sorted(paths)

    out_path = train_dir / f"{args.name}.pt"
    done = torch.load(out_path) if out_path.exists() else {}
    log_path = train_dir / f"{args.name}.json"
    log = json.loads(log_path.read_text()) if log_path.exists() else {}

    init = torch.load(train_dir / f"{args.init}.pt") if args.init else {}

    train_x, train_y = load_split("train")
    test_x, test_y = load_split("test")
    if args.limit:
        train_x, train_y = train_x[:args.limit], train_y[:args.limit]
        test_x, test_y = test_x[:args.limit], test_y[:args.limit]
    steps = math.ceil(len(train_x) / args.batch)
    # On plain images the teacher's outputs never change: compute them once for every effort.
    cached = teacher_outputs(teacher, train_x) if needs_teacher and not args.augment else None

    for effort in wanted:
        mask = paths[effort]
        if effort in done and log.get(str(effort), {}).get("active") == mask:
            print(f"effort {effort}: already fine-tuned, skipping", flush=True)
            continue
        student = PivotViT(**base["arch"])
        student.load_state_dict(init.get(effort, base["model"]))
        before = evaluate(student, test_x, test_y, mask)
        opt = torch.optim.AdamW(student.parameters(), lr=args.lr, weight_decay=0.05)
        total = max(1, round(steps * args.epochs))
        t0 = time.time()
        student.train()
        for step in range(total):
            s = step % steps
            if s == 0:
                perm = torch.randperm(len(train_x))
            for g in opt.param_groups:
                g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * step / total))
            idx = perm[s * args.batch:(s + 1) * args.batch]
            x, y = to_input(train_x[idx]), train_y[idx]
            if args.augment:
                x = augment(x, per_sample=True)
            if cached is not None:
                t_logits, t_feat = cached[0][idx], cached[1][idx]
            elif needs_teacher:
                with torch.no_grad():
                    t_logits, t_feat = teacher.forward_features(x)
            logits, feat = student.forward_features(x, mask)
            loss = F.cross_entropy(logits, y)
            if args.distill:
                loss = loss + args.distill * F.mse_loss(feat, t_feat)
            if args.kd:
                loss = loss + args.kd * F.kl_div(F.log_softmax(logits, -1), F.log_softmax(t_logits, -1),
                                                 reduction="batchmean", log_target=True)
            correct = logits.argmax(1) == y
            if correct.any():
                loss = loss + args.entropy * normalized_entropy(logits[correct]).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
            opt.step()
        after = evaluate(student, test_x, test_y, mask)
        done[effort] = student.state_dict()
        log[str(effort)] = {"active": mask, "test_acc_before": before, "test_acc_after": after,
                            "epochs": args.epochs, "seconds": round(time.time() - t0)}
        torch.save(done, out_path)
        log_path.write_text(json.dumps(log, indent=2))
        print(json.dumps({"effort": effort, **log[str(effort)]}), flush=True)


if __name__ == "__main__":
    main()
