#!/usr/bin/env bash
# Training throughput: quarry-trainer (CPU) vs transformers OlmoeForCausalLM (PyTorch
# eager, CPU), same small OLMoE config, batch, sequence length and thread count.
# Each step = forward + backward + grad clipping + AdamW; the first step is warm-up.
# Reports wall seconds per step and CPU seconds per step (all threads, from the kernel's
# per-process accounting, as getrusage): on a shared, loaded machine wall time is mostly
# scheduling noise, CPU time is the fairer cost. Each (implementation, threads) pair runs
# REPEATS times, interleaved with the other, and the run with the least CPU time is kept.
#
# Usage: scripts/trainer/bench.sh [STEPS] [THREADS...]
#   PYTHON=/path/to/venv/python   interpreter with torch + transformers
#   REPEATS=3                     runs per row
#   BUILD=release                 cargo profile of the trainer (release: optimised, no
#                                 overflow checks or debug assertions); BUILD=dev-nochecks
#                                 reuses the dev build of the dependencies and turns the
#                                 checks off for matrixmultiply and the trainer only (same
#                                 codegen for the hot code, minutes less to build)
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${1:-3}
shift || true
THREADS=("${@:-1 2}")
REPEATS=${REPEATS:-3}
BUILD=${BUILD:-release}
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
TARGET=${CARGO_TARGET_DIR:-target}
case "$BUILD" in
  release)
    cargo build -q --release -p quarry-trainer --example trainer_bench
    BIN=$TARGET/release/examples/trainer_bench ;;
  dev-nochecks)
    NOCHECKS=()
    for p in matrixmultiply quarry-trainer; do
      NOCHECKS+=(--config "profile.dev.package.$p.overflow-checks=false"
                 --config "profile.dev.package.$p.debug-assertions=false")
    done
    cargo build -q -p quarry-trainer --example trainer_bench "${NOCHECKS[@]}"
    BIN=$TARGET/debug/examples/trainer_bench ;;
  *) echo "BUILD must be release or dev-nochecks" >&2; exit 2 ;;
esac
ROWS=()
for th in ${THREADS[@]}; do
  for r in $(seq "$REPEATS"); do
    ROWS+=("$(RAYON_NUM_THREADS=$th "$BIN" "$CFG" $B $T "$STEPS")")
    ROWS+=("$(OMP_NUM_THREADS=$th "$PY" scripts/trainer/bench_torch.py "$CFG" $B $T "$STEPS" "$th")")
  done
done
"$PY" - "$BUILD" "$REPEATS" "${ROWS[@]}" <<'PYEOF'
import json, sys
build, repeats, rows = sys.argv[1], int(sys.argv[2]), [json.loads(a) for a in sys.argv[3:]]
best = {}
for r in rows:
    key = (r["threads"], r["impl"])
    if key not in best or r["cpu_s"] < best[key]["cpu_s"]:
        best[key] = r
print(f"small OLMoE: 4 layers, hidden 256, 16 experts top-4, vocab 4096, {rows[0]['params']} params; "
      f"batch 4 x seq 256; trainer build: {build}; best of {repeats} runs by CPU time")
print(f"| {'implementation':<48} | {'threads':>7} | {'wall s/step':>11} | {'CPU s/step':>10} | {'tokens/s':>8} "
      f"| {'tokens/CPU-s':>12} | {'quarry/torch (CPU)':>18} | {'quarry/torch (wall)':>19} |")
print(f"|{'-'*50}|{'-'*9}|{'-'*13}|{'-'*12}|{'-'*10}|{'-'*14}|{'-'*20}|{'-'*21}|")
for th in sorted({k[0] for k in best}):
    group = {k[1]: v for k, v in best.items() if k[0] == th}
    ours = next(v for k, v in group.items() if k.startswith("quarry"))
    torch = next(v for k, v in group.items() if not k.startswith("quarry"))
    for r in (ours, torch):
        cpu_ratio = f"{torch['cpu_s'] / ours['cpu_s']:.2f}x" if r is ours else ""
        wall_ratio = f"{torch['step_s'] / ours['step_s']:.2f}x" if r is ours else ""
        print(f"| {r['impl']:<48} | {r['threads']:>7} | {r['step_s']:>11.3f} | {r['cpu_s']:>10.3f} "
              f"| {r['tokens_per_s']:>8.0f} | {r['tokens_per_step'] / max(r['cpu_s'], 1e-9):>12.0f} "
              f"| {cpu_ratio:>18} | {wall_ratio:>19} |")
PYEOF
