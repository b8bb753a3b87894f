"""text_torch_model.py — the byte-level transformer of bench/torch_xfmr.py written with
torch.nn, shared by the text benchmarks' PyTorch scripts (text_torch_classifier.py,
text_pretrain_probe.py): pre-LN GPT blocks, learned positions, tanh GELU, N(0, 0.02)
initialisation. Trunk(C, L, H, T).hidden(tok) is the final-LayerNorm state (B, T, C)."""
import torch, torch.nn as nn, torch.nn.functional as F


class Block(nn.Module):
    def __init__(s, C, H):
        super().__init__(); s.H = H
        s.ln1, s.ln2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.qkv, s.proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.fc, s.fcp = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(s, x):
        B, T_, C = x.shape; hs = C // s.H
        q, k, v = s.qkv(s.ln1(x)).reshape(B, T_, 3, s.H, hs).permute(2, 0, 3, 1, 4)
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # Debian 12's torch 1.13
            att = (q @ k.transpose(-2, -1)) / hs ** 0.5
            y = att.masked_fill(~torch.ones(T_, T_, dtype=torch.bool).tril(), float("-inf")).softmax(-1) @ v
        x = x + s.proj(y.transpose(1, 2).reshape(B, T_, C))
        return x + s.fcp(F.gelu(s.fc(s.ln2(x)), approximate="tanh"))


class Trunk(nn.Module):
    def __init__(s, C, L, H, T):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(256, C), nn.Embedding(T, C)
        s.blocks = nn.ModuleList(Block(C, H) for _ in range(L)); s.lnf = nn.LayerNorm(C)

    def init_weights(s):
        for m in s.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)): nn.init.normal_(m.weight, 0, 0.02)

    def hidden(s, tok):
        x = s.wte(tok) + s.wpe(torch.arange(tok.shape[1]))
        for b in s.blocks: x = b(x)
        return s.lnf(x)
