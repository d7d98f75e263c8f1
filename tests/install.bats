#!/usr/bin/env bats
# make install / make uninstall into a temporary DESTDIR: the installed tools
# run, the installed manuals read with man -M, the installed supervisor finds
# its stages next to itself, the examples are there and check.

load helper
load lib/supervise

setup() {
  cd "$BATS_TEST_TMPDIR"
  D=$BATS_TEST_TMPDIR/root
  P=$D/usr/local
}

install_it() {
  run make -C "$TOP" install DESTDIR="$D" PREFIX=/usr/local
  [ "$status" -eq 0 ] || fail "make install: $output"
}

@test "install: tools, scripts, manuals and examples land under DESTDIR/PREFIX and run from there" {
  install_it
  for t in ora-connect ora-deframe ora-order ora-actors kinesis-put ora-rec ora-sim ora-supervise ora-demo gen-test-pki; do
    [ -x "$P/bin/$t" ] || fail "$t not installed"
  done
  # one version: the installed supervisor says what the installed tools say
  v=$("$P/bin/ora-order" --version)
  run "$P/bin/ora-supervise" --version
  assert_success
  assert_output "ora-supervise ${v#ora-order }"
  run "$P/bin/ora-demo" --version
  assert_output "ora-demo ${v#ora-order }"
  # the manuals, ora-records(5) included
  for m in 1:ora-supervise 1:ora-demo 1:ora-connect 1:kinesis-put 5:ora-records; do
    run env MANPAGER=cat man -M "$P/share/man" -P cat "${m%%:*}" "${m#*:}"
    [ "$status" -eq 0 ] || fail "man -M $P/share/man ${m%%:*} ${m#*:}: $output"
    [[ $output == *"${m#*:}"* ]] || fail "man ${m#*:}: $output"
  done
  for e in ora-pipeline.service ora-pipeline.logrotate ora-pipeline.rules.yml; do
    [ -s "$P/share/ora-pipeline/examples/$e" ] || fail "example $e not installed"
  done
}

@test "install: the installed supervisor finds its stages next to itself and runs them" {
  install_it
  # nothing points it at the source tree
  for v in $(compgen -e ORA_); do [[ $v == ORA_LOG ]] || unset "$v"; done
  run env PATH=/usr/bin:/bin "$P/bin/ora-supervise" --print --state-dir st
  assert_success
  assert_line --regexp "^connect: $P/bin/ora-connect "
  assert_line --regexp "^put: $P/bin/kinesis-put "
  # a replay of a capture through the installed stages, compared with the oracle
  "$P/bin/ora-sim" --dump --seed 4 --count 200 2>/dev/null | "$P/bin/ora-rec" wire >capture.rec 2>/dev/null
  env PATH=/usr/bin:/bin "$P/bin/ora-supervise" --from capture.rec --stdout --state-dir st \
    --set ORDER_ARGS="-t 0" >out.jsonl 2>sv.err || fail "installed supervisor: exit $?: $(tail -5 sv.err)"
  "$P/bin/ora-sim" --dump --seed 4 --count 200 2>/dev/null | sv_oracle >expected.jsonl
  run sv_compare expected.jsonl out.jsonl --any-flow
  assert_success
}

@test "install: the installed unit passes systemd-analyze verify against the installed supervisor and manual" {
  command -v systemd-analyze >/dev/null || skip "no systemd-analyze here"
  install_it
  sed "s|/usr/local/bin/ora-supervise|$P/bin/ora-supervise|" "$P/share/ora-pipeline/examples/ora-pipeline.service" >u.service
  MANPATH=$P/share/man: run systemd-analyze verify ./u.service
  assert_success
  assert_output ""
}

@test "install: make uninstall removes every file it installed" {
  install_it
  [ -n "$(find "$D" -type f)" ]
  run make -C "$TOP" uninstall DESTDIR="$D" PREFIX=/usr/local
  assert_success
  run find "$D" -type f
  assert_output ""
}
