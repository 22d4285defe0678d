#!/usr/bin/env python3
"""Check that quarry's exported model loads in transformers as OlmoeForCausalLM and
computes the same logits and loss as the Rust trainer.

Usage: python scripts/trainer/check_export.py [OUT_DIR]
(runs `cargo run -p quarry-trainer --example export_tiny -- OUT_DIR` first).
Needs: torch, transformers, safetensors.
"""
import json
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="quarry-export-")
    subprocess.run(["cargo", "run", "-q", "-p", "quarry-trainer", "--example", "export_tiny", "--", out], check=True)
    model = AutoModelForCausalLM.from_pretrained(os.path.join(out, "hf"), attn_implementation="eager", dtype=torch.float32)
    assert type(model).__name__ == "OlmoeForCausalLM", type(model).__name__
    chk = load_file(os.path.join(out, "check.safetensors"))
    ref = json.load(open(os.path.join(out, "check.json")))
    ids = chk["input_ids"].long()
    targets = chk["targets"].long()
    with torch.no_grad():
        o = model(input_ids=ids, output_router_logits=True)
        logits = o.logits.float().reshape(-1, o.logits.shape[-1])
        ce = torch.nn.functional.cross_entropy(logits, targets.reshape(-1))
        rl = torch.cat(o.router_logits, 0)
        z = (torch.logsumexp(rl.float(), -1) ** 2).mean()
        total = ce + ref["aux_coef"] * o.aux_loss + ref["z_coef"] * z
    d = (logits - chk["logits"]).abs().max().item()
    scale = chk["logits"].abs().max().item()
    rows = [("logits max|diff|/max|ref|", d / scale), ("ce", abs(ce.item() - ref["ce"]) / ref["ce"]),
            ("aux", abs(o.aux_loss.item() - ref["aux"]) / ref["aux"]), ("z", abs(z.item() - ref["z"]) / ref["z"]),
            ("total loss", abs(total.item() - ref["total"]) / ref["total"])]
    print(f"{'quantity':<28} {'rel diff':>10}")
    for name, rel in rows:
        print(f"{name:<28} {rel:>10.2e}")
    print(f"rust loss {ref['total']:.6f}  transformers loss {total.item():.6f}")
    bad = [n for n, r in rows if not r < 1e-4]
    if bad:
        sys.exit(f"disagreement above 1e-4: {bad}")
    print("OK: transformers loads the export as OlmoeForCausalLM and agrees within 1e-4")


if __name__ == "__main__":
    main()
