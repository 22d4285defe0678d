#!/usr/bin/env python3
"""Training throughput of transformers' OlmoeForCausalLM in PyTorch eager on CPU
(forward + backward + clip + AdamW), same protocol as trainer/examples/bench.rs.
Usage: python bench_torch.py CONFIG_JSON BATCH SEQ STEPS THREADS"""
import json
import sys
import time

import torch
from transformers import OlmoeConfig, OlmoeForCausalLM


def main():
    cfg_path, b, t, steps, threads = sys.argv[1], *map(int, sys.argv[2:6])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    c = json.load(open(cfg_path))
    c.pop("router_z_loss_coef", None)
    model = OlmoeForCausalLM(OlmoeConfig(**c, attn_implementation="eager"))
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1)
    times = []
    cpu0 = 0.0
    for i in range(steps + 1):
        if i == 1:
            cpu0 = time.process_time()
        ids = torch.randint(0, c["vocab_size"], (b, t + 1))
        t0 = time.perf_counter()
        opt.zero_grad()
        out = model(input_ids=ids[:, :-1], labels=ids[:, :-1], output_router_logits=True)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
    mean = sum(times[1:]) / steps
    cpu = (time.process_time() - cpu0) / steps
    print(json.dumps({"impl": f"transformers {__import__('transformers').__version__} eager (torch {torch.__version__})",
                      "params": sum(p.numel() for p in model.parameters()), "tokens_per_step": b * t, "step_s": mean, "cpu_s": cpu,
                      "tokens_per_s": b * t / mean, "threads": torch.get_num_threads(), "last_loss": out.loss.item()}))


if __name__ == "__main__":
    main()
