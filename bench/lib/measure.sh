# Sourced by the benchmark scripts: run one command under a time limit and an address-space
# cap, and record its wall time, peak RSS and how it ended.
#
#   measure DIR NAME CMD...   runs CMD once with stdout in DIR/NAME.out, stderr in DIR/NAME.err,
#                             and writes "SECONDS PEAK_MIB STATUS" to DIR/NAME.m, where STATUS
#                             is ok (exit 0, 1 or 2), timeout, over-cap or "exit N".
# TIMEOUT (seconds, default 900) and CAP_MIB (default 4096) bound every command. A command
# that times out gets SIGTERM (SIGKILL 10 s later): `timeout` then reaps it and exits 124, so
# the peak RSS it reached is still counted.

measure() {
  local dir=$1 name=$2
  shift 2
  local start end
  start=$(date +%s%N)
  /usr/bin/time -f '%e %M %x' -o "$dir/$name.time" \
    bash -c 'ulimit -v "$0"; exec timeout -k 10 "$1" "${@:2}"' "$((${CAP_MIB:-4096} * 1024))" \
    "${TIMEOUT:-900}" "$@" >"$dir/$name.out" 2>"$dir/$name.err" || true
  end=$(date +%s%N)
  local line secs kib code status
  line=$(grep -E '^[0-9.]+ [0-9]+ [0-9]+$' "$dir/$name.time" | tail -1 || true)
  if [ -z "$line" ]; then # `timeout` itself killed: time prints "Command terminated by signal N"
    line="$(tail -1 "$dir/$name.time" | awk '{print $1, $2}') 137"
  fi
  read -r secs kib code <<<"$line"
  case $code in
  0 | 1 | 2) status=ok ;;
  124 | 137) status=timeout ;;
  134) status=over-cap ;;
  *) status="exit $code" ;;
  esac
  if grep -q 'memory allocation of' "$dir/$name.err"; then status=over-cap; fi
  # Wall time from the clock (time's %e has two decimals); it includes a few ms of start-up
  # (bash, time, timeout) that every command pays alike.
  secs=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }')
  printf '%s %s %s\n' "$secs" "$((kib / 1024))" "$status" >"$dir/$name.m"
}

# field DIR NAME N: field N (1 seconds, 2 peak MiB, 3- status) of a measurement.
field() { cut -d' ' -f"$3" "$1/$2.m"; }

# ratio A B: A / B with two decimals, or n/a.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# paired_ratio DIR NAME BASE REPEAT: the median over rounds r of NAME.r / BASE.r, then the
# lowest and highest of them ("MEDIAN MIN MAX"), or n/a. Each round runs NAME right after BASE,
# so a round's ratio compares two runs made at nearly the same machine speed: with the shared
# vCPUs drifting by a third within minutes, this is steadier than a ratio of two medians.
paired_ratio() {
  local dir=$1 name=$2 base=$3 repeat=$4 r
  for r in $(seq "$repeat"); do
    ratio "$(field "$dir" "$name.$r" 1)" "$(field "$dir" "$base.$r" 1)"
    echo
  done | grep -v n/a | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit }
      if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%.2f %.2f %.2f\n", m, v[1], v[NR] }'
}

# rust_size TREE: "LINES FILES" of the Rust sources under TREE.
rust_size() {
  printf '%s %s\n' "$(find "$1" -name '*.rs' -print0 | xargs -0 cat | wc -l)" "$(find "$1" -name '*.rs' | wc -l)"
}

# summarise DIR NAME REPEAT: folds the measurements NAME.1 .. NAME.REPEAT into NAME.m (the
# median wall time, the highest peak RSS, and "ok" only if every run was ok) and NAME.out (the
# first run's output). The machine's speed can drift by a third within minutes (shared
# virtual CPUs), so a ratio of two single runs can be off by as much; medians of interleaved
# runs are what a row compares.
summarise() {
  local dir=$1 name=$2 repeat=$3 r median rss status
  median=$(for r in $(seq "$repeat"); do field "$dir" "$name.$r" 1; done | sort -n |
    awk '{ v[NR] = $1 } END { if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.3f", m }')
  rss=$(for r in $(seq "$repeat"); do field "$dir" "$name.$r" 2; done | sort -n | tail -1)
  status=ok
  for r in $(seq "$repeat"); do
    [ "$(field "$dir" "$name.$r" 3-)" = ok ] || status=$(field "$dir" "$name.$r" 3-)
  done
  printf '%s %s %s\n' "$median" "$rss" "$status" >"$dir/$name.m"
  cp "$dir/$name.1.out" "$dir/$name.out"
}
