#!/usr/bin/env bash
# Training throughput: quarry-trainer (CPU) vs transformers OlmoeForCausalLM (PyTorch
# eager, CPU), same small OLMoE config, batch, sequence length and thread count.
# Usage: scripts/trainer/bench.sh [THREADS] [STEPS]   (PYTHON=/path/to/venv/python)
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
STEPS=${2:-5}
B=4
T=256
PY=${PYTHON:-python3}
CFG=$(mktemp --suffix .json)
cat > "$CFG" <<JSON
{"vocab_size": 4096, "hidden_size": 256, "intermediate_size": 128, "num_hidden_layers": 4,
 "num_attention_heads": 8, "num_key_value_heads": 8, "num_experts": 16, "num_experts_per_tok": 4,
 "norm_topk_prob": false, "rope_theta": 10000.0, "rms_norm_eps": 1e-5, "router_aux_loss_coef": 0.01,
 "router_z_loss_coef": 0.001, "max_position_embeddings": 4096, "initializer_range": 0.02,
 "eos_token_id": 0, "pad_token_id": 1}
JSON
cargo build -q -p quarry-trainer --example bench
BIN=${CARGO_TARGET_DIR:-target}/debug/examples/bench
R=$(RAYON_NUM_THREADS=$THREADS "$BIN" "$CFG" $B $T "$STEPS")
P=$(OMP_NUM_THREADS=$THREADS "$PY" scripts/trainer/bench_torch.py "$CFG" $B $T "$STEPS" "$THREADS")
rm -f "$CFG"
"$PY" - "$R" "$P" <<'PYEOF'
import json, sys
rows = [json.loads(a) for a in sys.argv[1:]]
print(f"small OLMoE: 4 layers, hidden 256, 16 experts top-4, vocab 4096; batch 4 x seq 256; {rows[0]['threads']} threads")
print(f"| {'implementation':<50} | {'params':>9} | {'s/step':>7} | {'tokens/s':>9} |")
print(f"|{'-'*52}|{'-'*11}|{'-'*9}|{'-'*11}|")
for r in rows:
    print(f"| {r['impl']:<50} | {r['params']:>9} | {r['step_s']:>7.3f} | {r['tokens_per_s']:>9.0f} |")
print(f"speedup quarry/transformers: {rows[0]['tokens_per_s'] / rows[1]['tokens_per_s']:.2f}x")
PYEOF
