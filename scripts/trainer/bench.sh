#!/usr/bin/env bash
# Training throughput: quarry-trainer (CPU) vs transformers OlmoeForCausalLM (PyTorch
# eager, CPU), same small OLMoE config, batch, sequence length and thread count.
# Each step = forward + backward + grad clipping + AdamW; the first step is warm-up.
# Reports wall seconds per step and CPU seconds per step (all threads): on a shared,
# loaded machine wall time is mostly scheduling noise, CPU time is the fairer cost.
# Usage: scripts/trainer/bench.sh [STEPS] [THREADS...]   (PYTHON=/path/to/venv/python)
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${1:-3}
shift || true
THREADS=("${@:-1 2}")
B=4
T=256
PY=${PYTHON:-python3}
CFG=$(mktemp --suffix .json)
trap 'rm -f "$CFG"' EXIT
cat > "$CFG" <<JSON
{"vocab_size": 4096, "hidden_size": 256, "intermediate_size": 128, "num_hidden_layers": 4,
 "num_attention_heads": 8, "num_key_value_heads": 8, "num_experts": 16, "num_experts_per_tok": 4,
 "norm_topk_prob": false, "rope_theta": 10000.0, "rms_norm_eps": 1e-5, "router_aux_loss_coef": 0.01,
 "router_z_loss_coef": 0.001, "max_position_embeddings": 4096, "initializer_range": 0.02,
 "eos_token_id": 0, "pad_token_id": 1}
JSON
cargo build -q -p quarry-trainer --example trainer_bench
BIN=${CARGO_TARGET_DIR:-target}/debug/examples/trainer_bench
ROWS=()
for th in ${THREADS[@]}; do
  ROWS+=("$(RAYON_NUM_THREADS=$th "$BIN" "$CFG" $B $T "$STEPS")")
  ROWS+=("$(OMP_NUM_THREADS=$th "$PY" scripts/trainer/bench_torch.py "$CFG" $B $T "$STEPS" "$th")")
done
"$PY" - "${ROWS[@]}" <<'PYEOF'
import json, sys
rows = [json.loads(a) for a in sys.argv[1:]]
print(f"small OLMoE: 4 layers, hidden 256, 16 experts top-4, vocab 4096, {rows[0]['params']} params; batch 4 x seq 256")
print(f"| {'implementation':<48} | {'threads':>7} | {'wall s/step':>11} | {'CPU s/step':>10} | {'tokens/s':>8} | {'tokens/CPU-s':>12} |")
print(f"|{'-'*50}|{'-'*9}|{'-'*13}|{'-'*12}|{'-'*10}|{'-'*14}|")
for r in rows:
    print(f"| {r['impl']:<48} | {r['threads']:>7} | {r['step_s']:>11.3f} | {r['cpu_s']:>10.3f} | {r['tokens_per_s']:>8.0f} | {r['tokens_per_step'] / max(r['cpu_s'], 1e-9):>12.0f} |")
PYEOF
