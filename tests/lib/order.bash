# tests/lib/order.bash: helpers for tests/order.bats.
OFIX=$FIXTURES/order
RECPY=$TOP/tests/lib/records.py
ORDER_PIDS=()

# pack [ora-rec pack options]: JSON lines on stdin -> records on stdout, quietly.
pack() { ORA_LOG=warn ora-rec pack "$@"; }

# tsv FILE.rec: "type offset kind actor_type actor_id" per record, tab-separated.
tsv() {
  ORA_LOG=warn ora-rec unpack --meta -i "$1" |
    jq -r '[.type, (.offset // "-"), (.kind // "-"), (.actor_type // "-"), (.actor_id // "-"), (.flags // 0)] | @tsv'
}

# count_records FILE: sound records in FILE so far (a record being written is not counted).
count_records() { ORA_LOG=error ora-rec unpack -i "$1" 2>/dev/null | wc -l; }

# wait_records FILE N [SECS]: waits (default 10 s, generous) until FILE holds N records.
wait_records() {
  local f=$1 n=$2 t=${3:-10} i
  for ((i = 0; i < t * 20; i++)); do
    [[ -e $f && $(count_records "$f") -ge $n ]] && return 0
    sleep 0.05
  done
  echo "$f did not reach $n records within ${t}s (has $(count_records "$f"))" >&2
  return 1
}

# bg_order ARGS...: starts ora-order in the background (stdin in.fifo,
# stdout out.rec, stderr err.txt) and opens fd 8 for writing into in.fifo
# (fd 3 belongs to bats).
bg_order() {
  rm -f in.fifo && mkfifo in.fifo
  ora-order "$@" < in.fifo > out.rec 2> err.txt 3>&- 8>&- &
  ORDER_PID=$!
  ORDER_PIDS+=("$ORDER_PID")
  exec 8> in.fifo
}

kill_bg() {
  local p
  exec 8>&- 2>/dev/null || true
  for p in "${ORDER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  ORDER_PIDS=()
}

# msg OFFSET KEY ID: one JSON line of kind KEY (an id at .id) for actor ID.
msg() { printf '{"offset":%s,"%s":{"id":%s,"status":"OPEN"}}\n' "$1" "$2" "$3"; }
