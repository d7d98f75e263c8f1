# tests/lib/pipeline.bash: the frame of the suites that run the supervised
# real pipeline against ora-sim and kinesalite (chaos, e2e, ops, stop):
# `load lib/pipeline` loads helper, lib/sim, lib/kinesis and lib/supervise,
# and gives the setup and teardown below, which a suite may replace (calling
# pipeline_teardown from its own).
#
#   setup               each test runs in its own $BATS_TEST_TMPDIR
#   pipeline_teardown   stops the supervisor (and its stages), the Kinesis
#                       fault stand-in if one runs, ora-sim and kinesalite

load helper
load lib/sim
load lib/kinesis
load lib/supervise

setup() {
  cd "$BATS_TEST_TMPDIR"
}

pipeline_teardown() {
  sv_stop
  fault_stop
  sim_stop || true
  kinesalite_stop
}

teardown() {
  pipeline_teardown
}
