# Shared by the bench scripts (sourced): the median wall time of repeated
# runs of a command. Needs `runs` set by the caller.
now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.1f ms", m/1e6}'; }
time_runs() { # name, setup-command, command...
  local name=$1 setup=$2; shift 2
  for _ in $(seq "$runs"); do
    eval "$setup"
    local start; start=$(now)
    "$@" >/dev/null 2>&1 || true
    echo $(( $(now) - start ))
  done | median | sed "s/^/$name: /"
  echo
}
