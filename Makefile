# ora-pipeline: every cmd/NAME.c becomes bin/NAME, linked with every lib/*.c.
# New tools, libraries, suites, fuzz targets and benchmarks are picked up by
# wildcard: adding a file never needs an edit here.

PKGS    := openssl zlib libcurl libcjson libsodium
CC      ?= cc
OPT     ?= -O2 -g
XCFLAGS ?=
CFLAGS  := -std=c11 $(OPT) -Wall -Wextra -Werror -D_GNU_SOURCE -Ilib $(XCFLAGS) \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
BUILD   ?= build
BIN     ?= bin

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRC))
CMD_SRC  := $(wildcard cmd/*.c)
TOOLS    := $(patsubst cmd/%.c,$(BIN)/%,$(CMD_SRC))
UNIT_SRC := $(wildcard tests/unit/*.c)
UNITS    := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
BENCH_SRC:= $(wildcard bench/*.c)
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
FUZZ_SRC := $(wildcard fuzz/*.c)
FUZZERS  := $(patsubst fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
MANS     := $(wildcard man/*.[0-9])

ASAN_OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all

.PHONY: all deps test check-man unit bats asan asan-test fuzz fuzz-smoke bench demo clean
all: $(TOOLS) $(UNITS) $(BENCHES)

$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libora.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BIN)/%: cmd/%.c $(BUILD)/libora.a $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libora.a $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libora.a $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libora.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libora.a $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libora.a $(LDLIBS)

# Installs missing Debian packages (as root) and the local npm packages.
deps:
	@scripts/deps

check-man:
	@for m in $(MANS); do mandoc -Tlint -W warning $$m || exit 1; done; echo "man pages: $(words $(MANS)) lint clean"

unit: $(UNITS)
	@for u in $(UNITS); do echo "unit: $$u"; ORA_SHARED=$(CURDIR)/../shared $$u || exit 1; done

bats: $(TOOLS)
	ORA_BIN=$(CURDIR)/$(BIN) ORA_BUILD=$(CURDIR)/$(BUILD) bats $(BATS_FLAGS) tests/

test: deps
	$(MAKE) all
	$(MAKE) check-man
	$(MAKE) unit
	$(MAKE) bats

asan:
	$(MAKE) all BUILD=build-asan BIN=build-asan/bin CC=clang OPT="$(ASAN_OPT)"

asan-test: deps asan
	$(MAKE) unit bats BUILD=build-asan BIN=build-asan/bin CC=clang OPT="$(ASAN_OPT)" \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1

FUZZ_CFLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -Ilib $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_OBJ := $(patsubst lib/%.c,build-fuzz/lib/%.o,$(LIB_SRC))

build-fuzz/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

build-fuzz/libora.a: $(FUZZ_OBJ)
	rm -f $@ && ar rcs $@ $^

build-fuzz/%: fuzz/%.c build-fuzz/libora.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build-fuzz/libora.a $(LDLIBS)

fuzz: $(FUZZERS)

FUZZ_SECONDS ?= 30
fuzz-smoke: fuzz
	@for f in $(FUZZERS); do n=$$(basename $$f); mkdir -p build-fuzz/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build-fuzz/corpus-$$n fuzz/corpus/$$n 2>build-fuzz/$$n.log \
	    || { tail -50 build-fuzz/$$n.log; exit 1; }; grep -E 'stat::number_of_executed_units' build-fuzz/$$n.log; done

bench: deps all
	@bench/run

demo: deps all
	@scripts/ora-supervise --demo

clean:
	rm -rf build build-asan build-fuzz bin
