# uarena build. Targets:
#   make            library, `uarena`, `uarena-conformance`, BPF objects (build/)
#   make test       ASan+UBSan build of everything + the test runner, run it; also
#                   compiles the library with clang-19 -Werror (warnings as errors
#                   with both compilers)
#   make bench      release build of the benchmarks, run them (prints ratios)
#   make install    PREFIX=/usr/local: library, header, pkg-config file, CLI
# Variables: BUILD (output dir), SAN=1 (sanitizers), OPT (optimisation flags), CC,
# TEST_ARGS (test runner filter), BENCH_ARGS (benchmark filter).

CC        ?= gcc
BPF_CLANG ?= clang-19
BUILD     ?= build
PREFIX    ?= /usr/local
BPF_OUT   := build/bpf

WARN   := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -Wno-unused-parameter -Wno-missing-field-initializers
OPT    ?= -O2 -g
CFLAGS := $(OPT) -std=c11 -D_GNU_SOURCE $(WARN) -fPIC -fvisibility=hidden \
          -Iinclude -Isrc -MMD -MP -pthread
ASFLAGS := -g -fPIC
LDLIBS := -lelf -lz -pthread -lm

ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -DUA_DEBUG
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC  := $(sort $(wildcard src/*.c src/*/*.c))
LIB_ASM  := $(sort $(wildcard src/*.S src/*/*.S))
LIB_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC)) $(patsubst %.S,$(BUILD)/%.o,$(LIB_ASM))
CLI_OBJ  := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard cli/uarena/*.c)))
CONF_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard cli/conformance/*.c)))
TEST_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard tests/*.c)))
BENCH_OBJ:= $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard bench/*.c)))
BPF_SRC  := $(sort $(wildcard tests/bpf/*.bpf.c examples/*.bpf.c bench/bpf/*.bpf.c))
BPF_OBJ  := $(patsubst %.bpf.c,$(BPF_OUT)/%.bpf.o,$(notdir $(BPF_SRC)))
BPF_HDRS := $(wildcard bpf/include/*.h)

LIB_A   := $(BUILD)/libuarena.a
LIB_SO  := $(BUILD)/libuarena.so
UARENA  := $(BUILD)/uarena
CONFORM := $(BUILD)/uarena-conformance
TESTRUN := $(BUILD)/tests/run
BENCHRUN:= $(BUILD)/bench/run

.PHONY: all test bench install clean bpf check-clang
all: $(LIB_A) $(LIB_SO) $(UARENA) $(CONFORM) bpf

bpf: $(BPF_OBJ)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(ASFLAGS) $(filter -fsanitize%,$(CFLAGS)) -c $< -o $@

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(LIB_SO): $(LIB_OBJ) src/libuarena.map
	$(CC) -shared $(LDFLAGS) -Wl,--version-script=src/libuarena.map -o $@ $(LIB_OBJ) $(LDLIBS)

$(UARENA): $(CLI_OBJ) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(CONFORM): $(CONF_OBJ) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(TESTRUN): $(TEST_OBJ) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BENCHRUN): $(BENCH_OBJ) $(LIB_A)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# BPF programs: C compiled by clang-19 for the BPF target, as users build them.
define bpf_rule
$(BPF_OUT)/$(notdir $(1:.bpf.c=.bpf.o)): $(1) $(BPF_HDRS)
	@mkdir -p $(BPF_OUT)
	$(BPF_CLANG) -target bpf -O2 -g -mcpu=v4 -Wall -Werror -Ibpf/include -c $(1) -o $$@
endef
$(foreach s,$(BPF_SRC),$(eval $(call bpf_rule,$(s))))

# The test run: sanitized build of library, tools and runner, then the runner.
test: bpf check-clang
	$(MAKE) --no-print-directory BUILD=build/asan SAN=1 build/asan/tests/run build/asan/uarena build/asan/uarena-conformance
	UA_BUILD_DIR=build/asan UA_BPF_DIR=$(BPF_OUT) ./build/asan/tests/run $(TEST_ARGS)

check-clang:
	$(MAKE) --no-print-directory BUILD=build/clang CC=$(BPF_CLANG) build/clang/libuarena.a

bench: bpf
	$(MAKE) --no-print-directory BUILD=build/release OPT="-O2 -g -DNDEBUG" build/release/bench/run build/release/uarena
	UA_BUILD_DIR=build/release UA_BPF_DIR=$(BPF_OUT) ./build/release/bench/run $(BENCH_ARGS)

install: $(LIB_A) $(LIB_SO) $(UARENA)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/uarena $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(LIB_A) $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/uarena.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/uarena/*.h $(DESTDIR)$(PREFIX)/include/uarena/
	install -m 755 $(UARENA) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|0.1.0|' uarena.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/uarena.pc

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# Fuzzing. `make fuzz` builds build/fuzz/fuzz_NAME from each fuzz/fuzz_NAME.c
# with clang-19 libFuzzer (run: build/fuzz/fuzz_asm fuzz/corpus-asm);
# `make fuzz-replay` runs each corpus through a sanitized build without libFuzzer.
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
.PHONY: fuzz fuzz-replay
fuzz: $(patsubst %,build/fuzz/fuzz_%,$(FUZZ_NAMES))
build/fuzz/fuzz_%: fuzz/fuzz_%.c $(LIB_SRC) $(LIB_ASM)
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -g -O1 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined \
		$< $(LIB_SRC) $(LIB_ASM) -o $@ $(LDLIBS)
fuzz-replay:
	$(MAKE) --no-print-directory BUILD=build/asan SAN=1 build/asan/libuarena.a
	@mkdir -p build/asan/fuzz
	set -e; for t in $(FUZZ_NAMES); do \
		$(CC) $(CFLAGS) -fsanitize=address,undefined fuzz/fuzz_$$t.c fuzz/replay.c \
			build/asan/libuarena.a -o build/asan/fuzz/replay_$$t $(LDLIBS); \
		./build/asan/fuzz/replay_$$t fuzz/corpus-$$t; done
