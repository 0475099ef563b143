# SPDX-License-Identifier: MIT
# tcpdoctor build. `make` builds build/tcpdoctor; `make check` installs what is missing, builds with
# -Werror under ASan+UBSan into build/san and runs every test; `make run` builds and runs doctor.
# Sources are found by wildcard so a new module or test needs no edit here.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DESTDIR ?=
BUILD   ?= build
SANBUILD ?= build/san
SAN     ?= 0
WERROR  ?= 0
CC      ?= cc
PKG_CONFIG ?= pkg-config
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)

PKGS := libmnl jansson ncursesw libmicrohttpd
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wwrite-strings -Wvla
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
TD_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) -Isrc -DTD_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
TD_LDFLAGS := -pie -Wl,-z,relro,-z,now
ifeq ($(WERROR),1)
TD_CFLAGS += -Werror
endif
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TD_CFLAGS += $(SANFLAGS)
TD_LDFLAGS += $(SANFLAGS)
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRCS := $(wildcard src/core/*.c src/render/*.c src/cmd/*.c src/lab/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/src/main.o
LIB := $(BUILD)/libtd.a
BIN := $(BUILD)/tcpdoctor

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
HELPER_SRCS := $(wildcard tests/helpers/*.c)
HELPER_BINS := $(HELPER_SRCS:%.c=$(BUILD)/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
# In `make check` each harness is linked with a small driver that replays its seed corpus;
# `make fuzz` links the same harnesses with libFuzzer (clang) for real fuzzing.
FUZZ_REPLAY_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/tests/fuzz/replay_%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=build/fuzz/%)

.PHONY: all deps run check test install uninstall fuzz bench clean man format format-check

all: $(BIN)

deps:
	$(Q)scripts/install-deps

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(TD_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# doc/tcp-facts.md is built into the binary (src/core/facts_doc.c, .incbin): `explain` prints it.
$(BUILD)/src/core/facts_doc.o: doc/tcp-facts.md

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcsP $@ $^ # P: full paths; cmd/ and core/ share basenames

$(BIN): $(MAIN_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(TD_CFLAGS) $(CFLAGS) $(TD_LDFLAGS) -o $@ $(MAIN_OBJ) $(LIB) $(PKG_LIBS) $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(TD_CFLAGS) $(CFLAGS) $(TD_LDFLAGS) -Itests -o $@ $< $(LIB) $(PKG_LIBS) \
		$(shell $(PKG_CONFIG) --cflags --libs cmocka)

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(TD_CFLAGS) $(CFLAGS) $(TD_LDFLAGS) -o $@ $<

$(BUILD)/tests/fuzz/replay_%: tests/fuzz/%.c tests/fuzz/replay_driver.c $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(TD_CFLAGS) $(CFLAGS) $(TD_LDFLAGS) -o $@ $< tests/fuzz/replay_driver.c $(LIB) $(PKG_LIBS)

build/fuzz/%: tests/fuzz/%.c $(LIB_SRCS)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
		-o $@ $< $(LIB_SRCS) $(PKG_LIBS)

tests: $(UNIT_BINS) $(HELPER_BINS) $(FUZZ_REPLAY_BINS)

run: deps $(BIN)
	$(BIN) doctor

# The sanitizer build lives apart from the release build so both can coexist.
check: deps
	$(Q)$(MAKE) --no-print-directory BUILD=$(SANBUILD) SAN=1 WERROR=1 $(if $(filter 1,$(V)),V=1) $(SANBUILD)/tcpdoctor $(SANBUILD)/tcpdoctor.8 tests-san
	$(Q)TD_BUILD=$(SANBUILD) tests/run-all $(TESTS)

tests-san: $(UNIT_BINS) $(HELPER_BINS) $(FUZZ_REPLAY_BINS)

test: check

fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); \
		echo "  FUZZ    $$n"; mkdir -p build/fuzz/corpus-$$n; \
		$$f -max_total_time=$${FUZZ_SECONDS:-60} build/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

bench: deps $(BIN) $(BUILD)/tests/helpers/sockfarm $(BUILD)/tests/helpers/diagcount $(BUILD)/tests/helpers/rusage
	bench/run $(BENCH_ARGS)

man: $(BUILD)/tcpdoctor.8

$(BUILD)/tcpdoctor.8: doc/tcpdoctor.8.scd
	@mkdir -p $(@D)
	$(Q)scdoc < $< > $@

install: $(BIN) man
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/tcpdoctor
	install -D -m 0644 $(BUILD)/tcpdoctor.8 $(DESTDIR)$(MANDIR)/man8/tcpdoctor.8
	install -D -m 0644 doc/tcp-facts.md $(DESTDIR)$(PREFIX)/share/doc/tcpdoctor/tcp-facts.md

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tcpdoctor $(DESTDIR)$(MANDIR)/man8/tcpdoctor.8 \
		$(DESTDIR)$(PREFIX)/share/doc/tcpdoctor/tcp-facts.md

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
