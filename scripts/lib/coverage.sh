# shellcheck shell=bash
# The coverage leg's report (sourced by scripts/test): gcov's line counts of
# src/, read by gcovr, from a native build's suite (fork and spawn) and a
# mingw build's suite under Wine, each built with MPROC_COVERAGE (so workers
# that end through _exit or exec write their counts first). Prints the
# figure of each, and of both together (src/posix counted natively,
# src/win32 under Wine, the core in either), then the least-covered files:
# what no test reaches.

# cov_read BUILD OUT.json [GCOV]: gcovr over BUILD's counts, kept as JSON.
cov_read() {
  local b=$1 out=$2 gcov=${3:-gcov}
  # BUILD as the only search path: a Wine prefix below the root links back to /.
  gcovr --root "$MPROC_ROOT" "$MPROC_ROOT/$b" --filter "$MPROC_ROOT/src/" --gcov-executable "$gcov" \
    --json "$out" >/dev/null
}

# cov_table TITLE FILTER JSON...: one line per file under FILTER, the least
# covered first, and the total, from one or more JSON reads merged.
cov_table() {
  local title=$1 filter=$2
  shift 2
  local adds=() j
  for j in "$@"; do adds+=(--add-tracefile "$j"); done
  local txt
  txt=$(gcovr --root "$MPROC_ROOT" "${adds[@]}" --filter "$MPROC_ROOT/$filter" --txt -) || return 1
  local total
  total=$(awk '$1 == "TOTAL" { print $4 " (" $3 " of " $2 " lines)" }' <<<"$txt")
  printf '    %-44s %s\n' "$title" "${total:-?}"
}

# cov_least N JSON...: the N least-covered files of src/, with their lines.
cov_least() {
  local n=$1
  shift
  local adds=() j
  for j in "$@"; do adds+=(--add-tracefile "$j"); done
  gcovr --root "$MPROC_ROOT" "${adds[@]}" --filter "$MPROC_ROOT/src/" --txt - |
    awk '$1 ~ /^src\// && NF >= 4 { pct = $4; sub(/%/, "", pct); printf "%6s%%  %5d of %5d  %s\n", pct, $3, $2, $1 }' |
    sort -n | head -n "$n" | sed 's/^/      /'
}

# cov_report NATIVE_BUILD MINGW_BUILD: reads both, prints the figures and
# writes the whole per-file tables next to them (coverage.txt).
cov_report() {
  local nb=$1 wb=$2 nj=$MPROC_ROOT/$1/coverage.json wj=$MPROC_ROOT/$2/coverage.json
  cov_read "$nb" "$nj" gcov || return 1
  cov_read "$wb" "$wj" x86_64-w64-mingw32-gcov || return 1
  gcovr --root "$MPROC_ROOT" --add-tracefile "$nj" --filter "$MPROC_ROOT/src/" --txt "$MPROC_ROOT/$nb/coverage.txt"
  gcovr --root "$MPROC_ROOT" --add-tracefile "$wj" --filter "$MPROC_ROOT/src/" --txt "$MPROC_ROOT/$wb/coverage.txt"
  echo "    line coverage (whole tables: $nb/coverage.txt, $wb/coverage.txt)"
  cov_table "src/, Linux (fork and spawn)" src/ "$nj"
  cov_table "src/posix/, Linux" src/posix/ "$nj"
  cov_table "src/, Windows under Wine" src/ "$wj"
  cov_table "src/win32/, Windows under Wine" src/win32/ "$wj"
  cov_table "src/, both (each line reached by either)" src/ "$nj" "$wj"
  echo "    the least covered files, both together:"
  cov_least 12 "$nj" "$wj"
}
