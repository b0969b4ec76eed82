# shellcheck shell=bash
# The fuzz leg's runner (sourced by scripts/test): every libFuzzer harness
# of tests/fuzz for a fixed time, a few at a time, then executions per
# harness. Each starts from the checked-in seeds (tests/fuzz/corpus/NAME,
# never written to) plus what earlier runs in this build folder found
# (RUN/corpus/NAME, where libFuzzer adds new inputs). A crash, a leak, a
# timeout or a failed check saves the input as RUN/NAME-crash-* (or -leak-,
# -timeout-, -oom-): fix the library, then add that file to
# tests/fuzz/corpus/NAME/ as regression-*. FUZZ_SEED (scripts/test's
# --fuzz-seed) fixes libFuzzer's choices, so CI's run of a tree tries what a
# run here tried, give or take the executions the time allows; 0 lets
# libFuzzer pick.

FUZZ_HARNESSES=(frame result boot pool_ring queue_ring manager manager_lane)

# fuzz_one BUILD RUN NAME SECONDS: one harness; its log in RUN/NAME.log.
fuzz_one() {
  local b=$1 run=$2 name=$3 secs=$4
  mkdir -p "$run/corpus/$name"
  rm -f "$run/$name-"*
  # -timeout: an input that takes this long is a hang, and fails the run.
  # The hard limit covers a harness that does not stop by itself.
  timeout -k 10 $((secs + 120)) "$b/tests/fuzz/fuzz_$name" \
    -seed="${FUZZ_SEED:-1}" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$run/$name-" \
    "$run/corpus/$name" "$MPROC_ROOT/tests/fuzz/corpus/$name" >"$run/$name.log" 2>&1
  echo $? >"$run/$name.status"
}

# fuzz_all BUILD RUN SECONDS LANES: every harness, LANES at a time; prints
# a line per harness and returns non-zero if any failed.
fuzz_all() {
  local b=$1 run=$2 secs=$3 lanes=$4 lane pids=()
  mkdir -p "$run"
  for ((lane = 0; lane < lanes; lane++)); do
    (
      for ((i = lane; i < ${#FUZZ_HARNESSES[@]}; i += lanes)); do
        fuzz_one "$b" "$run" "${FUZZ_HARNESSES[i]}" "$secs"
      done
    ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  local bad=0 name rc execs cov
  for name in "${FUZZ_HARNESSES[@]}"; do
    rc=$(cat "$run/$name.status")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run/$name.log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$run/$name.log" | tail -n 1)
    printf '    %-11s %10s executions  coverage %-5s %s\n' "$name" "${execs:-?}" "${cov:-?}" \
      "$([[ $rc -eq 0 ]] && echo ok || echo "FAILED (exit $rc)")"
    if [[ $rc -ne 0 ]]; then
      bad=1
      grep -E -A12 'ERROR|fuzz check failed|SUMMARY|Test unit written' "$run/$name.log" | head -n 40 | sed 's/^/      | /'
    fi
  done
  return "$bad"
}
