"""The compact ViT of the pivot-edge model family, with attention skipping.

An *effort* is the number of encoders whose attention module is active; a *path*
(mask) says which ones. `forward(x, mask)` leaves a skipped attention out of the
computation entirely, so an exported effort graph has no trace of it.
"""
import gzip
import math
import struct
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

# Pixel statistics of the Fashion-MNIST training set (x / 255).
FMNIST_MEAN = 0.2860
FMNIST_STD = 0.3530
FMNIST_LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DATA_DIR = Path("/usr/share/datasets/fashion-mnist")


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(b, t, d)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x, active=True, gate=None):
        """Returns (encoder output MLP_i, attention output A_i) as residual-stream states."""
        if gate is not None:
            x = x + gate * self.attn(self.norm1(x))
        elif active:
            x = x + self.attn(self.norm1(x))
        a = x
        x = x + self.mlp(self.norm2(x))
        return x, a


class PivotViT(nn.Module):
    def __init__(self, image=28, patch=4, channels=1, dim=64, depth=6, heads=4, mlp_ratio=2.0, classes=10):
        super().__init__()
        self.arch = dict(image=image, patch=patch, channels=channels, dim=dim, depth=depth,
                         heads=heads, mlp_ratio=mlp_ratio, classes=classes)
        self.tokens = (image // patch) ** 2
        self.patch_embed = nn.Conv2d(channels, dim, patch, patch)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.tokens, dim))
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        # Mean-pooled head (no class token): with every attention skipped the
        # prediction still sees the whole image.
        self.head = nn.Linear(dim, classes)
        self.apply(_init)

    def embed(self, x):
        return self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed

    def forward(self, x, mask=None):
        x = self.embed(x)
        for i, blk in enumerate(self.blocks):
            x, _ = blk(x, active=True if mask is None else bool(mask[i]))
        return self.head(self.norm(x).mean(dim=1))

    def forward_features(self, x, mask=None):
        """Logits and pooled pre-head features (for feature distillation)."""
        x = self.embed(x)
        for i, blk in enumerate(self.blocks):
            x, _ = blk(x, active=True if mask is None else bool(mask[i]))
        feat = self.norm(x).mean(dim=1)
        return self.head(feat), feat

    def forward_taps(self, x, gate):
        """Analysis variant: gate[i] in {0,1} scales attention i; returns logits and the
        residual-stream taps MLP_0 (embedding), MLP_1..MLP_D and A_1..A_D."""
        x = self.embed(x)
        mlps, attns = [x], []
        for i, blk in enumerate(self.blocks):
            x, a = blk(x, gate=gate[i])
            mlps.append(x)
            attns.append(a)
        return (self.head(self.norm(x).mean(dim=1)), *mlps, *attns)


def _init(m):
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)


def load_idx(name, data_dir=DATA_DIR):
    """Reads an IDX file (gzip or plain) into a uint8 tensor."""
    path = Path(data_dir) / name
    if not path.exists():
        path = path.with_suffix("") if path.suffix == ".gz" else Path(str(path) + ".gz")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    _, dtype, ndim = raw[0] << 8 | raw[1], raw[2], raw[3]
    if dtype != 0x08:
        raise ValueError(f"{path}: only uint8 IDX files are supported")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(raw[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def load_split(split, data_dir=DATA_DIR):
    prefix = "train" if split == "train" else "t10k"
    images = load_idx(f"{prefix}-images-idx3-ubyte.gz", data_dir)
    labels = load_idx(f"{prefix}-labels-idx1-ubyte.gz", data_dir).long()
    return images, labels


def to_input(images_u8):
    """The training transform: uint8 [N,28,28] -> normalized float32 NCHW. The runtime's
    sharp pipeline must reproduce it exactly (see test/preprocess)."""
    x = images_u8.float().div(255.0)
    return ((x - FMNIST_MEAN) / FMNIST_STD).unsqueeze(1)


def augment(x, per_sample=False):
    """Random horizontal flip and +-2 px translation (random crop of the image padded by 2 px
    of background). One shift for the whole batch, or one per image with per_sample."""
    flip = torch.rand(x.shape[0]) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    pad = F.pad(x, (2, 2, 2, 2), value=float(-FMNIST_MEAN / FMNIST_STD))
    n, _, h, w = x.shape
    if not per_sample:
        dx, dy = torch.randint(0, 5, (2,)).tolist()
        return pad[:, :, dy:dy + h, dx:dx + w]
    dy, dx = torch.randint(0, 5, (2, n))
    rows = (dy[:, None] + torch.arange(h))[:, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, :]
    return pad[torch.arange(n)[:, None, None], 0, rows, cols].unsqueeze(1)


@torch.no_grad()
def evaluate(model, images, labels, mask=None, batch=250):
    model.eval()
    correct = 0
    for i in range(0, len(images), batch):
        logits = model(to_input(images[i:i + batch]), mask)
        correct += (logits.argmax(1) == labels[i:i + batch]).sum().item()
    return correct / len(images)


def normalized_entropy(logits):
    logp = F.log_softmax(logits, dim=-1)
    return -(logp.exp() * logp).sum(-1) / math.log(logits.shape[-1])


def state_from_onnx(path, active=None, fill=None):
    """Weights of an exported effort or analysis graph (export_onnx.py) as a PivotViT state
    dict. Named initializers keep their module names; the Linear weights of the encoders are
    exported as anonymous, transposed MatMul operands in module order (qkv, proj, fc1, fc2 per
    encoder; fc1, fc2 only where `active` says the attention is skipped), so they are matched
    by order. A skipped attention is absent from its graph: its weights come from `fill`."""
    import onnx
    from onnx import numpy_helper
    graph = onnx.load(str(path)).graph
    state, matmuls = dict(fill or {}), []
    for init in graph.initializer:
        tensor = torch.from_numpy(numpy_helper.to_array(init).copy())
        if init.name.startswith("model."):
            state[init.name[len("model."):]] = tensor
        elif init.name.startswith("onnx::MatMul"):
            matmuls.append(tensor)
    depth = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
    active = active or [1] * depth
    names = [f"blocks.{i}.{n}.weight" for i in range(depth)
             for n in (("attn.qkv", "attn.proj") if active[i] else ()) + ("mlp.fc1", "mlp.fc2")]
    if len(matmuls) != len(names):
        raise ValueError(f"{path}: {len(matmuls)} MatMul weights, expected {len(names)} for mask {active}")
    state.update({n: w.t().contiguous() for n, w in zip(names, matmuls)})
    return state
