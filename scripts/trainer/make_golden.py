#!/usr/bin/env python3
"""Generate the golden state the Rust trainer is checked against (llm.c style).

Builds a tiny OLMoE checkpoint in the Hugging Face *checkpoint* format (per-expert
tensor names, safetensors with {"format": "pt"} metadata, config.json) -- the format
quarry's exporter writes -- loads it with transformers' OlmoeForCausalLM.from_pretrained,
and records: weights, input ids, logits, the loss terms, every parameter gradient
(mapped back to checkpoint names), and a few AdamW steps (param groups, clipping).

Output (committed, small): trainer/tests/data/golden.safetensors + golden.json.
Usage: python scripts/trainer/make_golden.py [--out trainer/tests/data]
Needs: torch, transformers, safetensors (pip install torch transformers safetensors).
"""
import argparse
import json
import math
import os
import tempfile

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import OlmoeConfig, OlmoeForCausalLM

CFG = dict(
    vocab_size=64,
    hidden_size=32,
    intermediate_size=16,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=4,
    num_experts=4,
    num_experts_per_tok=2,
    norm_topk_prob=False,
    rope_theta=10000.0,
    rms_norm_eps=1e-5,
    router_aux_loss_coef=0.01,
    max_position_embeddings=4096,
    initializer_range=0.02,
    eos_token_id=0,
    pad_token_id=1,
)
Z_COEF = 0.001
BATCH, SEQ = 2, 8
STEPS = 5
OPT = dict(lr=3e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, max_grad_norm=1.0)
INIT_STD = 0.2  # larger than 0.02 so routing decisions have clear margins


def checkpoint_names(cfg):
    """Parameter names in checkpoint order, as quarry's ParamLayout lists them."""
    c, f, kv = cfg["hidden_size"], cfg["intermediate_size"], cfg["hidden_size"] // cfg["num_attention_heads"] * cfg["num_key_value_heads"]
    out = [("model.embed_tokens.weight", (cfg["vocab_size"], c))]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}"
        out += [(f"{p}.self_attn.q_proj.weight", (c, c)), (f"{p}.self_attn.k_proj.weight", (kv, c)),
                (f"{p}.self_attn.v_proj.weight", (kv, c)), (f"{p}.self_attn.o_proj.weight", (c, c)),
                (f"{p}.self_attn.q_norm.weight", (c,)), (f"{p}.self_attn.k_norm.weight", (kv,)),
                (f"{p}.mlp.gate.weight", (cfg["num_experts"], c))]
        for e in range(cfg["num_experts"]):
            out += [(f"{p}.mlp.experts.{e}.gate_proj.weight", (f, c)), (f"{p}.mlp.experts.{e}.up_proj.weight", (f, c)),
                    (f"{p}.mlp.experts.{e}.down_proj.weight", (c, f))]
        out += [(f"{p}.input_layernorm.weight", (c,)), (f"{p}.post_attention_layernorm.weight", (c,))]
    out += [("model.norm.weight", (c,)), ("lm_head.weight", (cfg["vocab_size"], c))]
    return out


def to_checkpoint(model, cfg, grads=False):
    """The model's tensors (or their .grad) under checkpoint names (experts split)."""
    src = dict(model.named_parameters())
    f = cfg["intermediate_size"]
    out = {}
    for name, shape in checkpoint_names(cfg):
        if ".mlp.experts." in name:
            pre, rest = name.split(".mlp.experts.")
            e, kind = int(rest.split(".")[0]), rest.split(".")[1]
            fused = src[f"{pre}.mlp.experts.gate_up_proj"] if kind != "down_proj" else src[f"{pre}.mlp.experts.down_proj"]
            t = fused.grad if grads else fused.data
            t = t[e]
            if kind == "gate_proj":
                t = t[:f]
            elif kind == "up_proj":
                t = t[f:]
        else:
            t = src[name].grad if grads else src[name].data
        assert tuple(t.shape) == shape, (name, t.shape, shape)
        out[name] = t.detach().clone().contiguous().float()
    return out


def losses(model, ids):
    out = model(input_ids=ids, labels=ids, output_router_logits=True)
    rl = torch.cat(out.router_logits, dim=0)
    z = (torch.logsumexp(rl.float(), dim=-1) ** 2).mean()
    ce = out.loss - CFG["router_aux_loss_coef"] * out.aux_loss
    total = out.loss + Z_COEF * z
    return out, total, ce, z, rl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "../../trainer/tests/data"))
    args = ap.parse_args()
    torch.manual_seed(1234)
    torch.set_num_threads(1)
    cfg = dict(CFG)
    g = torch.Generator().manual_seed(20241)
    weights = {}
    for name, shape in checkpoint_names(cfg):
        if name.endswith("norm.weight") or "layernorm" in name:
            weights[name] = 1.0 + 0.1 * torch.randn(shape, generator=g)
        else:
            weights[name] = INIT_STD * torch.randn(shape, generator=g)
    batches = [torch.randint(0, cfg["vocab_size"], (BATCH, SEQ), generator=g) for _ in range(STEPS)]

    with tempfile.TemporaryDirectory() as d:
        # Exactly what quarry's exporter writes: checkpoint names + pt metadata + config.json.
        save_file({k: v.contiguous() for k, v in weights.items()}, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
        hf = dict(cfg, architectures=["OlmoeForCausalLM"], model_type="olmoe", hidden_act="silu", tie_word_embeddings=False,
                  attention_bias=False, clip_qkv=None, torch_dtype="float32")
        with open(os.path.join(d, "config.json"), "w") as fh:
            json.dump(hf, fh)
        model = OlmoeForCausalLM.from_pretrained(d, attn_implementation="eager", dtype=torch.float32)
    model.train()  # dropout is 0; train mode only matters for bookkeeping
    loaded = to_checkpoint(model, cfg)
    for k, v in weights.items():
        assert torch.equal(loaded[k], v.float()), f"transformers did not load {k} as written"

    ids = batches[0]
    out, total, ce, z, rl = losses(model, ids)
    probs = torch.softmax(rl.float(), -1).sort(-1, descending=True).values
    margin = (probs[:, cfg["num_experts_per_tok"] - 1] - probs[:, cfg["num_experts_per_tok"]]).min().item()
    assert margin > 1e-4, f"routing margin {margin} too small for a stable comparison; change the seed"
    model.zero_grad()
    total.backward()
    grads = to_checkpoint(model, cfg, grads=True)
    record = {
        "transformers": transformers.__version__, "torch": torch.__version__,
        "config": cfg, "router_z_loss_coef": Z_COEF, "batch": BATCH, "seq": SEQ,
        "loss": {"total": total.item(), "ce": ce.item(), "aux": out.aux_loss.item(), "z": z.item(),
                 "hf_loss_ce_plus_aux": out.loss.item()},
        "routing_margin": margin, "optimizer": dict(OPT, betas=list(OPT["betas"])), "steps": [],
    }
    tensors = {f"param.{k}": v for k, v in weights.items()}
    tensors.update({f"grad.{k}": v for k, v in grads.items()})
    tensors["logits"] = out.logits.detach().float().reshape(BATCH * SEQ, -1).contiguous()
    for i, b in enumerate(batches):
        tensors[f"input_ids.{i}"] = b.to(torch.int64).contiguous()

    # AdamW with OLMo's groups: no decay on norms and embeddings.
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if ("norm" in n or "embed_tokens" in n) else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": OPT["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=OPT["lr"], betas=OPT["betas"], eps=OPT["eps"], foreach=False)
    for i, b in enumerate(batches):
        opt.zero_grad()
        _, tot, _, _, _ = losses(model, b)
        tot.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), OPT["max_grad_norm"], foreach=False)
        opt.step()
        record["steps"].append({"loss": tot.item(), "grad_norm": gn.item()})
    final = to_checkpoint(model, cfg)
    tensors.update({f"final.{k}": v for k, v in final.items()})

    os.makedirs(args.out, exist_ok=True)
    save_file(tensors, os.path.join(args.out, "golden.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(args.out, "golden.json"), "w") as fh:
        json.dump(record, fh, indent=1)
    print(json.dumps(record["loss"]), [round(s["loss"], 6) for s in record["steps"]])


if __name__ == "__main__":
    main()
