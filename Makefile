# mxdock - build, test, demo, install.  Plain make; see README.md.
#
#   make              build bin/mxdock-{milter,dns,dkim,policy}
#   make deps         install the Debian 12 packages the build and tests need
#   make check        deps + the normal, ASan+UBSan and fuzz builds + every
#                     test on both builds at once (prints "N passed, N failed")
#   make demo         deps + build + the end-to-end demo on scratch services
#   make asan         the sanitizer pass of check alone
#   make fuzz         every libFuzzer target (tests/fuzz/) for FUZZ_SECONDS each
#   make install      DESTDIR= PREFIX= (default /usr/local)
#   make package      the Debian package (../mxdock_*.deb of a scratch copy)
#   make package-check  build, install, run, purge the package (docs/PACKAGING.md)
#
# BUILDDIR and BINDIR may be set to build out of tree (each developer's
# scratch build, or the sanitizer build).

PREFIX    ?= /usr/local
SYSCONFDIR ?= /etc
DESTDIR   ?=
ifdef SANITIZE
BUILDDIR  ?= build/asan
BINDIR    ?= build/asan/bin
else
BUILDDIR  ?= build
BINDIR    ?= bin
endif

CC        ?= cc
CFLAGS    ?= -O2 -g
WARN       = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wformat=2 -Werror
CPPFLAGS  += -D_GNU_SOURCE -Iconf -Idkim -Ipolicy -Ipdns-hooks -Imilter -Imilter/spf -Imilter/dmarc
ifdef SANITIZE
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
endif
ifdef FUZZ
CFLAGS    += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
endif
ALL_CFLAGS = $(CFLAGS) $(WARN) -MMD -MP

include conf/sources.mk
include dkim/sources.mk
include pdns-hooks/sources.mk
include policy/sources.mk
include milter/sources.mk
include milter/spf/sources.mk
include milter/dmarc/sources.mk
include tests/sources.mk

LIBCONF   = $(BUILDDIR)/libmxconf.a
LIBDKIM   = $(BUILDDIR)/libmxdkim.a
LIBPDNS   = $(BUILDDIR)/libmxpdns.a
LIBPOLICY = $(BUILDDIR)/libmxpolicy.a
LIBMILTER = $(BUILDDIR)/libmxmilter.a
LIBSPF    = $(BUILDDIR)/libmxspf.a
LIBDMARC  = $(BUILDDIR)/libmxdmarc.a

LDLIBS_CONF   = -lmariadb -lz -lidn2 -lresolv
LDLIBS_DKIM   = -lopendkim -lssl -lcrypto -ljansson
LDLIBS_PDNS   = -lcurl -ljansson
LDLIBS_POLICY = -lpsl -lmicrohttpd -ljansson -lcrypto -lcurl
LDLIBS_MILTER = -lmilter -lspf2 -lpsl -lresolv -lpthread

PROGS = $(BINDIR)/mxdock-milter $(BINDIR)/mxdock-dns $(BINDIR)/mxdock-dkim $(BINDIR)/mxdock-policy

obj = $(patsubst %.c,$(BUILDDIR)/%.o,$(1))

all: $(PROGS)

$(BUILDDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIBCONF): $(call obj,$(CONF_SRCS))
$(LIBDKIM): $(call obj,$(DKIM_SRCS))
$(LIBPDNS): $(call obj,$(PDNS_SRCS))
$(LIBPOLICY): $(call obj,$(POLICY_SRCS))
$(LIBMILTER): $(call obj,$(MILTER_SRCS))
$(LIBSPF): $(call obj,$(SPF_SRCS))
$(LIBDMARC): $(call obj,$(DMARC_SRCS))
$(BUILDDIR)/%.a:
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BINDIR)/mxdock-milter: $(call obj,$(MILTER_MAIN)) $(LIBMILTER) $(LIBSPF) $(LIBDMARC) $(LIBPOLICY) $(LIBDKIM) $(LIBCONF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_MILTER) $(LDLIBS_POLICY) $(LDLIBS_DKIM) $(LDLIBS_CONF)

$(BINDIR)/mxdock-dns: $(call obj,$(PDNS_MAIN)) $(LIBPDNS) $(LIBDKIM) $(LIBCONF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_PDNS) $(LDLIBS_DKIM) $(LDLIBS_CONF) -lresolv

$(BINDIR)/mxdock-dkim: $(call obj,$(DKIM_MAIN)) $(LIBDKIM) $(LIBCONF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_DKIM) $(LDLIBS_CONF)

$(BINDIR)/mxdock-policy: $(call obj,$(POLICY_MAIN)) $(LIBPOLICY) $(LIBCONF)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_POLICY) $(LDLIBS_CONF)

# Unit tests: one program per part, linked with every library.
UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILDDIR)/tests/%,$(UNIT_TESTS))
ALL_LIBS  = $(LIBMILTER) $(LIBSPF) $(LIBDMARC) $(LIBPDNS) $(LIBPOLICY) $(LIBDKIM) $(LIBCONF)
ALL_LDLIBS = $(LDLIBS_MILTER) $(LDLIBS_PDNS) $(LDLIBS_POLICY) $(LDLIBS_DKIM) $(LDLIBS_CONF)
$(BUILDDIR)/tests/%: $(BUILDDIR)/tests/unit/%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

# the DMARC test driver of tests/integration/dmarc_eval.sh
$(BUILDDIR)/tests/dmarccheck: $(BUILDDIR)/tests/dmarc/dmarccheck.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

# the DKIM signing driver of tests/integration/dkim_engine_sign.sh
$(BUILDDIR)/tests/dkimsign: $(BUILDDIR)/tests/dkim/dkimsign.o $(BUILDDIR)/tests/dkim/dkimfeed.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

unit: $(UNIT_BINS) $(BUILDDIR)/tests/dmarccheck $(BUILDDIR)/tests/dkimsign

# libFuzzer targets: tests/fuzz/fuzz_NAME.c, built by clang (make fuzz-build)
FUZZ_BINS = $(patsubst tests/fuzz/%.c,$(BUILDDIR)/tests/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
$(BUILDDIR)/tests/fuzz/fuzz_%: $(BUILDDIR)/tests/fuzz/fuzz_%.o $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(ALL_LDLIBS)

fuzz-bins: $(FUZZ_BINS)

# ---- packages ------------------------------------------------------------
DEB_BUILD = build-essential pkg-config libmilter-dev libopendkim-dev libspf2-dev \
	libjansson-dev libcurl4-openssl-dev libmariadb-dev libssl-dev libidn2-dev \
	libpsl-dev zlib1g-dev libmicrohttpd-dev
DEB_TEST  = pdns-server pdns-backend-sqlite3 pdns-backend-mysql mariadb-server \
	mariadb-client postfix swaks bind9-dnsutils sqlite3 opendkim-tools \
	libmail-dkim-perl libcryptx-perl sasl2-bin libsasl2-modules procps \
	publicsuffix libxml2-utils jq strace clang-14 libclang-rt-14-dev m4 \
	python3-spf python3-yaml python3-dkim python3-cryptography python3-nacl spfquery \
	openssl curl iproute2 util-linux dovecot-core dovecot-imapd python3-prometheus-client \
	prometheus galera-4 rsync socat valgrind
DEBS = $(DEB_BUILD) $(DEB_TEST)

# install_debs - apt-get install those of the packages in $(1) that are not
# installed; quiet when all are.  node and npm (the pinned test-only npm
# packages in tests/node) come from Debian unless a node is already on PATH.
define install_debs
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null \
		| grep -q '^ii' || echo $$p; done); \
	command -v node >/dev/null && command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "make: installing" $$missing; \
		[ "$$(id -u)" = 0 ] || { echo "make: run as root to install packages" >&2; exit 77; }; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q >/dev/null && \
		apt-get install -y -q -o DPkg::Lock::Timeout=900 --no-install-recommends $$missing >/dev/null || exit 1; \
	fi
endef

deps:
	$(call install_debs,$(DEBS))

# ---- benchmarks (make bench; not part of make check) ------------------------
DEB_BENCH = opendkim dkimpy-milter pyspf-milter rspamd valgrind python3 iproute2 openssl curl
BENCH_SRCS = tests/bench/ml_proto.c tests/bench/ml_corpus.c
BENCH_BINS = $(BUILDDIR)/tests/bench/milterload $(BUILDDIR)/tests/bench/libloop \
	$(BUILDDIR)/tests/bench/nullmilter

$(BUILDDIR)/tests/bench/milterload: tests/bench/milterload.c $(BENCH_SRCS) tests/bench/ml.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ tests/bench/milterload.c $(BENCH_SRCS) -lpthread

$(BUILDDIR)/tests/bench/libloop: tests/bench/libloop.c $(BENCH_SRCS) tests/bench/ml.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ tests/bench/libloop.c $(BENCH_SRCS) -lopendkim -lpthread

$(BUILDDIR)/tests/bench/engbench: tests/bench/engbench.c tests/dkim/dkimfeed.c $(ALL_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/dkim $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ tests/bench/engbench.c \
		tests/dkim/dkimfeed.c $(ALL_LIBS) $(ALL_LDLIBS)

# bench-engine - CPU per DKIM signature: mxdock's engine, libopendkim, OpenSSL
bench-engine: all $(BUILDDIR)/tests/bench/engbench
	BINDIR=$(abspath $(BINDIR)) BUILDDIR=$(abspath $(BUILDDIR)) tests/bench/engine.sh

$(BUILDDIR)/tests/bench/nullmilter: tests/bench/nullmilter.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) $(LDFLAGS) -o $@ tests/bench/nullmilter.c -lmilter -lpthread

bench-deps:
	$(call install_debs,$(DEB_BENCH))

# bench-dkim - only sections 0-4 (DKIM, SPF, library limit) of make bench, every peer
# (rspamd too); they replace sections 0-4 of docs/PERFORMANCE.md, the rest
# of it is kept
bench-dkim: bench-deps all $(BENCH_BINS)
	BENCH_CMD="make bench-dkim" BENCH_SECTIONS="floor sign verify spf library" BENCH_SPLICE=1 \
		BINDIR=$(abspath $(BINDIR)) BUILDDIR=$(abspath $(BUILDDIR)) tests/bench/run.sh

bench: deps bench-deps all $(BENCH_BINS) $(BUILDDIR)/tests/bench/engbench
	BENCH_CMD="make bench" BINDIR=$(abspath $(BINDIR)) BUILDDIR=$(abspath $(BUILDDIR)) tests/bench/run.sh
	BINDIR=$(abspath $(BINDIR)) BUILDDIR=$(abspath $(BUILDDIR)) tests/bench/engine.sh \
		>$(BUILDDIR)/bench-engine.txt
	BINDIR=$(abspath $(BINDIR)) pdns-hooks/bench-dns.sh 1000 >$(BUILDDIR)/bench-dns.txt
	{ printf '\n## 10. DNS hooks: 1,000 mail domains (pdns-hooks/bench-dns.sh 1000)\n\n'; \
	  printf 'One run; target: create = 1 request, unchanged sync = 1 GET and no PATCH.\n\n```\n'; \
	  cat $(BUILDDIR)/bench-dns.txt; printf '```\n'; } >>docs/PERFORMANCE.md
	BINDIR=$(abspath $(BINDIR)) tests/bench/serve.sh 5 >$(BUILDDIR)/bench-serve.txt
	{ printf '\n## 11. Dovecot allow decisions through mxdock-policy serve (tests/bench/serve.sh 5)\n\n'; \
	  cat $(BUILDDIR)/bench-serve.txt; } >>docs/PERFORMANCE.md
	{ printf '\n## 12. DKIM engines in-process (make bench-engine)\n\n'; \
	  printf 'CPU per message, one thread, no milter: see docs/DKIM.md.\n\n'; \
	  cat $(BUILDDIR)/bench-engine.txt; } >>docs/PERFORMANCE.md

# soak: issue 5's 10,000 messages and 100 reloads with the milter built
# with ASan (tests/soak.sh; a few minutes, so not part of make check)
soak: deps
	$(MAKE) SANITIZE=1 BUILDDIR=build/asan BINDIR=build/asan/bin all
	BINDIR=$(abspath build/asan/bin) tests/soak.sh

# scale: issue 19's two MX hosts on a three-node Galera cluster, a node
# killed and frozen under load, the numbers of docs/SCALE.md, and DKIM
# rotations racing on two nodes (dkim_store_galera.sh)
# (tests/scale/; about 3 minutes when the machine is quiet, so not in make check)
scale: deps all
	BINDIR=$(abspath $(BINDIR)) bash tests/scale/scale_cluster.sh
	BINDIR=$(abspath $(BINDIR)) bash tests/scale/dkim_store_galera.sh

# valgrind: the milter under valgrind memcheck end to end (tests/soak.sh
# through tests/lib/postfix.sh: VALGRIND_MESSAGES=1000, VALGRIND_RELOADS=20
# by default); 0 errors, 0 definite leaks (tests/valgrind/mxdock.supp)
valgrind: deps
	$(MAKE) all
	BINDIR=$(abspath $(BINDIR)) BUILDDIR=$(abspath $(BUILDDIR)) tests/valgrind/run.sh

# memory: 10,000 hostile messages and 1,000 hostile connections; the
# milter's RSS must come back within 10 % (make check runs 2,000 + 1,000
# and reports RSS without judging it)
memory: deps
	$(MAKE) all
	FAULT_MEMORY_MESSAGES=10000 FAULT_MEMORY_CONNECTIONS=1000 FAULT_MEMORY_JUDGE_RSS=1 \
	BINDIR=$(abspath $(BINDIR)) BUILDDIR=$(abspath $(BUILDDIR)) tests/run fault_memory

# ---- tests ---------------------------------------------------------------
# check: the whole suite twice AT ONCE, on the normal build and on the
# ASan+UBSan build (tests/check: each pass its own ports; most tests wait on
# real peers, so both fit the 30-minute budget on 2 cores, docs/TESTING.md),
# and the short fuzz pass once (in the normal pass: its build is its own,
# already ASan+UBSan).  Last line: the sum, "N passed, N failed".
ASAN_MAKE = $(MAKE) SANITIZE=1 BUILDDIR=build/asan BINDIR=build/asan/bin
check: deps
	$(MAKE) all unit
	$(ASAN_MAKE) all unit
	$(MAKE) fuzz-build
	TESTS_SKIP_ASAN=integration/fuzz_short tests/check \
		normal $(abspath $(BUILDDIR)) $(abspath $(BINDIR)) \
		asan $(abspath build/asan) $(abspath build/asan/bin)

# check-all: the old name of check
check-all: check

# fuzz-build: the libraries and targets with clang, libFuzzer, ASan+UBSan
fuzz-build:
	$(MAKE) CC=clang-14 FUZZ=1 BUILDDIR=build/fuzz BINDIR=build/fuzz/bin fuzz-bins

FUZZ_SECONDS ?= 300
fuzz: deps fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_OUT=$(abspath build/fuzz/out) tests/fuzz/run.sh

# asan: the sanitizer pass of check alone (fuzz_short is not part of it)
asan: deps
	$(ASAN_MAKE) all unit
	TESTS_SKIP=integration/fuzz_short BINDIR=$(abspath build/asan/bin) \
		BUILDDIR=$(abspath build/asan) tests/run

demo: deps
	$(MAKE) all
	BINDIR=$(abspath $(BINDIR)) tests/demo.sh

sample: $(BUILDDIR)/tests/test_conf
	$(BUILDDIR)/tests/test_conf --sample > conf/mxdock.conf
	$(BUILDDIR)/tests/test_conf --reference > docs/CONFIG.md
	$(BUILDDIR)/tests/test_conf --man > docs/man/mxdock.conf.5

# ---- install -------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(SYSCONFDIR)/mxdock \
		$(DESTDIR)$(PREFIX)/share/doc/mxdock
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/sbin/
	[ -e $(DESTDIR)$(SYSCONFDIR)/mxdock/mxdock.conf ] || \
		install -m 640 conf/mxdock.conf $(DESTDIR)$(SYSCONFDIR)/mxdock/mxdock.conf
	install -m 644 README.md docs/*.md docs/*.sql $(DESTDIR)$(PREFIX)/share/doc/mxdock/

# install-extra: man pages, the SQL schema, systemd units (their @SBINDIR@
# filled in) and bash completion; the Debian package installs them too
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR  ?= $(PREFIX)/share/bash-completion/completions
install-extra:
	install -d $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/mxdock $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 docs/man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 docs/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 docs/policy-schema.sql $(DESTDIR)$(PREFIX)/share/mxdock/
	for u in units/*.service units/*.timer; do \
		sed 's|@SBINDIR@|$(PREFIX)/sbin|g' $$u >$(DESTDIR)$(SYSTEMDUNITDIR)/$${u#units/} && \
		chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$${u#units/} || exit 1; done
	install -m 644 contrib/bash-completion/mxdock $(DESTDIR)$(COMPLETIONDIR)/mxdock-milter
	for p in mxdock-dns mxdock-dkim mxdock-policy; do \
		ln -sf mxdock-milter $(DESTDIR)$(COMPLETIONDIR)/$$p || exit 1; done

# ---- Debian package (docs/PACKAGING.md) ------------------------------------
DEB_PKG = debhelper devscripts dpkg-dev fakeroot lintian groff man-db systemd adduser
DEB_TEST += systemd groff-base     # pkg_units.sh and pkg_man.sh run in make check
PKGDIR ?= build/pkg
package-deps:
	$(call install_debs,$(DEB_PKG) $(DEB_BUILD))

# package: dpkg-buildpackage in a scratch copy of the tracked files (its
# clean step would remove this tree's build/ and bin/), then lintian
package: package-deps
	rm -rf $(PKGDIR) && mkdir -p $(PKGDIR)/src
	git ls-files -z --cached --others --exclude-standard | \
		xargs -0 tar cf - | tar xf - -C $(PKGDIR)/src
	cd $(PKGDIR)/src && dpkg-buildpackage -us -uc -b
	lintian --fail-on error,warning $(PKGDIR)/mxdock_*.deb

package-check: package
	PKGDIR=$(abspath $(PKGDIR)) BINDIR=$(abspath $(BINDIR)) BUILDDIR=$(abspath $(BUILDDIR)) \
		tests/run pkg_

clean:
	rm -rf build bin

.PHONY: all deps check check-all asan demo install clean unit sample bench bench-deps bench-dkim \
	bench-engine soak scale valgrind memory fuzz fuzz-build fuzz-bins install-extra package \
	package-deps package-check

-include $(shell find $(BUILDDIR) -name '*.d' 2>/dev/null)
.SECONDARY:
