#!/usr/bin/env bash
# Coverage-guided fuzzing of what parses untrusted input (fuzz/): builds every cargo-fuzz target and runs
# each for a bounded number of inputs (FUZZ_RUNS, default 1,000,000), starting from the committed seeds.
# A crash fails the run and leaves the input in fuzz/artifacts/<target>/.
#
# cargo fuzz needs nightly-only compiler flags (sanitizer coverage); the machine has only the stable
# toolchain, so RUSTC_BOOTSTRAP=1 lets stable rustc accept them for this build only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tools="$root/.tools/cargo"
runs=${FUZZ_RUNS:-1000000}

if [ ! -x "$tools/bin/cargo-fuzz" ]; then
  echo "installing cargo-fuzz into .tools/cargo"
  cargo install --quiet cargo-fuzz --version '^0.13' --locked --root "$tools"
fi
cd fuzz
export RUSTC_BOOTSTRAP=1
"$tools/bin/cargo-fuzz" build -O
passed=0
for target in $("$tools/bin/cargo-fuzz" list); do
  mkdir -p "corpus/$target"
  cp -n seeds/"$target"/* "corpus/$target/" 2>/dev/null || true
  echo "== fuzz $target: $runs inputs"
  log="artifacts/$target.log"
  mkdir -p artifacts
  status=0
  "$tools/bin/cargo-fuzz" run -O "$target" -- -runs="$runs" -max_len=8192 -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(Done|stat::number_of_executed_units|==[0-9]+==|SUMMARY|thread .* panicked)' "$log" || true
  if [ "$status" -ne 0 ]; then
    echo "# fail 1"
    echo "fuzz target $target crashed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  passed=$((passed + 1))
done
echo "# pass $passed"
