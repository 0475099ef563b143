# SPDX-License-Identifier: MIT
# tcpdoctor build. `make` builds build/tcpdoctor; `make run` installs what building and running
# need (scripts/install-deps run), builds and runs doctor; `make check` installs what the tests need,
# builds with -Werror under ASan+UBSan into build/san and runs every test; `make deb` builds the
# Debian package into build/. Targets that install packages first run the build in a second make,
# which reads pkg-config only once the libraries exist (NODEPS=1 skips the install step).
# Sources are found by wildcard so a new module or test needs no edit here.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/tcpdoctor
COMPLDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR ?=
BUILD   ?= build
SANBUILD ?= build/san
SAN     ?= 0
WERROR  ?= 0
CC      ?= cc
PKG_CONFIG ?= pkg-config
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0)
NODEPS  ?= 0
DEPS     = $(if $(filter 1,$(NODEPS)),:,scripts/install-deps)
SUBMAKE  = $(MAKE) --no-print-directory NODEPS=1 $(if $(filter 1,$(V)),V=1)

# Read when first used (in a recipe), not when the Makefile is parsed: the libraries may be
# installed by this very make (scripts/install-deps).
PKGS := libmnl jansson ncursesw libmicrohttpd
PKG_CFLAGS = $(eval PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm)$(PKG_LIBS)

# trace (eBPF) is built only where clang, bpftool, libbpf and the kernel's BTF are all there (the
# `bpf` profile of scripts/install-deps); elsewhere tcpdoctor builds without it and trace says so.
# Read when the Makefile is parsed: `make run`/`check` reach here in the second make, after install.
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),$(wildcard /usr/sbin/bpftool))
BPF_CLANG ?= clang
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ifndef BPF # BPF=0 builds without it
BPF := $(if $(and $(BPFTOOL),$(shell command -v $(BPF_CLANG) 2>/dev/null),$(wildcard $(VMLINUX_BTF)),\
	$(shell $(PKG_CONFIG) --exists libbpf 2>/dev/null && echo y)),1,0)
endif
BPF_ARCH := $(patsubst x86_64,x86,$(patsubst aarch64,arm64,$(shell uname -m)))
ifeq ($(BPF),1)
PKGS += libbpf
endif

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wwrite-strings -Wvla
HARDEN := -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE
CFLAGS ?= -O2 -g
TD_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) -Isrc -DTD_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
TD_LDFLAGS := -pie -Wl,-z,relro,-z,now
ifeq ($(BPF),1)
TD_CFLAGS += -DTD_HAVE_BPF=1 -I$(BUILD)/bpf
endif
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

LIB_SRCS := $(wildcard src/core/*.c src/core/*/*.c src/render/*.c src/cmd/*.c src/lab/*.c)
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

.PHONY: all deps pkg-check run check test install uninstall fuzz bench clean man format format-check deb fuzz-run bench-run

all: $(BIN)

deps:
	$(Q)scripts/install-deps $(or $(PROFILE),all)

# A clear word instead of a missing header or undefined references when the libraries are absent
pkg-check:
	@$(PKG_CONFIG) --exists $(PKGS) 2>/dev/null || { echo "tcpdoctor: missing build libraries" \
		"($(PKGS), found with $(PKG_CONFIG)): run 'scripts/install-deps run' as root, or 'make run'" >&2; exit 1; }

$(LIB_OBJS) $(MAIN_OBJ): | pkg-check

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(TD_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# BPF objects, out of tree as libbpf-tools builds them: vmlinux.h from the running kernel's BTF
# (CO-RE relocates the offsets at load time), the object, and a skeleton that embeds it.
$(BUILD)/bpf/vmlinux.h: | pkg-check
	@mkdir -p $(@D)
	@$(if $(Q),echo "  BTF     $@")
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c >$@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: src/bpf/%.bpf.c src/bpf/%.h $(BUILD)/bpf/vmlinux.h
	@$(if $(Q),echo "  BPF     $@")
	$(Q)$(BPF_CLANG) -g -O2 -Wall -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) -I$(BUILD)/bpf -Isrc \
		-c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@$(if $(Q),echo "  GEN     $@")
	$(Q)$(BPFTOOL) gen skeleton $< name td_$*_bpf >$@.tmp && mv $@.tmp $@

# A light skeleton (bpftool gen skeleton -L) for the owners iterator: a loader program run in the
# kernel creates the maps, finds the BTF ids and applies CO-RE there, so user space does not
# read and parse the kernel's 5 MiB BTF (about 60 ms, most of the load, in this VM).
$(BUILD)/bpf/%.lskel.h: $(BUILD)/bpf/%.bpf.o
	@$(if $(Q),echo "  GEN     $@")
	$(Q)$(BPFTOOL) gen skeleton -L $< name td_$*_lbpf >$@.tmp && mv $@.tmp $@

ifeq ($(BPF),1)
$(BUILD)/src/core/trace/trace_bpf.o: $(BUILD)/bpf/trace.skel.h
$(BUILD)/src/core/source/owners_bpf.o: $(BUILD)/bpf/owners.skel.h $(BUILD)/bpf/owners.lskel.h
$(BUILD)/src/core/source/census_bpf.o: $(BUILD)/bpf/census.skel.h
$(BUILD)/bpf/trace.bpf.o: src/bpf/trace_sys.bpf.h src/bpf/trace_rst.bpf.h
.SECONDARY: $(BUILD)/bpf/trace.bpf.o $(BUILD)/bpf/owners.bpf.o $(BUILD)/bpf/census.bpf.o
endif

# doc/tcp-facts.md is built into the binary (src/core/rules/facts_doc.c, .incbin): `explain` prints it.
$(BUILD)/src/core/rules/facts_doc.o: doc/tcp-facts.md

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcsP $@ $^ # P: full paths; cmd/ and core/ share basenames

$(BIN): $(MAIN_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(TD_CFLAGS) $(CFLAGS) $(TD_LDFLAGS) $(LDFLAGS) -o $@ $(MAIN_OBJ) $(LIB) $(PKG_LIBS) $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  TEST    $@")
	$(Q)$(CC) $(TD_CFLAGS) $(CFLAGS) $(TD_LDFLAGS) -Itests -o $@ $< $(LIB) $(PKG_LIBS) \
		$(shell $(PKG_CONFIG) --cflags --libs cmocka)

$(BUILD)/tests/helpers/%: tests/helpers/%.c tests/helpers/loopback.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(TD_CFLAGS) $(CFLAGS) $(TD_LDFLAGS) -o $@ $<

# ctfill wraps the lab's conntrack fill (src/lab/ctfill.c): the one helper linked with the library
$(BUILD)/tests/helpers/ctfill: tests/helpers/ctfill.c $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(TD_CFLAGS) $(CFLAGS) $(TD_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

$(BUILD)/tests/fuzz/replay_%: tests/fuzz/%.c tests/fuzz/replay_driver.c $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(TD_CFLAGS) $(CFLAGS) $(TD_LDFLAGS) -o $@ $< tests/fuzz/replay_driver.c $(LIB) $(PKG_LIBS)

build/fuzz/%: tests/fuzz/%.c $(LIB_SRCS)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS) \
		-o $@ $< $(LIB_SRCS) $(PKG_LIBS)

tests: $(UNIT_BINS) $(HELPER_BINS) $(FUZZ_REPLAY_BINS)

run:
	$(Q)$(DEPS) run
	$(Q)$(SUBMAKE) -j$$(nproc) $(BIN)
	@# doctor's status is its verdict (1 warning, 2 critical): those are a successful run
	$(BIN) doctor || [ $$? -le 2 ]

# The sanitizer build lives apart from the release build so both can coexist.
check:
	$(Q)$(DEPS) check
	$(Q)$(SUBMAKE) -j$$(nproc) BUILD=$(SANBUILD) SAN=1 WERROR=1 $(SANBUILD)/tcpdoctor $(SANBUILD)/tcpdoctor.8 tests-san
	$(Q)$(SUBMAKE) -j$$(nproc) BUILD=build/nobpf BPF=0 WERROR=1 CFLAGS=-O0 build/nobpf/tcpdoctor # tests/cli/nobpf.sh
	$(Q)TD_BUILD=$(SANBUILD) tests/run-all $(TESTS)

tests-san: $(UNIT_BINS) $(HELPER_BINS) $(FUZZ_REPLAY_BINS)

test: check

fuzz:
	$(Q)$(DEPS) fuzz
	$(Q)$(SUBMAKE) fuzz-run

fuzz-run: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); \
		echo "  FUZZ    $$n"; mkdir -p build/fuzz/corpus-$$n; \
		$$f -max_total_time=$${FUZZ_SECONDS:-60} build/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

bench:
	$(Q)$(DEPS) bench
	$(Q)$(SUBMAKE) bench-run

bench-run: $(BIN) $(BUILD)/tests/helpers/sockfarm $(BUILD)/tests/helpers/diagcount $(BUILD)/tests/helpers/rusage
	bench/run $(BENCH_ARGS)
	$(if $(filter 1,$(BPF)),bench/trace $(BENCH_TRACE_ARGS),@echo "bench: no BPF in this build: no tracing overhead")

man: $(BUILD)/tcpdoctor.8

$(BUILD)/tcpdoctor.8: doc/tcpdoctor.8.scd
	@mkdir -p $(@D)
	$(Q)scdoc < $< > $@

install:
	$(Q)$(DEPS) install
	$(Q)$(SUBMAKE) $(BIN) man
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/tcpdoctor
	install -D -m 0644 $(BUILD)/tcpdoctor.8 $(DESTDIR)$(MANDIR)/man8/tcpdoctor.8
	install -D -m 0644 doc/tcp-facts.md $(DESTDIR)$(PREFIX)/share/doc/tcpdoctor/tcp-facts.md
	install -D -m 0644 contrib/bash-completion/tcpdoctor $(DESTDIR)$(COMPLDIR)/tcpdoctor
	install -d $(DESTDIR)$(DATADIR)/systemd
	sed 's|/usr/local/bin/tcpdoctor|$(BINDIR)/tcpdoctor|g' contrib/systemd/tcpdoctor-exporter.service \
		>$(DESTDIR)$(DATADIR)/systemd/tcpdoctor-exporter.service
	install -D -m 0644 -t $(DESTDIR)$(DATADIR)/prometheus contrib/prometheus/tcpdoctor.rules.yml
	install -D -m 0644 -t $(DESTDIR)$(DATADIR)/grafana contrib/grafana/tcpdoctor.json

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tcpdoctor $(DESTDIR)$(MANDIR)/man8/tcpdoctor.8 $(DESTDIR)$(COMPLDIR)/tcpdoctor \
		$(DESTDIR)$(PREFIX)/share/doc/tcpdoctor/tcp-facts.md
	rm -rf $(DESTDIR)$(DATADIR)

# The Debian package, built by dpkg-buildpackage in a copy of the tracked files under build/deb
# (its outputs land beside the copy, never outside the tree), linted, copied to build/.
DEB_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
DEB_ARCH    := $(shell dpkg --print-architecture 2>/dev/null)
DEB := build/tcpdoctor_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_INPUTS := Makefile $(wildcard src/*.c src/*/*.[ch] src/*/*/*.[ch] doc/*.scd doc/*.md contrib/*/* debian/* debian/*/*)

deb:
	$(Q)$(DEPS) deb
	$(Q)$(SUBMAKE) $(DEB)

$(DEB): $(DEB_INPUTS)
	rm -rf build/deb && mkdir -p build/deb/tcpdoctor-$(DEB_VERSION)
	if git rev-parse --git-dir >/dev/null 2>&1; then git ls-files -z | \
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null; else tar --exclude=./build -cf - .; fi | \
		tar -C build/deb/tcpdoctor-$(DEB_VERSION) -xf -
	cd build/deb/tcpdoctor-$(DEB_VERSION) && dpkg-buildpackage -us -uc -b -J
	lintian --fail-on error build/deb/$(notdir $@)
	cp build/deb/$(notdir $@) $@

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD) -path build/deb -prune -o -name '*.d' -type f -print 2>/dev/null)
