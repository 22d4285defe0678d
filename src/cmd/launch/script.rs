//! The shell a launched task runs: the quarry command with retries and a completion marker, and
//! the sbatch script around it.

use std::path::Path;

use super::{SlurmArgs, Stage};

fn sh_quote(x: &str) -> String {
    if !x.is_empty()
        && x.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b))
    {
        x.to_string()
    } else {
        format!("'{}'", x.replace('\'', r"'\''"))
    }
}

/// The body every task runs: the quarry command with retries, then a completion (or failure) marker.
/// Exit 1 from quarry means "finished, some input records were unreadable and are counted": the task
/// is done (and says so in its marker), since rerunning cannot read them either.
pub(super) fn task_body(
    dir: &Path,
    stage: &Stage,
    quarry: &Path,
    env: &[(String, String)],
    retries: u32,
) -> String {
    let marks = dir.join("_launch").join(&stage.name);
    let line = |args: &[String]| -> String {
        std::iter::once(quarry.display().to_string())
            .chain(args.iter().cloned())
            .map(|a| sh_quote(&a))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut b = String::new();
    b.push_str("set -u\n");
    // Copies in (s3:// data to the node) and out (results to the bucket) belong to the attempt: a
    // failed copy fails it (exit 2), and results are published only after the command succeeded.
    let cmd = if stage.pre.is_empty() && stage.post.is_empty() {
        line(&stage.args)
    } else {
        b.push_str("run_task() {\n");
        for p in &stage.pre {
            b.push_str(&format!("  {} || return 2\n", line(p)));
        }
        b.push_str(&format!(
            "  {}\n  r=$?\n  if [ $r -gt 1 ]; then return $r; fi\n",
            line(&stage.args)
        ));
        for p in &stage.post {
            b.push_str(&format!("  {} || return 2\n", line(p)));
        }
        b.push_str("  return $r\n}\n");
        "run_task".to_string()
    };
    for (k, v) in env {
        b.push_str(&format!("export {k}={}\n", sh_quote(v)));
    }
    if stage.array == 1 {
        // a single job must not inherit array variables from a submitter that runs inside an array
        b.push_str("unset SLURM_ARRAY_TASK_ID SLURM_ARRAY_TASK_COUNT SLURM_ARRAY_TASK_MIN\n");
    }
    b.push_str(
        "# one thread per allocated CPU (rayon reads RAYON_NUM_THREADS)\n\
         if [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then export RAYON_NUM_THREADS=$SLURM_CPUS_PER_TASK; fi\n",
    );
    b.push_str(&format!(
        "slot=${{SLURM_ARRAY_TASK_ID:-0}}\nmarks={}\nmkdir -p \"$marks\"\n\
         name=$(printf 'task-%05d' \"$slot\")\n\
         rc=0\n\
         t0=$(date +%s.%N)\n\
         # CPU seconds of finished children (all attempts, all threads), from /proc (Linux)\n\
         cpu() {{ if [ -r /proc/$$/stat ]; then read -r -a st < /proc/$$/stat; \
         awk -v a=\"${{st[15]}}\" -v b=\"${{st[16]}}\" -v t=\"$(getconf CLK_TCK)\" 'BEGIN {{ printf \"%.2f\", (a + b) / t }}'; \
         else echo 0; fi; }}\n\
         usage() {{ echo \"cpu_s=$(cpu) wall_s=$(awk -v a=\"$t0\" -v b=\"$(date +%s.%N)\" 'BEGIN {{ printf \"%.2f\", b - a }}')\"; }}\n\
         for attempt in $(seq 0 {retries}); do\n\
         \x20 echo \"== {stage} task $slot attempt $attempt on $(hostname) at $(date -u +%FT%TZ)\" >&2\n\
         \x20 {cmd}\n\
         \x20 rc=$?\n\
         \x20 if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then\n\
         \x20   rm -f \"$marks/$name.failed\"\n\
         \x20   echo \"exit=$rc attempts=$((attempt + 1)) job=${{SLURM_JOB_ID:-local}} $(usage)\" > \"$marks/.$name.tmp\" && mv \"$marks/.$name.tmp\" \"$marks/$name.done\"\n\
         \x20   exit 0\n\
         \x20 fi\n\
         \x20 echo \"== {stage} task $slot attempt $attempt failed with exit $rc\" >&2\n\
         done\n\
         echo \"exit=$rc attempts=$(({retries} + 1)) job=${{SLURM_JOB_ID:-local}} $(usage)\" > \"$marks/$name.failed\"\n\
         exit $rc\n",
        sh_quote(&marks.display().to_string()),
        stage = stage.name,
    ));
    b
}

/// The sbatch script of a stage.
pub(super) fn sbatch_script(a: &SlurmArgs, dir: &Path, stage: &Stage, body: &str) -> String {
    let mut h = String::from("#!/bin/bash\n");
    let mut opt = |k: &str, v: &str| h.push_str(&format!("#SBATCH --{k}={v}\n"));
    opt("job-name", &format!("quarry-{}", stage.name));
    let log = dir.join("logs");
    if stage.array > 1 {
        let mut arr = format!("0-{}", stage.array - 1);
        if let Some(k) = a.max_running {
            arr.push_str(&format!("%{k}"));
        }
        opt("array", &arr);
        opt(
            "output",
            &format!("{}/{}-%A_%a.log", log.display(), stage.name),
        );
    } else {
        opt(
            "output",
            &format!("{}/{}-%j.log", log.display(), stage.name),
        );
    }
    opt("ntasks", "1");
    if let Some(p) = &a.partition {
        opt("partition", p);
    }
    if let Some(c) = a.cpus_per_task {
        opt("cpus-per-task", &c.to_string());
    }
    if let Some(m) = &a.mem {
        opt("mem", m);
    }
    if let Some(t) = &a.time {
        opt("time", t);
    }
    // a task that fails for good cancels the stages waiting on it instead of leaving them pending
    opt("kill-on-invalid-dep", "yes");
    // a node failure puts the task back in the queue (application failures are retried below)
    h.push_str("#SBATCH --requeue\n");
    for x in &a.sbatch_args {
        h.push_str(&format!("#SBATCH {x}\n"));
    }
    h.push_str(body);
    h
}

#[cfg(test)]
mod tests {
    use super::super::plan::s;
    use super::super::CommonArgs;
    use super::*;
    use std::process::Command;

    #[test]
    fn scripts_quote_and_retry() {
        assert_eq!(sh_quote("a b'c"), r"'a b'\''c'");
        assert_eq!(sh_quote("/x/y.toml"), "/x/y.toml");
        let st = Stage {
            name: s("extract"),
            array: 4,
            args: vec![s("run"), s("r.toml")],
            pre: Vec::new(),
            post: Vec::new(),
        };
        let a = SlurmArgs {
            common: CommonArgs {
                recipe: "r.toml".into(),
                tasks: 4,
                out: "/run".into(),
                data: None,
                staging: None,
                quarry: None,
                retries: 3,
            },
            partition: Some(s("cpu")),
            cpus_per_task: Some(8),
            mem: Some(s("16G")),
            time: None,
            max_running: Some(2),
            sbatch_args: vec![s("--account=lab")],
            dry_run: true,
        };
        let body = task_body(Path::new("/run"), &st, Path::new("/bin/quarry"), &[], 3);
        let sc = sbatch_script(&a, Path::new("/run"), &st, &body);
        for want in [
            "#SBATCH --array=0-3%2",
            "#SBATCH --output=/run/logs/extract-%A_%a.log",
            "#SBATCH --partition=cpu",
            "#SBATCH --cpus-per-task=8",
            "#SBATCH --mem=16G",
            "#SBATCH --account=lab",
            "for attempt in $(seq 0 3)",
            "/bin/quarry run r.toml",
        ] {
            assert!(sc.contains(want), "{want} missing in\n{sc}");
        }
    }

    /// The wrapper retries a failing command and records the failure; a command that succeeds on a
    /// later attempt leaves a done marker.
    #[test]
    fn wrapper_retries_then_marks() {
        let dir = tempfile::tempdir().unwrap();
        let flaky = dir.path().join("flaky.sh");
        // fails twice (exit 3; exit 1 would count as done), then succeeds: counts attempts in a file
        std::fs::write(
            &flaky,
            format!(
                "#!/bin/bash\nn=$(cat {0}/n 2>/dev/null || echo 0); echo $((n+1)) > {0}/n; [ $n -ge 2 ] || exit 3\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let st = Stage {
            name: s("x"),
            array: 1,
            args: vec![],
            pre: Vec::new(),
            post: Vec::new(),
        };
        for (retries, ok) in [(1u32, false), (2, true)] {
            let _ = std::fs::remove_file(dir.path().join("n"));
            let body = task_body(
                dir.path(),
                &st,
                Path::new(&format!("bash {}", flaky.display())),
                &[],
                retries,
            );
            // the binary path is quoted as one word, so call the script through a wrapper name
            let body = body.replace(
                &format!("'bash {}'", flaky.display()),
                &format!("bash {}", flaky.display()),
            );
            let status = Command::new("bash").arg("-c").arg(&body).status().unwrap();
            assert_eq!(status.success(), ok, "retries {retries}");
            let m = dir.path().join("_launch/x");
            assert_eq!(m.join("task-00000.done").exists(), ok);
            assert_eq!(m.join("task-00000.failed").exists(), !ok);
        }
    }
}
