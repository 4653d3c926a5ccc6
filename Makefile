# thidua - the project's own Makefile (no generated build system).
#
#   make run      build, then start thiduad in the foreground with config/thidua.cfg
#   make check    build, run every test, then run them again under ASan + UBSan
#   make structure  the daemon's modules: no circle, no folder calling up, no source over
#                 800 lines (tests/tools/layers.py; make check runs it too)
#   make install  PREFIX, DESTDIR, SYSCONFDIR and UNITDIR are honoured
#   make deb      build/deb/thidua_VERSION_ARCH.deb (dpkg-buildpackage, then lintian)
#
# Objects go to $(BUILD), programs to $(BIN). The sanitizer pass builds into build/asan.

PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DOCDIR     ?= $(PREFIX)/share/doc/thidua
DESTDIR    ?=
BUILD      ?= build/normal
BIN        ?= bin
CC         ?= cc
SAN        ?=
PYTHON     ?= /usr/bin/python3

PKGS := libzmq sqlite3 libconfig jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS   := $(shell pkg-config --libs libcurl 2>/dev/null)
# thidua-mailin parses mail with GMime 3 (its headers as system headers: -Werror is ours)
GMIME_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags gmime-3.0 2>/dev/null))
GMIME_LIBS   := $(shell pkg-config --libs gmime-3.0 2>/dev/null)
# thiduactl alone: Excel workbooks written with libxlsxwriter, read with libzip and expat;
# Word documents zipped with libzip
XLSX_CFLAGS := $(shell pkg-config --cflags xlsxwriter libzip expat 2>/dev/null)
XLSX_LIBS   := $(shell pkg-config --libs xlsxwriter libzip expat 2>/dev/null)
# thidua-web serves pages with libmicrohttpd
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
# thiduad alone: passwords hashed with Argon2id and tokens drawn by libsodium
SODIUM_CFLAGS := $(shell pkg-config --cflags libsodium 2>/dev/null)
SODIUM_LIBS   := $(shell pkg-config --libs libsodium 2>/dev/null)

ifeq ($(SAN),1)
OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
OPT := -O2 -g
endif
# The version has one source, the first line of debian/changelog.
VERSION := $(shell head -n 1 debian/changelog | cut -d ' ' -f 2 | tr -d '()')
CFLAGS  ?=
CFLAGS  += -DTHIDUA_VERSION='"$(VERSION)"'
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wformat=2 -Wno-format-nonliteral $(OPT) -Icommon $(PKG_CFLAGS)
LDFLAGS ?=
LDFLAGS += $(filter -fsanitize=%,$(OPT))

COMMON_SRC := $(wildcard common/*.c)
# daemon/ is split into folders by concern (docs/ARCHITECTURE.md); main.c stays out of the
# library so that the unit tests and the fuzz harnesses link the rest
DAEMON_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard daemon/*/*.c daemon/*/*.h))))
DAEMON_INC := -Idaemon $(addprefix -I,$(DAEMON_DIRS))
DAEMON_SRC := $(filter-out daemon/server/main.c,$(wildcard daemon/*/*.c))
CLI_SRC    := $(wildcard cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
TOOL_SRC   := $(wildcard tests/tools/*.c)
BENCH_SRC  := $(wildcard bench/*.c)

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/%.o) $(BUILD)/daemon/core/migrations.o
MIGRATIONS := $(sort $(wildcard daemon/core/migrations/*.sql))
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_BIN   := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)

WORKERS  := $(notdir $(wildcard workers/*))
WORKER_PROGRAMS := $(foreach w,$(WORKERS),$(if $(wildcard workers/$(w)/*.c),$(BIN)/thidua-$(w)))
PROGRAMS := $(BIN)/thiduad $(BIN)/thiduactl $(WORKER_PROGRAMS)

DEBIAN_PACKAGES := gcc make pkg-config libc6-dev libzmq3-dev libsqlite3-dev libconfig-dev \
	libjansson-dev libcurl4-openssl-dev sqlite3 python3 python3-zmq python3-aiosmtpd curl openssl \
	libxlsxwriter-dev libzip-dev libexpat1-dev python3-openpyxl python3-docx libgmime-3.0-dev libsodium-dev \
	libmicrohttpd-dev libjs-chart.js

.PHONY: all run check test asan lint deps install clean unit-tests bench structure

all: $(PROGRAMS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/daemon/%.o: daemon/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SODIUM_CFLAGS) $(DAEMON_INC) -MMD -MP -c $< -o $@

$(BUILD)/daemon/server/main.o $(BUILD)/daemon/server/ops_core.o: debian/changelog

# the schema migrations, daemon/core/migrations/NNN-name.sql numbered from 001 without a
# gap, as C byte arrays (od): adding a migration is adding its file
$(BUILD)/daemon/core/migrations.c: $(MIGRATIONS) Makefile
	@mkdir -p $(dir $@)
	@{ echo '/* made by the Makefile from daemon/core/migrations/NNN-name.sql: do not edit */'; \
	  echo '#include "migrations.h"'; n=0; \
	  for f in $(MIGRATIONS); do n=$$((n + 1)); \
	    case "$${f##*/}" in $$(printf '%03d' $$n)-*.sql) ;; \
	      *) echo "$$f: expected migration $$(printf '%03d' $$n)-NAME.sql (numbered from 001, no gap)" >&2; exit 1;; esac; \
	    echo "static const char m$$n[] = {"; od -An -v -tx1 "$$f" | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; echo '0 };'; \
	  done; \
	  echo 'const char *const store_migrations[] = {'; \
	  i=0; for f in $(MIGRATIONS); do i=$$((i + 1)); echo "	m$$i,	/* $${f##*/} */"; done; \
	  echo '};'; echo "const int store_nmigrations = $$n;"; } > $@.tmp && mv $@.tmp $@

$(BUILD)/daemon/core/migrations.o: $(BUILD)/daemon/core/migrations.c daemon/core/migrations.h
	$(CC) $(CFLAGS) $(DAEMON_INC) -c $< -o $@

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/libthiduad.a: $(DAEMON_OBJ)
	$(AR) rcs $@ $^

$(BIN)/thiduad: $(BUILD)/daemon/server/main.o $(BUILD)/libthiduad.a $(BUILD)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(SODIUM_LIBS)

$(BUILD)/cli/%.o: cli/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XLSX_CFLAGS) $(CURL_CFLAGS) -MMD -MP -c $< -o $@

# thiduactl zalo authorize exchanges the code at Zalo's OAuth endpoint with libcurl
$(BIN)/thiduactl: $(CLI_OBJ) $(BUILD)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(XLSX_LIBS) $(CURL_LIBS)

# each folder workers/NAME builds bin/thidua-NAME; workers share only common/
.SECONDEXPANSION:
$(BIN)/thidua-%: $$(addprefix $(BUILD)/,$$(subst .c,.o,$$(wildcard workers/$$*/*.c))) $(BUILD)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CURL_LIBS) $(WORKER_LIBS)

$(BUILD)/workers/%.o: workers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CURL_CFLAGS) $(WORKER_CFLAGS) -MMD -MP -c $< -o $@

$(BIN)/thidua-mailin: WORKER_LIBS = $(GMIME_LIBS)
$(BUILD)/workers/mailin/%.o: WORKER_CFLAGS = $(GMIME_CFLAGS)
# thidua-imap hands messages over as thidua-mailin does: it links mailin's hand-over and parser
MAILIN_SHARED_OBJ := $(BUILD)/workers/mailin/mailin_parse.o $(BUILD)/workers/mailin/mailin_handover.o
$(BIN)/thidua-imap: $(patsubst %.c,$(BUILD)/%.o,$(wildcard workers/imap/*.c)) $(MAILIN_SHARED_OBJ) $(BUILD)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CURL_LIBS) $(GMIME_LIBS)
$(BUILD)/workers/imap/%.o: WORKER_CFLAGS = $(GMIME_CFLAGS) -Iworkers/mailin

# thidua-web speaks ZMTP itself (workers/web/zmtp.c): without libzmq and what it pulls in
# (libstdc++, libsodium, libpgm, libnorm, Kerberos), about 3 MB of its resident memory
WEB_LIBS := $(shell pkg-config --libs jansson 2>/dev/null)
$(BIN)/thidua-web: $(patsubst %.c,$(BUILD)/%.o,$(wildcard workers/web/*.c)) $(BUILD)/libcommon.a
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(WEB_LIBS) $(MHD_LIBS) -lpthread
$(BUILD)/workers/web/%.o: WORKER_CFLAGS = $(MHD_CFLAGS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libthiduad.a $(BUILD)/libcommon.a tests/unit/t.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DAEMON_INC) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libthiduad.a $(BUILD)/libcommon.a $(PKG_LIBS) $(SODIUM_LIBS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XLSX_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcommon.a $(PKG_LIBS) $(XLSX_LIBS)

unit-tests: $(UNIT_BIN) $(TOOL_BIN) $(BUILD)/tests/test_layers

# structure - the daemon's modules: no include or call circle between them, no folder using
# one it may not, no source over 800 lines (tests/tools/layers.py, docs/ARCHITECTURE.md).
# make check runs it too, as the unit test test_layers.
structure: all
	@$(PYTHON) tests/tools/layers.py --build $(BUILD)

$(BUILD)/tests/test_layers: tests/tools/layers.py $(BUILD)/libthiduad.a $(BUILD)/daemon/server/main.o
	@mkdir -p $(dir $@)
	@printf '#!/bin/sh\n# the structure of the daemon (tests/tools/layers.py), run by tests/run.py\nexec %s tests/tools/layers.py --build %s\n' \
		'$(PYTHON)' '$(BUILD)' > $@
	@chmod +x $@

$(BUILD)/bench/%: bench/%.c $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcommon.a $(PKG_LIBS) -lpthread

# bench - figures, not pass/fail; never part of check
bench: all $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
	@for b in bench/*.sh; do [ -x "$$b" ] && BUILD=$(BUILD) BIN=$(BIN) "$$b"; done; true

# deps - install the Debian packages that are missing (or print the apt-get line)
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing: $$missing"; \
			apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
		else \
			echo "missing Debian packages; run:"; \
			echo "  sudo apt-get install -y $$missing"; \
			exit 1; \
		fi; \
	fi

# run - the sample configuration with an administrator (quan.tri) and the web pages as a
# supervised worker, written to var/thidua.cfg; prints the address and a one-time link to
# set the administrator's password (thiduactl principals invite)
RUN_ADMIN := { name = "quan.tri"; display_name = "Quản trị hệ thống"; unit = "HCM"; roles = [ "admin" ]; },
RUN_WEB := workers = ( { program = "thidua-web"; } );
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p var
	@sed -e '/^principals = (/a\  $(RUN_ADMIN)' -e 's|"templates/bao-cao"|"$(CURDIR)/config/templates/bao-cao"|' \
		config/thidua.cfg > var/thidua.cfg && echo '$(RUN_WEB)' >> var/thidua.cfg
	@( for i in $$(seq 100); do [ -S var/api.sock ] && [ -S var/web.sock ] && break; sleep 0.1; done; \
	   link=$$($(BIN)/thiduactl -e ipc://var/api.sock --json principals invite quan.tri | \
		$(PYTHON) -c 'import json,sys; r=json.load(sys.stdin); print(r.get("link") or r)'); \
	   echo; echo "  The web pages: http://127.0.0.1:8470/"; \
	   echo "  Set the administrator's password (quan.tri), once, within 72 hours:"; \
	   echo "    $$link"; \
	   echo "  thiduactl: bin/thiduactl -e ipc://var/api.sock status"; echo ) &
	@echo "thiduad starts in the foreground with var/thidua.cfg (Ctrl-C stops it and the web pages)."
	$(BIN)/thiduad -c var/thidua.cfg --state-dir var

# test - every test against the programs of this build
test: all unit-tests
	@$(PYTHON) tests/run.py --bin $(BIN) --build $(BUILD) --results $(BUILD)/results

# asan - the whole suite again with AddressSanitizer and UndefinedBehaviorSanitizer
asan:
	@$(MAKE) --no-print-directory SAN=1 BUILD=build/asan BIN=build/asan/bin all unit-tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(PYTHON) tests/run.py --bin build/asan/bin --build build/asan --results build/asan/results --label asan

check: deps
	@$(MAKE) --no-print-directory lint all unit-tests
	@$(PYTHON) tests/run.py --bin $(BIN) --build $(BUILD) --results $(BUILD)/results || true
	@$(MAKE) --no-print-directory asan || true
	@$(PYTHON) tests/run.py --summary $(BUILD)/results build/asan/results

lint:
	@if grep -nE '\b(strcpy|sprintf|strcat|gets|vsprintf)[[:space:]]*\(' $$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]') ; then \
		echo "lint: use bounded functions (xstrlcpy, snprintf, xasprintf) instead of the calls above"; exit 1; \
	else echo "lint: ok"; fi
	@ops=$$(sed -n 's/^#define OP_[A-Z0-9_]*[[:space:]]*\("[^"]*\.[^"]*"\).*/\1/p' common/proto.h | tr '\n' '|' | sed 's/\./\\./g'); \
	if grep -nE "($$ops\"op\",[[:space:]]*\")" workers/web/*.c; then \
		echo "lint: thidua-web names ops by common/proto.h's OP_... constants, not by string literals"; exit 1; fi
	@if grep -rnE --include='*.c' --include='*.h' 'rq_error\([^,()]*(\([^()]*\))?[^,()]*,[^,"]*"' daemon; then \
		echo "lint: the daemon names error codes by common/proto.h's ERR_... constants, not by string literals"; exit 1; fi

# every unit of systemd/ (services, timers...) with @SBINDIR@, @BINDIR@ and @SYSCONFDIR@ filled in
UNITS := $(wildcard $(addprefix systemd/*.,service timer socket path target))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(SYSCONFDIR)/thidua \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(PREFIX)/lib/sysusers.d \
		$(DESTDIR)$(PREFIX)/lib/tmpfiles.d $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BIN)/thiduad $(DESTDIR)$(PREFIX)/sbin/thiduad
	install -m 0755 $(BIN)/thiduactl $(DESTDIR)$(PREFIX)/bin/thiduactl
	for w in $(WORKER_PROGRAMS); do install -m 0755 $$w $(DESTDIR)$(PREFIX)/sbin/; done
	test -e $(DESTDIR)$(SYSCONFDIR)/thidua/thidua.cfg || \
		install -m 0640 config/thidua.cfg $(DESTDIR)$(SYSCONFDIR)/thidua/thidua.cfg
	install -m 0644 config/examples/* $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 docs/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	for u in $(UNITS); do \
		sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@BINDIR@|$(PREFIX)/bin|g' \
		    -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $$u > $(DESTDIR)$(UNITDIR)/$${u#systemd/} || exit 1; \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u#systemd/}; \
	done
	test -e $(DESTDIR)$(SYSCONFDIR)/thidua/templates/bao-cao || \
		{ install -d $(DESTDIR)$(SYSCONFDIR)/thidua/templates && \
		  cp -R config/templates/bao-cao $(DESTDIR)$(SYSCONFDIR)/thidua/templates/; }
	install -d $(DESTDIR)$(PREFIX)/share/thidua/web
	install -m 0644 workers/web/static/* $(DESTDIR)$(PREFIX)/share/thidua/web/
	install -m 0644 systemd/thidua.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/thidua.conf
	install -m 0644 systemd/thidua.tmpfiles $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/thidua.conf

# deb - build/deb/thidua_VERSION_ARCH.deb with dpkg-buildpackage from debian/, in a copy of
# the tree (the build never touches this one), then lintian on it: errors fail the build.
# The build tools are installed like 'make deps' does (or the apt-get line is printed).
DEBDIR ?= build/deb
DEB_TOOLS := debhelper dpkg-dev fakeroot lintian
.PHONY: deb
deb:
	@$(MAKE) --no-print-directory deps DEBIAN_PACKAGES="$(DEBIAN_PACKAGES) $(DEB_TOOLS)"
	rm -rf $(DEBDIR)/src && mkdir -p $(DEBDIR)/src/thidua-$(VERSION)
	tar -c --exclude=./.git --exclude=./build --exclude=./bin --exclude=./var \
		--exclude=__pycache__ --exclude='*.pyc' . | tar -x -C $(DEBDIR)/src/thidua-$(VERSION)
	cd $(DEBDIR)/src/thidua-$(VERSION) && dpkg-buildpackage -b -us -uc
	mv $(DEBDIR)/src/*.deb $(DEBDIR)/src/*.changes $(DEBDIR)/src/*.buildinfo $(DEBDIR)/
	rm -rf $(DEBDIR)/src
	lintian --fail-on error $(DEBDIR)/thidua_$(VERSION)_*.changes
	@echo "built: $$(ls $(DEBDIR)/thidua_$(VERSION)_*.deb)"

# fuzz - libFuzzer (clang) on the request decoder, the units CSV importer, the configuration
# loader, the JSON fast path against jansson and the whole request path of an in-process
# daemon, thiduactl's .xlsx reader, thidua-mailin's mail parser and thidua-web's form and upload
# parsing (tests/fuzz/fuzz_*.c),
# FUZZ_SECONDS each; make -j2 fuzz runs two at once. New inputs go to build/fuzz/corpus,
# crashes to build/fuzz/artifacts (copy them to tests/fuzz/regressions/).
# make check runs every file of tests/fuzz/corpus and tests/fuzz/regressions through the
# same targets built with $(CC) around tests/fuzz/driver.c (the test_fuzz_* unit tests).
FUZZ_SECONDS ?= 600
FUZZ_FLAGS ?=
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_DRIVER_BIN := $(FUZZ_TARGETS:%=$(BUILD)/tests/test_fuzz_%)
.PHONY: fuzz fuzz-build
unit-tests: $(FUZZ_DRIVER_BIN)

$(BUILD)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/driver.c tests/fuzz/fuzz.h $(BUILD)/libthiduad.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DAEMON_INC) -Itests/fuzz -DFUZZ_TARGET='"$*"' $(LDFLAGS) -o $@ $< tests/fuzz/driver.c \
		$(BUILD)/libthiduad.a $(BUILD)/libcommon.a $(PKG_LIBS) $(SODIUM_LIBS)

# the workbook reader is thiduactl's (cli/), with its libraries
FUZZ_XLSX_OBJ := $(BUILD)/cli/xlsx_read.o
$(BUILD)/tests/test_fuzz_xlsx: tests/fuzz/fuzz_xlsx.c tests/fuzz/driver.c tests/fuzz/fuzz.h $(FUZZ_XLSX_OBJ) $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XLSX_CFLAGS) -Icli -Itests/fuzz -DFUZZ_TARGET='"xlsx"' $(LDFLAGS) -o $@ $< tests/fuzz/driver.c \
		$(FUZZ_XLSX_OBJ) $(BUILD)/libcommon.a $(PKG_LIBS) $(XLSX_LIBS)

$(BUILD)/fuzz/fuzz_xlsx: tests/fuzz/fuzz_xlsx.c tests/fuzz/fuzz.h $(FUZZ_XLSX_OBJ) $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(XLSX_CFLAGS) -Icli -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(FUZZ_XLSX_OBJ) $(BUILD)/libcommon.a \
		$(PKG_LIBS) $(XLSX_LIBS)

# the mail parser is thidua-mailin's (workers/mailin/, GMime), its request checked by the
# daemon's decoder
FUZZ_MAILIN_OBJ := $(MAILIN_SHARED_OBJ)
$(BUILD)/tests/test_fuzz_mailin: tests/fuzz/fuzz_mailin.c tests/fuzz/driver.c tests/fuzz/fuzz.h $(FUZZ_MAILIN_OBJ) \
		$(BUILD)/libthiduad.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(GMIME_CFLAGS) -Iworkers/mailin $(DAEMON_INC) -Itests/fuzz -DFUZZ_TARGET='"mailin"' $(LDFLAGS) -o $@ $< \
		tests/fuzz/driver.c $(FUZZ_MAILIN_OBJ) $(BUILD)/libthiduad.a $(BUILD)/libcommon.a $(PKG_LIBS) $(GMIME_LIBS)

$(BUILD)/fuzz/fuzz_mailin: tests/fuzz/fuzz_mailin.c tests/fuzz/fuzz.h $(FUZZ_MAILIN_OBJ) $(BUILD)/libthiduad.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(GMIME_CFLAGS) -Iworkers/mailin $(DAEMON_INC) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(FUZZ_MAILIN_OBJ) \
		$(BUILD)/libthiduad.a $(BUILD)/libcommon.a $(PKG_LIBS) $(GMIME_LIBS)

# thidua-web's form and upload parsing (workers/web/web_form.c) behind a real libmicrohttpd
# connection
FUZZ_WEBFORM_OBJ := $(BUILD)/workers/web/web_form.o
$(BUILD)/tests/test_fuzz_webform: tests/fuzz/fuzz_webform.c tests/fuzz/driver.c tests/fuzz/fuzz.h $(FUZZ_WEBFORM_OBJ) $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(MHD_CFLAGS) -Iworkers/web -Itests/fuzz -DFUZZ_TARGET='"webform"' $(LDFLAGS) -o $@ $< tests/fuzz/driver.c \
		$(FUZZ_WEBFORM_OBJ) $(BUILD)/libcommon.a $(PKG_LIBS) $(MHD_LIBS)

$(BUILD)/fuzz/fuzz_webform: tests/fuzz/fuzz_webform.c tests/fuzz/fuzz.h $(FUZZ_WEBFORM_OBJ) $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(MHD_CFLAGS) -Iworkers/web -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(FUZZ_WEBFORM_OBJ) $(BUILD)/libcommon.a \
		$(PKG_LIBS) $(MHD_LIBS)

fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (Debian: apt-get install -y clang)"; exit 1; }
	@$(MAKE) --no-print-directory CC=clang OPT='$(FUZZ_OPT)' BUILD=build/fuzz fuzz-build
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(BUILD)/libthiduad.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DAEMON_INC) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(BUILD)/libthiduad.a $(BUILD)/libcommon.a $(PKG_LIBS) $(SODIUM_LIBS)

fuzz-run-%:
	@mkdir -p build/fuzz/corpus/$* build/fuzz/artifacts/$*
	@echo "fuzz_$*: $(FUZZ_SECONDS)s, log in build/fuzz/fuzz_$*.log"
	@build/fuzz/fuzz/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $(FUZZ_FLAGS) \
		$(if $(wildcard tests/fuzz/$*.dict),-dict=tests/fuzz/$*.dict) -artifact_prefix=build/fuzz/artifacts/$*/ \
		build/fuzz/corpus/$* tests/fuzz/corpus/$* $(wildcard tests/fuzz/regressions/$*) > build/fuzz/fuzz_$*.log 2>&1 \
		&& echo "fuzz_$*: no crash; $$(ls build/fuzz/corpus/$* | wc -l) inputs in build/fuzz/corpus/$*" \
		|| { tail -60 build/fuzz/fuzz_$*.log; echo "fuzz_$*: FOUND A PROBLEM: see build/fuzz/artifacts/$*/"; exit 1; }

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
