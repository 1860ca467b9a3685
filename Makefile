# antidote — GNU Makefile.
#
#   make            build build/antidote (and the unit tests' objects)
#   make test       install deps, build, run every test; last line "N passed, N failed"
#   make SAN=1 test the same with ASan+UBSan (objects under build/san/)
#   make fuzz       libFuzzer targets (clang), FUZZ_TIME seconds each (default 60)
#   make bench      benchmarks: serve, resolve, inject, probe vs Debian's peers and the echo floor
#   make demo       antidote lab jan21 (until the lab exists: serve an example zone)
#
# Layout: every src/**/*.c except src/main.c goes into build/libantidote.a;
# tests/unit/test_NAME.c each become build/tests/test_NAME (cmocka);
# tests/fuzz/fuzz_NAME.c each become build/fuzz/fuzz_NAME, linked with
# tests/fuzz/replay_main.c (a plain main that replays the corpus) so that
# `make test` runs the corpora on any compiler.

CC      ?= cc
SAN     ?= 0
ifeq ($(SAN),1)
BUILD   ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT     := -O1
else
BUILD   ?= build
SANFLAGS :=
OPT     := -O2
endif

WARN    := -Wall -Wextra -Wshadow -Wvla -Wmissing-prototypes -Werror
CFLAGS  ?=
CFLAGS  += -std=gnu11 $(OPT) -g $(WARN) -D_GNU_SOURCE -Isrc -MMD -MP $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
LDLIBS  += -lssl -lcrypto -lpthread -lm

LIB_SRC  := $(sort $(filter-out src/main.c,$(shell find src -name '*.c')))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB      := $(BUILD)/libantidote.a
BIN      := $(BUILD)/antidote

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
TOOL_SRC := $(sort $(wildcard tests/tools/*.c) $(wildcard bench/*.c))
TOOL_BIN := $(patsubst %.c,$(BUILD)/tools/%,$(notdir $(TOOL_SRC)))

.PHONY: all test fuzz bench demo clean deps check-build
all: $(BIN) $(UNIT_BIN) $(FUZZ_REPLAY) $(TOOL_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(BUILD)/obj/src/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay_main.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/obj/bench/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@bash scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash scripts/test.sh

# libFuzzer builds need clang; they live in build/libfuzzer and never mix
# with the gcc objects.
FUZZ_TIME ?= 60
fuzz: deps
	@BUILD=build/libfuzzer FUZZ_TIME=$(FUZZ_TIME) bash scripts/fuzz.sh $(FUZZ_SRC:tests/fuzz/%.c=%)

bench:
	@bash scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash bench/run.sh
	@BUILD=$(BUILD) bash bench/resolve_bench.sh
	@BUILD=$(BUILD) bash bench/inject_bench.sh
	@BUILD=$(BUILD) bash bench/probe_bench.sh
	@BUILD=$(BUILD) bash bench/defence_bench.sh

demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	@bash scripts/demo.sh $(BIN)

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
