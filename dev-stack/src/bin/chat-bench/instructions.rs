//! Section 5's instruction count: the compiled function under `valgrind --tool=callgrind`, which counts
//! the instructions it executes whatever else the machine is doing, so the figure holds still on a shared
//! machine where CPU time does not.
//!
//! Two runs of the same stack, each a fresh process through a warm-up and then `n` messages to a booking
//! of 2; start-up, the connects and the warm-up cost the same in both, so the difference over the
//! difference in messages is what one message costs. The profile of a message is the same difference
//! per function (`callgrind_annotate` of each run); it names functions only when the binary has symbols
//! (`scripts/proxy-callgrind.sh` builds one that has).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::setup::{self, Launcher, broadcast, clients};

/// Messages before either run's counted ones, so both start from the same warm state.
const WARM_UP: usize = 20;
/// The messages of the two runs.
const RUNS: [usize; 2] = [50, 250];
/// Functions listed in the profile.
const TOP: usize = 10;

/// Instructions per message, and where they go.
pub(crate) async fn per_message(binary: &Path) -> anyhow::Result<()> {
    if !binary.exists() {
        return Ok(());
    }
    if !has("valgrind") {
        println!("   Instructions per message: not measured: valgrind is not installed.\n");
        return Ok(());
    }
    let dir = setup::workspace_root().join("target/chat-bench");
    std::fs::create_dir_all(&dir)?;
    let [few, many] = RUNS;
    let outputs = RUNS.map(|n| dir.join(format!("callgrind.{n}.out")));
    let first = run(binary, few, &outputs[0]).await?;
    let second = run(binary, many, &outputs[1]).await?;
    let per_message = second.saturating_sub(first) as f64 / (many - few) as f64;
    println!(
        "   Instructions per message (valgrind --tool=callgrind, {WARM_UP} + {few} and {WARM_UP} + {many} messages):"
    );
    println!("{:>44}: {first} and {second}", "instructions of the two runs");
    println!("{:>44}: {per_message:.0}", "instructions per message event");
    println!("   Kept for callgrind_annotate: {} and {}", outputs[0].display(), outputs[1].display());
    if has("callgrind_annotate") {
        profile(&outputs[0], &outputs[1], many - few)?;
    }
    println!();
    Ok(())
}

/// One run: a fresh stack with the function under callgrind, `messages` after the warm-up; the
/// instructions it executed, from its profile at `out` (written when it ends on SIGTERM).
async fn run(binary: &Path, messages: usize, out: &Path) -> anyhow::Result<u64> {
    let _ = std::fs::remove_file(out);
    let launcher = Launcher {
        tool: vec![
            "valgrind".into(),
            "--tool=callgrind".into(),
            format!("--callgrind-out-file={}", out.display()),
        ],
        // Code runs tens of times slower under valgrind: its first calls must not time out.
        env: vec![("AWS_TIMEOUT_MS", "14000".into())],
    };
    let dir = tempfile::tempdir()?;
    let mut stack = setup::compiled(&launcher, binary, dir.path()).await?;
    let mut pair = clients(&stack.ws_url, &stack.tokens, 2).await?;
    broadcast(&mut pair, WARM_UP + messages, "callgrind").await?;
    // Delivered is not done: the function still answers the event and asks for the next one.
    if !stack.runtime.idle(Duration::from_secs(30)).await {
        bail!("the function is still busy 30 s after the last message");
    }
    let pid = stack.function.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().context("kill -TERM")?;
    stack.function.0.wait()?;
    let profile =
        std::fs::read_to_string(out).with_context(|| format!("callgrind wrote no {}", out.display()))?;
    let totals =
        profile.lines().find_map(|l| l.strip_prefix("totals:").or_else(|| l.strip_prefix("summary:")));
    match totals.and_then(|t| t.split_whitespace().next()).and_then(|t| t.parse().ok()) {
        Some(instructions) => Ok(instructions),
        None => bail!("no totals in {}", out.display()),
    }
}

/// Prints the functions that execute the most instructions per message (their own instructions, not
/// their callees'): each function's count in the longer run less its count in the shorter one.
fn profile(few: &Path, many: &Path, messages: usize) -> anyhow::Result<()> {
    let (few, many) = (self_costs(few)?, self_costs(many)?);
    let mut costs: Vec<(&str, i64)> =
        many.iter().map(|(name, n)| (name.as_str(), *n - few.get(name).copied().unwrap_or(0))).collect();
    costs.sort_by_key(|(name, n)| (-n, *name));
    let total: i64 = costs.iter().map(|(_, n)| n).sum();
    if costs.iter().take(TOP).all(|(name, _)| name.starts_with("0x")) {
        println!("   No function names: the binary has no symbols (scripts/proxy-callgrind.sh builds one).");
        return Ok(());
    }
    println!("   Where a message's instructions go (self cost, per message):");
    for (name, n) in costs.into_iter().take(TOP) {
        let share = 100.0 * n as f64 / total.max(1) as f64;
        println!("{:>12.0} {share:>5.1}%  {}", n as f64 / messages as f64, shorten(name, 100));
    }
    Ok(())
}

/// Each function's self cost in a callgrind profile, by name, as `callgrind_annotate` lists them.
fn self_costs(out: &Path) -> anyhow::Result<HashMap<String, i64>> {
    let listing = Command::new("callgrind_annotate")
        .args(["--auto=no", "--inclusive=no", "--threshold=100"])
        .arg(out)
        .output()
        .context("callgrind_annotate")?;
    let mut costs = HashMap::new();
    // Lines of functions read `1,234 (5.6%)  file:function [object]`.
    for line in String::from_utf8_lossy(&listing.stdout).lines() {
        let Some((count, rest)) = line.trim_start().split_once(' ') else { continue };
        let Ok(count) = count.replace(',', "").parse::<i64>() else { continue };
        let rest = rest.trim_start();
        let rest =
            rest.strip_prefix('(').and_then(|r| r.split_once(')')).map_or(rest, |(_, r)| r.trim_start());
        let Some((_, function)) = rest.split_once(':') else { continue };
        let (function, object) = function.rsplit_once(" [").unwrap_or((function, ""));
        let name = match object.trim_end_matches(']') {
            object if object.contains(".so") => format!("{function} ({})", file_name(object)),
            _ => function.to_owned(),
        };
        *costs.entry(name).or_insert(0) += count;
    }
    Ok(costs)
}

fn file_name(path: &str) -> String {
    PathBuf::from(path).file_name().map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned())
}

fn shorten(name: &str, chars: usize) -> String {
    if name.chars().count() <= chars {
        return name.to_owned();
    }
    let cut: String = name.chars().take(chars - 1).collect();
    format!("{cut}…")
}

/// Whether `program` is installed (it starts; `callgrind_annotate --version` exits with 255).
fn has(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok()
}
