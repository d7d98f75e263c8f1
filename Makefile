# ora-pipeline: every cmd/NAME.c becomes bin/NAME, linked with every lib/*.c.
# The simulator's modules (sim/*.c) make a library of their own, linked only
# into ora-sim and the unit tests and fuzz targets named sim_*.
# New tools, libraries, suites, fuzz targets, test shims and benchmarks are
# picked up by wildcard: adding a file never needs an edit here.

VERSION := 1.1.0
PKGS    := openssl zlib libcurl libcjson libsodium
CC      ?= cc
OPT     ?= -O2 -g
XCFLAGS ?=
BUILD   ?= build
BIN     ?= bin
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man
SHAREDIR:= $(PREFIX)/share/ora-pipeline

# pkg-config is asked when a recipe first needs the flags, not when this file
# is read: `make demo` installs the -dev packages (deps) and then builds in
# the same run, so the answer must come after deps. Evaluated once.
pkg_or_fail = $(if $(shell pkg-config --exists $(PKGS) && echo ok),$(shell pkg-config $(1) $(PKGS)),\
  $(error missing development packages ($(PKGS)): run 'make deps' as root, or see scripts/deps))
PKG_CFLAGS = $(eval PKG_CFLAGS := $(call pkg_or_fail,--cflags))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $(call pkg_or_fail,--libs))$(PKG_LIBS)

CFLAGS  = -std=c11 $(OPT) -Wall -Wextra -Werror -D_GNU_SOURCE -Ilib -Isim $(XCFLAGS) $(PKG_CFLAGS)
LDLIBS  = $(PKG_LIBS) -lm

# The version every tool prints: VERSION, plus the commit when built from a
# git checkout ("1.1.0 (git 1a2b3c4)", "-dirty" for uncommitted changes).
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null)
GIT_DIRTY := $(shell git status --porcelain --untracked-files=no 2>/dev/null | head -c1)
VERSION_STR := $(VERSION)$(if $(GIT_REV), (git $(GIT_REV)$(if $(GIT_DIRTY),-dirty)))

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRC)) $(BUILD)/lib/version.o
SIM_SRC  := $(wildcard sim/*.c)
SIM_OBJ  := $(patsubst sim/%.c,$(BUILD)/sim/%.o,$(SIM_SRC))
HDRS     := $(wildcard lib/*.h sim/*.h)
CMD_SRC  := $(wildcard cmd/*.c)
TOOLS    := $(patsubst cmd/%.c,$(BIN)/%,$(CMD_SRC))
UNIT_SRC := $(wildcard tests/unit/*.c)
UNITS    := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
SHIM_SRC := $(wildcard tests/shim/*.c)
SHIMS    := $(patsubst tests/shim/%.c,$(BUILD)/shim/%.so,$(SHIM_SRC))
BENCH_SRC:= $(wildcard bench/*.c)
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
FUZZ_SRC := $(wildcard fuzz/*.c)
FUZZERS  := $(patsubst fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
MANS     := $(wildcard man/*.[0-9])
SCRIPTS  := $(filter-out scripts/deps,$(wildcard scripts/*))
EXAMPLES := $(wildcard examples/*)

# The shared test data (the official SigV4 vectors) beside the checkout.
ORA_SHARED ?= $(firstword $(wildcard $(CURDIR)/../shared $(CURDIR)/../../shared) $(CURDIR)/../shared)

ASAN_OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

.PHONY: all deps test check-man check-bats unit bats asan asan-test fuzz fuzz-smoke bench demo \
        install uninstall clean mutants FORCE
all: $(TOOLS) $(UNITS) $(SHIMS) $(BENCHES)

# Rewritten only when the text changes, so a build without changes is a no-op.
$(BUILD)/lib/version.c: FORCE
	@mkdir -p $(dir $@)
	@printf 'const char ora_version[] = "%s";\n' '$(VERSION_STR)' >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/lib/version.o: $(BUILD)/lib/version.c
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/lib/%.o: lib/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/sim/%.o: sim/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libora.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libsim.a: $(SIM_OBJ)
	rm -f $@ && ar rcs $@ $^

# The simulator's library goes only to what is named for it.
SIMLIB = $(if $(filter ora-sim sim_%,$(notdir $@)),$(BUILD)/libsim.a)
$(BIN)/ora-sim $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/sim_*.c)): $(BUILD)/libsim.a

$(BIN)/%: cmd/%.c $(BUILD)/libora.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(SIMLIB) $(BUILD)/libora.a $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libora.a $(HDRS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(SIMLIB) $(BUILD)/libora.a $(LDLIBS)

# LD_PRELOAD shims that inject faults the real system will not produce on
# demand (a failing fsync, a crash inside a write); used by the bats suites.
# Never built with a sanitizer: they are preloaded into any process.
$(BUILD)/shim/%.so: tests/shim/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fPIC -shared -o $@ $< -ldl

$(BUILD)/bench/%: bench/%.c $(BUILD)/libora.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libora.a $(LDLIBS)

# Installs missing Debian packages (as root) and the local npm packages.
deps:
	@scripts/deps

check-man:
	@for m in $(MANS); do mandoc -Tlint -W warning $$m || exit 1; done; echo "man pages: $(words $(MANS)) lint clean"

# Assertions that cannot fail (a bare `! cmd` line, `[ a ] && [ b ]` as a
# check) must not come back into the suites.
check-bats:
	@tests/tools/check-bats tests/*.bats tests/lib/*.bash

unit: $(UNITS)
	@for u in $(UNITS); do echo "unit: $$u"; ORA_SHARED=$(ORA_SHARED) $$u || exit 1; done

bats: $(TOOLS) $(SHIMS)
	ORA_BIN=$(CURDIR)/$(BIN) ORA_BUILD=$(CURDIR)/$(BUILD) ORA_SHARED=$(ORA_SHARED) bats $(BATS_FLAGS) tests/

# Mutation testing: each tests/mutants/*.patch in a copy of the tree must be
# caught by a test (tests/MUTANTS.md). Slow (about 12 minutes): not in `test`.
mutants:
	ORA_SHARED=$(ORA_SHARED) tests/tools/mutants

# deps first, then a new make: the link flags are only known after deps.
test: deps
	$(MAKE) all
	$(MAKE) check-man
	$(MAKE) check-bats
	$(MAKE) unit
	$(MAKE) bats

asan:
	$(MAKE) all BUILD=build-asan BIN=build-asan/bin CC=clang OPT="$(ASAN_OPT)"

asan-test: deps asan
	$(MAKE) unit bats BUILD=build-asan BIN=build-asan/bin CC=clang OPT="$(ASAN_OPT)" \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1

FUZZ_CFLAGS = -std=c11 -g -O1 -D_GNU_SOURCE -Ilib -Isim $(PKG_CFLAGS)
FUZZ_OBJ := $(patsubst lib/%.c,build-fuzz/lib/%.o,$(LIB_SRC)) build-fuzz/lib/version.o
FUZZ_SIM_OBJ := $(patsubst sim/%.c,build-fuzz/sim/%.o,$(SIM_SRC))

build-fuzz/lib/version.o: $(BUILD)/lib/version.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

build-fuzz/lib/%.o: lib/%.c $(HDRS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

build-fuzz/sim/%.o: sim/%.c $(HDRS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

build-fuzz/libora.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

build-fuzz/libsim.a: $(FUZZ_SIM_OBJ)
	rm -f $@ && ar rcs $@ $^

build-fuzz/%: fuzz/%.c $(wildcard fuzz/*.h) build-fuzz/libora.a build-fuzz/libsim.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
	  $(if $(filter sim_%,$*),build-fuzz/libsim.a) build-fuzz/libora.a $(LDLIBS)

fuzz: deps
	$(MAKE) $(FUZZERS)

FUZZ_SECONDS ?= 30
fuzz-smoke: fuzz
	@for f in $(FUZZERS); do n=$$(basename $$f); mkdir -p build-fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build-fuzz/corpus-$$n fuzz/corpus/$$n 2>build-fuzz/$$n.log \
	    || { tail -50 build-fuzz/$$n.log; exit 1; }; grep -E 'stat::number_of_executed_units' build-fuzz/$$n.log; done

bench: deps
	$(MAKE) all
	@bench/run

demo: deps
	$(MAKE) all
	@scripts/ora-supervise --demo

# Tools, scripts and man pages under DESTDIR/PREFIX; the examples (systemd
# unit, logrotate, alerting rules) under share/ora-pipeline/examples.
# Scripts carry the version they were installed with.
install: $(TOOLS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5
	install -m 0755 $(TOOLS) $(DESTDIR)$(BINDIR)/
	for s in $(SCRIPTS); do \
	  sed 's/^version=.*/version="$(VERSION_STR)"/' $$s >$(DESTDIR)$(BINDIR)/$$(basename $$s).tmp && \
	  chmod 0755 $(DESTDIR)$(BINDIR)/$$(basename $$s).tmp && \
	  mv $(DESTDIR)$(BINDIR)/$$(basename $$s).tmp $(DESTDIR)$(BINDIR)/$$(basename $$s) || exit 1; done
	install -m 0644 $(filter %.1,$(MANS)) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(filter %.5,$(MANS)) $(DESTDIR)$(MANDIR)/man5/
	$(if $(EXAMPLES),install -d $(DESTDIR)$(SHAREDIR)/examples && install -m 0644 $(EXAMPLES) $(DESTDIR)$(SHAREDIR)/examples/)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(TOOLS) $(SCRIPTS)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(filter %.1,$(MANS))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(filter %.5,$(MANS))))
	rm -rf $(DESTDIR)$(SHAREDIR)

clean:
	rm -rf build build-asan build-fuzz bin
