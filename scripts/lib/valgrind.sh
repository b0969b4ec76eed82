# shellcheck shell=bash
# The valgrind leg's runner (sourced by scripts/test): every suite under
# memcheck with the fork start method, its children followed, one log per
# process, then the logs read and every error and leak counted.
#
# Why the counting is ours and not valgrind's exit code alone: a fork child
# is a copy of its parent, heap included, and it ends with _exit deep in the
# worker. Blocks the parent allocated before the fork, and whose pointers
# lived only in its registers, read as "definitely lost" in the child,
# though the parent still holds and frees them (its own log says so). So a
# child is charged only with what it allocated itself, below fork_child in
# the stack; a process that is not a fork copy (the suite itself, a
# program a test execs) is charged with every leak. Leaks therefore do not
# count toward --error-exitcode (a child's exit code is part of what the
# tests check); memory errors do, in every process, and are counted too.

VG_SUPP=$MPROC_ROOT/tests/valgrind.supp
VG_OPTS=(
  --tool=memcheck
  --trace-children=yes
  --leak-check=full
  --show-leak-kinds=definite,indirect
  --errors-for-leak-kinds=none
  --error-exitcode=99
  --num-callers=40
  --fair-sched=yes # a spinning thread must not starve the one it waits for
  --suppressions="$VG_SUPP"
)

# vg_one LOGROOT NAME TIMEOUT CMD...: CMD under valgrind, its logs in
# LOGROOT/NAME; writes "rc seconds" to LOGROOT/NAME/status.
vg_one() {
  local dir=$1/$2 limit=$3
  shift 3
  rm -rf "$dir"
  mkdir -p "$dir"
  local t0=$SECONDS rc=0
  MPROC_START_METHOD=fork MPROC_TEST_VALGRIND=1 timeout -k 10 "$limit" \
    valgrind "${VG_OPTS[@]}" --log-file="$dir/%p.log" "$@" >"$dir/output.txt" 2>&1 || rc=$?
  echo "$rc $((SECONDS - t0))" >"$dir/status"
}

# vg_count DIR: "errors leaks" over every process log in DIR; the records
# that count are appended to DIR/counted.txt.
vg_count() {
  local dir=$1
  : >"$dir/counted.txt"
  local logs=("$dir"/*.log)
  [[ -e ${logs[0]} ]] || { echo "0 0"; return; }
  awk -v out="$dir/counted.txt" '
    function pid_of(line) { sub(/^==/, "", line); sub(/==.*/, "", line); return line }
    function body(line) { sub(/^==[0-9]+== ?/, "", line); return line }
    function flush() {
      if (kind == "leak" && (own || below_fork)) { leaks++; printf "%s\n%s\n", FILENAME_PREV, text >> out }
      if (kind == "error") { file_errors++; printf "%s\n%s\n", FILENAME_PREV, text >> out }
      kind = ""; text = ""; below_fork = 0
    }
    function end_file() {
      flush()
      errors += summary_seen ? summary : file_errors
    }
    pass == 1 && /^==[0-9]+== Command: / { p = pid_of($0); cmd[p] = body($0) }
    pass == 1 && /^==[0-9]+== Parent PID: / { p = pid_of($0); parent[p] = $NF }
    pass == 2 && FNR == 1 {
      if (started) end_file()
      started = 1; summary_seen = 0; summary = 0; file_errors = 0
      me = ""; own = 1; FILENAME_PREV = FILENAME
    }
    pass == 2 && /^==[0-9]+==/ {
      if (me == "") {
        me = pid_of($0)
        # A fork copy runs its parent command; an exec or the suite itself does not.
        own = !((me in parent) && (parent[me] in cmd) && cmd[parent[me]] == cmd[me])
      }
      line = body($0)
      if (line == "") { flush(); next }
      if (line ~ /^ERROR SUMMARY: /) { split(line, f, " "); summary = f[3] + 0; summary_seen = 1; next }
      if (kind == "" && line ~ /blocks are (definitely|indirectly) lost in loss record/) { kind = "leak" }
      else if (kind == "" && line ~ /^(Invalid |Conditional jump|Use of uninitialised|Syscall param|Mismatched |Source and destination overlap|Argument .* of function)/) { kind = "error" }
      if (kind != "") {
        text = text $0 "\n"
        if (line ~ /fork_child/) below_fork = 1
      }
    }
    END { if (started) end_file(); printf "%d %d\n", errors, leaks }
  ' pass=1 "${logs[@]}" pass=2 "${logs[@]}"
}

# vg_clean LOGROOT NAME: whether that run exited 0 with no error or leak.
vg_clean() {
  local rc secs counts
  read -r rc secs <"$1/$2/status"
  counts=$(vg_count "$1/$2")
  [[ $rc -eq 0 && $counts == "0 0" ]]
}

# vg_run LOGROOT LANES SPEC...: each SPEC is "name timeout cmd args..." (one
# string, split on spaces); runs them LANES at a time, longest first as
# given. A run that fails, errs or leaks runs once more on its own; clean
# then, it is reported as flaky (scripts/test's flaky). Then a line per
# run; non-zero if any run failed twice.
vg_run() {
  local root=$1 lanes=$2
  shift 2
  local specs=("$@") pids=() lane
  for ((lane = 0; lane < lanes; lane++)); do
    (
      for ((i = lane; i < ${#specs[@]}; i += lanes)); do
        # shellcheck disable=SC2086 # the spec is split on purpose
        vg_one "$root" ${specs[i]}
      done
    ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  local bad=0 spec name rc secs counts errors leaks
  for spec in "${specs[@]}"; do
    name=${spec%% *}
    vg_clean "$root" "$name" && continue
    mv "$root/$name" "$root/$name.first"
    # shellcheck disable=SC2086
    vg_one "$root" $spec
    if vg_clean "$root" "$name"; then
      flaky "$LEG" "$name (logs of the failed run: $root/$name.first)"
    else
      rm -rf "$root/$name.first"
    fi
  done
  for spec in "${specs[@]}"; do
    name=${spec%% *}
    read -r rc secs <"$root/$name/status"
    counts=$(vg_count "$root/$name")
    errors=${counts% *} leaks=${counts#* }
    printf '    %-16s %4ss  exit %-3s  errors %-3s  leaks %s\n' "$name" "$secs" "$rc" "$errors" "$leaks"
    if [[ $rc -ne 0 || $errors -ne 0 || $leaks -ne 0 ]]; then
      bad=1
      [[ $rc -eq 0 ]] || tail -n 30 "$root/$name/output.txt" | sed 's/^/      | /'
      [[ -s $root/$name/counted.txt ]] && head -n 60 "$root/$name/counted.txt" | sed 's/^/      | /'
    fi
  done
  return "$bad"
}
