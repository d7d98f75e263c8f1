#!/usr/bin/env bats
# ora-rec as a command: usage, options, exit codes, files, write failures,
# stats, cat, verify, and `wire` checked with an independent decoder
# (python3 zlib). The record format itself: tests/records.bats.

load helper
load lib/records

setup() {
  T=$BATS_TEST_TMPDIR
  MSGS=$FIXTURES/ora-messages.jsonl
}

SUBCOMMANDS=(pack unpack cat verify wire stats)

# ---- help, version, usage ---------------------------------------------------

@test "help: -h and --help print the usage on stdout and exit 0, also after a subcommand" {
  local a
  for a in -h --help "pack -h" "unpack --help" "cat -h" "verify --help" "wire -h" "stats --help"; do
    run_split ora-rec $a
    assert_success
    assert_line -n 0 --regexp '^usage: ora-rec pack '
    for s in "${SUBCOMMANDS[@]}"; do assert_output --partial "ora-rec $s"; done
    [ -z "$stderr" ] || fail "ora-rec $a wrote to stderr: $stderr"
  done
  run_split ora-rec --version
  assert_success
  assert_output --regexp '^ora-rec [0-9]'
}

# The options of each subcommand as "SUB --opt --opt ..." from a synopsis text.
synopsis_opts() {
  awk '
    /ora-rec (pack|unpack|cat|verify|wire|stats)/ { if (sub_) print sub_, opts; match($0, /ora-rec [a-z]+/); sub_ = substr($0, RSTART + 8, RLENGTH - 8); opts = "" }
    /ora-rec -h/ { if (sub_) print sub_, opts; sub_ = "" }
    sub_ { n = split($0, w, /[^-a-z]+/); for (i = 1; i <= n; i++) if (w[i] ~ /^--?[a-z]/) opts = opts " " w[i] }
  ' | awk '{ printf "%s", $1; n = split($0, a, " "); delete seen; for (i = 2; i <= n; i++) if (!(a[i] in seen)) { seen[a[i]] = 1; printf " %s", a[i] } print "" }' | sort
}

@test "help: the usage lists the same options per subcommand as the man page SYNOPSIS" {
  ora-rec --help | synopsis_opts >"$T/usage"
  mandoc -Tascii "$TOP/man/ora-rec.1" | col -b | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | synopsis_opts >"$T/man"
  [ "$(wc -l <"$T/usage")" -eq 6 ]
  diff -u "$T/man" "$T/usage"
}

@test "help: every subcommand accepts each option its usage lists" {
  local line sub opt arg
  ora-rec --help | synopsis_opts >"$T/usage"
  while read -r sub line; do
    for opt in $line; do
      case $opt in
        --type) arg="--type msg" ;; --key-field) arg="--type out --key-field id" ;;
        --flow) arg="--flow replay" ;; --conn) arg="--conn 3" ;; --max-record) arg="--max-record 1K" ;;
        --per-member) arg="--per-member 2..3" ;; --chunk) arg="--chunk 10..20" ;; --seed) arg="--seed 9" ;;
        -i) arg="-i /dev/null" ;; -o) arg="-o $T/o.$sub" ;; *) arg=$opt ;;
      esac
      run_split ora-rec "$sub" $arg </dev/null
      [ "$status" -eq 0 ] || fail "ora-rec $sub $arg: exit $status: $stderr"
    done
  done <"$T/usage"
}

@test "help: options a subcommand's usage does not list are refused with 64" {
  local sub opt arg
  ora-rec --help | synopsis_opts >"$T/usage"
  for sub in "${SUBCOMMANDS[@]}"; do
    for opt in --type --key-field --meta --route --flow --conn --strict --max-record --per-member --chunk --seed --raw -o; do
      grep -qE "^$sub( | .* )$opt( |\$)" "$T/usage" && continue
      case $opt in
        --type) arg="--type msg" ;; --key-field) arg="--key-field id" ;; --flow) arg="--flow replay" ;;
        --conn) arg="--conn 3" ;; --max-record) arg="--max-record 1K" ;; --per-member) arg="--per-member 2" ;;
        --chunk) arg="--chunk 10" ;; --seed) arg="--seed 9" ;; -o) arg="-o $T/x" ;; *) arg=$opt ;;
      esac
      run_split ora-rec "$sub" $arg </dev/null
      [ "$status" -eq 64 ] || fail "ora-rec $sub $arg: exit $status, want 64"
    done
  done
}

@test "usage: wrong usage exits 64 with one error line, reading nothing" {
  local args
  cd "$T"
  while IFS= read -r args; do
    [ -n "$args" ] || continue
    run_split bash -c "ora-rec $args" <"$MSGS"
    [ "$status" -eq 64 ] || fail "ora-rec $args: exit $status, want 64"
    assert_output ''
    [ "$(grep -c '^ora-rec: error: ' <<<"$stderr")" -eq 1 ] || fail "ora-rec $args: $stderr"
    [ ! -e "$T/never" ] || fail "ora-rec $args created its output"
  done <<'EOF'

bogus
PACK
--nope
pack --nope
pack -x
pack extra-argument
unpack -
pack --type
pack --type bogus
pack --type out
pack --type out --meta --key-field
pack --key-field id
pack --type msg --key-field id
pack --type ctrl --route
pack --type out --key-field id --route
pack --flow bogus
pack --flow none
pack --conn -1
pack --conn 4294967296
pack --conn 1x
pack --seed 1
pack --raw
pack --chunk 1..2
unpack --type msg
unpack --route
unpack --key-field id
unpack --raw
unpack --flow replay
cat --meta
verify --strict
verify --meta
verify -o never
wire --strict
wire --meta
wire --max-record 1K
wire --type msg
stats --meta
stats --seed 3
unpack --max-record 0
unpack --max-record -1
unpack --max-record ''
unpack --max-record 10X
unpack --max-record 1.5K
unpack --max-record 2G
unpack --max-record 1073741825
unpack --max-record 18446744073709551616
wire --chunk 0..3
wire --chunk 5..1
wire --chunk 1..16777217
wire --chunk 1..
wire --chunk ..5
wire --chunk a..b
wire --per-member 0
wire --per-member 1..100001
wire --per-member 3..2
wire --seed -1
wire --seed 1.5
wire --seed 18446744073709551616
wire --seed ''
wire --conn 4294967296
EOF
}

@test "usage: numbers at the edges of their ranges are accepted" {
  local args
  while IFS= read -r args; do
    run_split bash -c "ora-rec $args" </dev/null
    [ "$status" -eq 0 ] || fail "ora-rec $args: exit $status: $stderr"
  done <<'EOF'
unpack --max-record 1
unpack --max-record 1G
unpack --max-record 1073741824
verify --max-record 16M
wire --chunk 1..1
wire --chunk 16777216
wire --per-member 100000
wire --per-member 1..100000
wire --seed 0
wire --seed 18446744073709551615
wire --conn 0
wire --conn 4294967295
pack --conn 4294967295
EOF
}

# ---- files ------------------------------------------------------------------

@test "files: -i/-o and --input/--output, '-' for stdin/stdout" {
  ora-rec pack -i "$MSGS" -o "$T/a.rec"
  ora-rec pack --input "$MSGS" --output "$T/b.rec"
  ora-rec pack -i - -o - <"$MSGS" >"$T/c.rec"
  ora-rec unpack -i "$T/a.rec" -o "$T/a.out"
  ora-rec unpack --input - --output - <"$T/b.rec" >"$T/b.out"
  ora-rec unpack <"$T/c.rec" >"$T/c.out"
  cmp "$MSGS" "$T/a.out"
  cmp "$MSGS" "$T/b.out"
  cmp "$MSGS" "$T/c.out"
  # -o truncates what was there.
  head -c 100000 /dev/zero >"$T/big"
  ora-rec unpack -i "$T/a.rec" -o "$T/big"
  cmp "$MSGS" "$T/big"
  run_split ora-rec verify -i "$T/a.rec"
  assert_success
  assert_output --regexp "^28 records, $(stat -c %s "$T/a.rec") bytes: all sound$"
}

@test "files: a missing input, a directory as input, an output in a missing directory exit 74" {
  local sub
  for sub in "${SUBCOMMANDS[@]}"; do
    run_split ora-rec "$sub" -i "$T/missing"
    [ "$status" -eq 74 ] || fail "$sub -i missing: exit $status"
    stderr_has "^ora-rec: error: unable to open .*missing"
    run_split ora-rec "$sub" -i "$T"
    [ "$status" -eq 74 ] || fail "$sub -i DIR: exit $status"
    stderr_has "^ora-rec: error: unable to "
    [ "$sub" = verify ] && continue
    run_split ora-rec "$sub" -o "$T/no/such/dir/x" </dev/null
    [ "$status" -eq 74 ] || fail "$sub -o missing dir: exit $status"
  done
}

@test "write failures: every subcommand exits 74 when stdout is /dev/full" {
  ora-rec pack <"$MSGS" >"$T/a.rec"
  local cmd
  while IFS= read -r cmd; do
    run_split bash -c "$cmd >/dev/full"
    [ "$status" -eq 74 ] || fail "$cmd > /dev/full: exit $status"
    stderr_has '^ora-rec: error: unable to (write|close)'
    run_split bash -c "$cmd -o /dev/full"
    [[ $cmd == *verify* ]] || [ "$status" -eq 74 ] || fail "$cmd -o /dev/full: exit $status"
  done <<EOF
ora-rec pack <$MSGS
ora-rec pack --type out --key-field offset <$MSGS
ora-rec unpack <$T/a.rec
ora-rec unpack --meta <$T/a.rec
ora-rec cat <$T/a.rec
ora-rec stats <$T/a.rec
ora-rec verify <$T/a.rec
ora-rec wire <$MSGS
ora-rec wire --raw <$MSGS
EOF
}

@test "write failures: a closed pipe (EPIPE) exits 74, not killed by SIGPIPE" {
  recpy gen 20000 5 200 400 >"$T/in"
  ora-rec pack <"$T/in" >"$T/a.rec"
  local cmd rc
  for cmd in "pack -i $T/in" "unpack -i $T/a.rec" "unpack --meta -i $T/a.rec" "cat -i $T/a.rec" "wire -i $T/in" "wire --raw -i $T/in"; do
    rc=$(bash -c "ora-rec $cmd 2>'$T/err' | head -c 10 >/dev/null; echo \${PIPESTATUS[0]}")
    [ "$rc" -eq 74 ] || fail "ora-rec $cmd | head: exit $rc: $(cat "$T/err")"
    grep -q '^ora-rec: error: unable to write output: Broken pipe' "$T/err" || fail "$(cat "$T/err")"
  done
}

# ---- strictness, summary ------------------------------------------------------

@test "pack: bad lines are skipped with a warning naming the line; --strict exits 65" {
  printf '{"a":1}\nnot json\n{"b":\n{"c":3}\n' >"$T/in"
  run_split ora-rec pack -i "$T/in" -o "$T/a.rec"
  assert_success
  assert_regex "$stderr" 'warning: skipped line 2: '
  assert_regex "$stderr" 'warning: skipped line 3: '
  assert_regex "$stderr" 'summary: pack: 2 records, .* 2 bad lines'
  ora-rec unpack <"$T/a.rec" | cmp - <(printf '{"a":1}\n{"c":3}\n')
  run_split ora-rec pack --strict -i "$T/in" -o "$T/b.rec"
  assert_failure 65
  stderr_has '^ora-rec: error: unable to pack line 2: '
}

@test "summary: one line on exit at info, none at warn; an unknown ORA_LOG is a configuration error" {
  ora-rec pack <"$MSGS" >"$T/a.rec"
  ORA_LOG=info run_split ora-rec verify -i "$T/a.rec"
  [ "$(grep -c '^ora-rec: summary: verify: 28 records' <<<"$stderr")" -eq 1 ]
  ORA_LOG=warn run_split ora-rec verify -i "$T/a.rec"
  assert_success
  [ -z "$stderr" ]
  ORA_LOG=chatty run_split ora-rec verify -i "$T/a.rec"
  assert_equal "$status" 78
  assert_regex "$stderr" "error: .*ORA_LOG.*chatty"
}

# ---- stats, cat, verify -------------------------------------------------------

@test "stats: counts per type, records, bytes, offset and time ranges" {
  cat >"$T/meta" <<'EOF'
{"type":"MSG","recv_ns":1000000000000000,"offset":5,"data":{"offset":5}}
{"type":"MSG","recv_ns":1000000005000000,"offset":2,"data":{"offset":2}}
{"type":"MSG","recv_ns":1000000001000000,"offset":9,"data":{"offset":9}}
{"type":"CTRL","recv_ns":1000000002000000,"kind":"connected","conn":1,"data":{"ctrl":"connected","conn":1}}
{"type":"OUT","recv_ns":1000000003000000,"key":"k","data":{"x":1}}
{"type":"WIRE","recv_ns":1000000004000000,"conn":1,"data_base64":"AAEC"}
{"type":"WIRE","recv_ns":1000000004000000,"conn":1,"data_base64":"AAEC"}
EOF
  ora-rec pack --meta --strict <"$T/meta" >"$T/a.rec"
  run_split ora-rec stats -i "$T/a.rec"
  assert_success
  assert_output - <<EOF
WIRE  2
MSG   3
CTRL  1
OUT   1
records 7
bytes $(stat -c %s "$T/a.rec")
offsets 2..9
time 1970-01-12T13:46:40.000Z..1970-01-12T13:46:40.005Z
corrupt 0
skipped_bytes 0
truncated 0
EOF
  # The same counts survive damage to one record.
  cp "$T/a.rec" "$T/b.rec"
  recpy flip "$T/b.rec" 70
  run ora-rec stats -i "$T/b.rec"
  assert_line 'MSG   2'
  assert_line 'records 6'
  assert_line 'offsets 2..9'
  assert_line 'corrupt 1'
}

@test "cat: one header line per record with its number and byte offset, then the payload" {
  { ora-rec pack <"$MSGS"; ora-rec pack --type out --key-field event_id <<<'{"event_id":"E7","x":1}'; ora-rec wire --chunk 100 <"$MSGS"; } >"$T/a.rec"
  recpy starts "$T/a.rec" >"$T/starts"
  run_split ora-rec cat -i "$T/a.rec"
  assert_success
  grep -E '^#[0-9]+ @[0-9]+ ' <<<"$output" | sed -E 's/^#([0-9]+) @([0-9]+) +([A-Z]+) +len=([0-9]+).*/\1 \2 \4 \3/' >"$T/hdr"
  [ "$(wc -l <"$T/hdr")" -eq "$(wc -l <"$T/starts")" ]
  # Numbers count from 1; offsets and lengths agree with an independent parse.
  paste -d' ' <(cut -d' ' -f1-3 "$T/hdr") <(awk '{ print NR, $1, $2 }' "$T/starts") | awk '$1 != $4 || $2 != $5 || $3 != $6 { bad = 1; print } END { exit bad }'
  assert_output --partial 'key: E7'
  assert_output --partial '{"type":"SESSION_WELCOME","sessionWelcome":{}}'
  grep -q ' WIRE$' "$T/hdr"
  # Long payloads are cut for people, with their size.
  assert_output --regexp '\.\.\. \([0-9]+ bytes\)'
}

@test "cat and verify report damage and go on" {
  ora-rec pack <"$MSGS" >"$T/a.rec"
  local at
  at=$(recpy starts "$T/a.rec" | sed -n 3p | cut -d' ' -f1)
  recpy flip "$T/a.rec" $((at + 66))
  run_split ora-rec cat -i "$T/a.rec"
  assert_success
  [ "$(grep -cE '^#[0-9]+ @' <<<"$output")" -eq 27 ]
  assert_regex "$stderr" "warning: .*byte offset $at\b"
  run_split ora-rec verify -i "$T/a.rec"
  assert_failure 65
  assert_output --regexp '^27 records, [0-9]+ bytes: CORRUPT$'
  assert_regex "$stderr" "byte offset $at\b"
  stderr_has '^ora-rec: error: unable to verify'
}

# ---- wire: an independent decoder (python3 zlib) ---------------------------------

# check_wire PER-MEMBER CHUNK SEED INPUT: wire output decodes back to INPUT; cuts and
# members respect the ranges (the last of each may be short).
check_wire() {
  local pm=$1 ch=$2 seed=$3 in=$4 lo hi
  ora-rec wire --per-member "$pm" --chunk "$ch" --seed "$seed" --conn 5 -i "$in" -o "$T/w.rec"
  ora-rec unpack -i "$T/w.rec" | recpy wiredec b64 >"$T/dec" 2>"$T/members"
  cmp "$in" "$T/dec" || fail "wire $pm $ch $seed does not decode to its input"
  # Record sizes within --chunk, all but the last.
  lo=${ch%..*} hi=${ch#*..}
  ora-rec unpack --meta -i "$T/w.rec" | jq -r .len >"$T/lens"
  head -n -1 "$T/lens" | awk -v lo="$lo" -v hi="$hi" '$1 < lo || $1 > hi { print "record of " $1 " bytes outside " lo ".." hi; bad = 1 } END { exit bad }'
  [ "$(tail -n 1 "$T/lens")" -le "$hi" ]
  ora-rec unpack --meta -i "$T/w.rec" | jq -s -e 'all(.[]; .type == "WIRE" and .conn == 5) and ([.[].recv_ns] | . == sort)' >/dev/null
  # Frames per member within --per-member, all but the last.
  lo=${pm%..*} hi=${pm#*..}
  read -r _ members <"$T/members"
  printf '%s\n' $members | head -n -1 | awk -v lo="$lo" -v hi="$hi" '$1 < lo || $1 > hi { print "member of " $1 " frames outside " lo ".." hi; bad = 1 } END { exit bad }'
  # --raw is the same bytes without records.
  ora-rec wire --per-member "$pm" --chunk "$ch" --seed "$seed" --raw -i "$in" >"$T/w.raw"
  ora-rec unpack -i "$T/w.rec" | base64 -d | cmp - "$T/w.raw"
}

@test "wire: decodes back to the input for several --per-member/--chunk/--seed settings" {
  recpy gen 300 8 50 3000 >"$T/in"
  check_wire 1..1 1..1 1 "$MSGS"
  check_wire 1..4 1..16384 1 "$T/in"
  check_wire 3..3 7..7 2 "$T/in"
  check_wire 1..100 100..5000 3 "$T/in"
  check_wire 2..9 1..64 4 "$T/in"
  check_wire 100000..100000 16777216..16777216 5 "$T/in"
  [ "$(wc -l <"$T/lens")" -eq 1 ]
}

@test "wire: frames larger than chunks and members (1 MiB lines)" {
  recpy gen 6 9 1048576 1300000 >"$T/in"
  check_wire 1..2 1000..70000 6 "$T/in"
}

@test "wire: the same seed gives the same cuts; another seed other cuts" {
  recpy gen 500 10 50 400 >"$T/in"
  ora-rec wire --seed 42 --raw -i "$T/in" >"$T/a"
  ora-rec wire --seed 42 --raw -i "$T/in" >"$T/b"
  cmp "$T/a" "$T/b"
  ora-rec wire --seed 42 --chunk 10..900 -i "$T/in" | ora-rec unpack >"$T/ra"
  ora-rec wire --seed 42 --chunk 10..900 -i "$T/in" | ora-rec unpack >"$T/rb"
  cmp "$T/ra" "$T/rb"
  ora-rec wire --seed 43 --chunk 10..900 -i "$T/in" | ora-rec unpack >"$T/rc"
  run cmp -s "$T/ra" "$T/rc"
  assert_failure
  ora-rec wire --seed 43 --raw -i "$T/in" >"$T/c"
  run cmp -s "$T/a" "$T/c"
  assert_failure
  recpy wiredec <"$T/c" 2>/dev/null | cmp - "$T/in"
}

@test "wire: empty input makes no records; blank lines make no frames" {
  run_split ora-rec wire </dev/null
  assert_success
  assert_output ''
  printf '{"a":1}\n\n{"b":2}\n' | ora-rec wire --raw | recpy wiredec 2>/dev/null | cmp - <(printf '{"a":1}\n{"b":2}\n')
}

# ---- the man page EXAMPLES run as written ---------------------------------------

@test "man: the EXAMPLES of ora-rec(1) run" {
  cd "$T"
  cp "$MSGS" msgs.jsonl
  sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$TOP/man/ora-rec.1" |
    awk '/^\.Bd -literal/ { on = 1; next } /^\.Ed/ { on = 0; next } on { print } /^\.Dl / { sub(/^\.Dl /, ""); print }' |
    sed 's/\\e$/\\/' >examples.sh
  [ "$(grep -c ora-rec examples.sh)" -ge 5 ]
  run bash -e -o pipefail examples.sh
  assert_success
}

@test "summary: SIGUSR1 prints a summary line while running, and the tool goes on" {
  ora-rec pack <"$MSGS" >"$T/a.rec"
  mkfifo "$T/fifo"
  ORA_LOG=info ora-rec unpack -i "$T/fifo" -o "$T/out" 2>"$T/err" &
  local pid=$! i
  exec 8>"$T/fifo"
  cat "$T/a.rec" >&8
  # Wait until the handler is installed (SigCgt has SIGUSR1, bit 9), then signal.
  for ((i = 0; i < 200; i++)); do
    [ "$(cat /proc/$pid/comm)" = ora-rec ] && (( 0x$(awk '/^SigCgt:/ { print $2 }' /proc/$pid/status) & (1 << 9) )) && break
    sleep 0.05
  done
  kill -USR1 "$pid"
  cat "$T/a.rec" >&8   # records read after the signal serve it
  exec 8>&-
  wait "$pid"
  [ "$(grep -c '^ora-rec: summary: unpack: ' "$T/err")" -eq 2 ]
  grep -q '^ora-rec: summary: unpack: 56 records' "$T/err"
  cat "$MSGS" "$MSGS" | cmp - "$T/out"
}

@test "files: pack reads lines arriving in tiny pieces through a pipe" {
  recpy gen 400 12 10 5000 >"$T/in"
  dd if="$T/in" bs=3 status=none | ora-rec pack | dd bs=5 status=none | ora-rec unpack >"$T/out"
  cmp "$T/in" "$T/out"
}

# live SUBCOMMAND INPUT-FILE: feeds INPUT-FILE into `ora-rec SUBCOMMAND` through a FIFO
# kept open, and reads the first output line while the input is still open.
live() {
  local sub=$1 in=$2 pid line=""
  mkfifo "$T/live.in" "$T/live.out"
  ora-rec "$sub" -i "$T/live.in" -o "$T/live.out" 2>/dev/null &
  pid=$!
  exec 9<"$T/live.out" 8>"$T/live.in"
  cat "$in" >&8
  IFS= read -t 10 -r line <&9 || true
  exec 8>&-
  cat <&9 >/dev/null
  exec 9<&-
  wait "$pid"
  LIVE_LINE=$line
}

@test "live: unpack and cat show records while their input is still open" {
  ora-rec pack <"$MSGS" >"$T/a.rec"
  live unpack "$T/a.rec"
  [ "$LIVE_LINE" = "$(head -n 1 "$MSGS")" ]
  rm -f "$T/live.in" "$T/live.out"
  live cat "$T/a.rec"
  [[ $LIVE_LINE == "#1 @0 MSG"* ]]
}

@test "live: pack writes records while its input is still open" {
  mkfifo "$T/in" "$T/out"
  ora-rec pack -i "$T/in" -o "$T/out" 2>/dev/null &
  local pid=$!
  exec 9<"$T/out" 8>"$T/in"
  head -n 1 "$MSGS" >&8
  timeout 10 head -c 110 <&9 >"$T/got" || true
  exec 8>&-
  cat <&9 >/dev/null
  exec 9<&-
  wait "$pid"
  # The first line's whole record (64 + 46 bytes) came before the input closed.
  [ "$(stat -c %s "$T/got")" -eq 110 ]
  ora-rec unpack -i "$T/got" | cmp - <(head -n 1 "$MSGS")
}
