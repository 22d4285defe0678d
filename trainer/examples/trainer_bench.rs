//! Training throughput of the CPU reference trainer on a small OLMoE config
//! (forward + backward + clipping + AdamW per step), printed as one JSON line.
//! `scripts/trainer/bench.sh` runs it beside transformers' OlmoeForCausalLM in
//! PyTorch eager with the same config and thread count and prints a table.
//!
//! Usage: cargo run -p quarry-trainer --example bench -- CONFIG_JSON BATCH SEQ STEPS

use std::time::Instant;

use quarry_trainer::model::shift_targets;
use quarry_trainer::optim::{clip_grad_norm, AdamW, AdamWConfig};
use quarry_trainer::rng::Rng;
use quarry_trainer::{Cpu, Model, ModelConfig};

/// CPU seconds (user + system, all threads) this process has used, from
/// `/proc/self/stat` (clock ticks of 10 ms); wall time alone is meaningless on a
/// loaded shared machine.
fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit_once(')').map(|x| x.1).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the comm field.
    (tick(11) + tick(12)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 5 {
        return Err("usage: bench CONFIG_JSON BATCH SEQ STEPS".into());
    }
    let cfg: ModelConfig = serde_json::from_str(&std::fs::read_to_string(&a[1])?)?;
    let (b, t, steps): (usize, usize, usize) = (a[2].parse()?, a[3].parse()?, a[4].parse()?);
    let mut model = Model::<f32>::new(cfg.clone(), 0)?;
    let mut opt = AdamW::<f32>::new(&model.layout);
    let oc = AdamWConfig::default();
    let mut r = Rng::new(1);
    let mut times = Vec::new();
    let mut cpu0 = 0.0;
    let mut loss = 0.0;
    for _ in 0..steps + 1 {
        let w: Vec<u32> = (0..b * t + 1)
            .map(|_| r.below(cfg.vocab_size as u64) as u32)
            .collect();
        let (x, y) = shift_targets(&w, b, t);
        if times.len() == 1 {
            cpu0 = cpu_seconds();
        }
        let t0 = Instant::now();
        model.zero_grad();
        loss = model.forward(&Cpu, &x, &y, b, t)?.total;
        model.backward(&Cpu, 1.0)?;
        clip_grad_norm(&mut model.grads, 1.0);
        let Model { params, grads, .. } = &mut model;
        opt.update(&oc, params, grads, 1e-4);
        times.push(t0.elapsed().as_secs_f64());
    }
    // The first step warms caches and allocations; report the rest.
    let measured = &times[1..];
    let mean = measured.iter().sum::<f64>() / measured.len() as f64;
    let cpu = (cpu_seconds() - cpu0) / measured.len() as f64;
    println!(
        "{}",
        serde_json::json!({"impl": "quarry-trainer (cpu)", "params": model.layout.total, "tokens_per_step": b * t,
            "step_s": mean, "cpu_s": cpu, "tokens_per_s": (b * t) as f64 / mean, "threads": rayon::current_num_threads(), "last_loss": loss})
    );
    Ok(())
}
