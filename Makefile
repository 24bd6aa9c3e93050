# Interop: one cgroup hierarchy for LXC and libvirt.
#   make test   installs what is missing, builds, runs every test (unit, functional, integration)
#   make run    builds and starts interopd (system bus, or a private bus when the host has none)
# See README.md and docs/.

SHELL         := /bin/bash
PREFIX        ?= /usr/local
DESTDIR       ?=
CONFIGURATION ?= Release
DOTNET        ?= dotnet
RID           ?= linux-x64

BINDIR     := $(PREFIX)/bin
SBINDIR    := $(PREFIX)/sbin
LIBDIR     := $(PREFIX)/lib/interop
DOCDIR     := $(PREFIX)/share/doc/interop
MANDIR     := $(PREFIX)/share/man
SYSCONFDIR := /etc/interop
# Where the bus, systemd, libvirt and LXC look, whatever PREFIX is.
DBUS_POLICY_DIR  := /usr/share/dbus-1/system.d
DBUS_SERVICE_DIR := /usr/share/dbus-1/system-services
SYSTEMD_UNIT_DIR := /usr/lib/systemd/system
LIBVIRT_HOOK_DIR := /etc/libvirt/hooks/lxc.d
LXC_INCLUDE_DIR  := /usr/share/interop
STATE_DIR        := /var/lib/interop
BASH_COMPLETION_DIR := /usr/share/bash-completion/completions

OUT      := artifacts
CTL_OUT  := $(OUT)/interopctl
D_OUT    := $(OUT)/interopd
DOCS_OUT := $(OUT)/man
DEB_OUT  := $(OUT)/deb

export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

.PHONY: all deps restore build publish test unit integration bench soak run install uninstall clean deb

all: build

deps:
	tools/install-deps.sh

restore:
	$(DOTNET) restore Interop.sln

build: restore
	$(DOTNET) build Interop.sln -c $(CONFIGURATION) --no-restore

# Both are NativeAOT: interopctl because hooks run it on every container start, interopd for its start-up
# reconcile and its resident memory (docs/benchmarks.md). Each is one executable that needs no .NET runtime.
publish: restore
	$(DOTNET) publish src/interopctl/interopctl.csproj -c $(CONFIGURATION) -r $(RID) -o $(CTL_OUT)
	$(DOTNET) publish src/interopd/interopd.csproj -c $(CONFIGURATION) -r $(RID) -o $(D_OUT)

unit: build publish
	INTEROP_CTL=$(abspath $(CTL_OUT))/interopctl INTEROPD=$(abspath $(D_OUT))/interopd \
	  CONFIGURATION=$(CONFIGURATION) tools/run-tests.sh

# Unit, functional and reliability tests, then the real-manager suite; one closing total for CI.
test: deps
	@set -o pipefail; rm -f $(OUT)/test.log; mkdir -p $(OUT); \
	$(MAKE) unit 2>&1 | tee -a $(OUT)/test.log && \
	$(MAKE) integration 2>&1 | tee -a $(OUT)/test.log; rc=$$?; \
	awk '/^(unit and functional tests|integration): [0-9]+ passed, [0-9]+ failed/ { \
	       for (i = 1; i < NF; i++) { if ($$(i+1) ~ /^passed,?$$/) p += $$i; if ($$(i+1) ~ /^failed,?$$/) f += $$i } } \
	     END { printf "make test: %d passed, %d failed\n", p, f }' $(OUT)/test.log; \
	exit $$rc

# The real-manager suite on this host, its systemd variant in a nested systemd host, then the Debian
# package's (integration/package.sh). All always run; each prints its own "integration: N passed,
# N failed" line, and the closing total adds them up.
integration: publish
	@rc=0; integration/run.sh || rc=1; integration/systemd.sh || rc=1; integration/package.sh || rc=1; exit $$rc

.PHONY: integration-systemd
integration-systemd: publish
	integration/systemd.sh

bench: publish
	tools/bench.sh

# The reliability suite's long variants (docs/reliability.md): only that project, with SOAK=1.
soak: publish
	SOAK=1 INTEROP_CTL=$(abspath $(CTL_OUT))/interopctl INTEROPD=$(abspath $(D_OUT))/interopd \
	  $(DOTNET) test tests/Interop.ReliabilityTests -c $(CONFIGURATION) --logger "console;verbosity=normal"

run: deps publish
	tools/run-daemon.sh $(abspath $(D_OUT))/interopd $(abspath $(CTL_OUT))/interopctl

install: publish
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR)/interopd $(DESTDIR)$(DOCDIR)
	install -m 0755 $(CTL_OUT)/interopctl $(DESTDIR)$(BINDIR)/interopctl
	install -m 0755 $(D_OUT)/interopd $(DESTDIR)$(LIBDIR)/interopd/interopd
	ln -sf $(LIBDIR)/interopd/interopd $(DESTDIR)$(SBINDIR)/interopd
	install -d $(DESTDIR)$(SYSCONFDIR) $(DESTDIR)$(STATE_DIR)
	test -e $(DESTDIR)$(SYSCONFDIR)/interop.yaml || install -m 0644 config/interop.yaml $(DESTDIR)$(SYSCONFDIR)/interop.yaml
	test -e $(DESTDIR)$(SYSCONFDIR)/nlog.config || install -m 0644 config/nlog.config $(DESTDIR)$(SYSCONFDIR)/nlog.config
	install -d $(DESTDIR)$(DBUS_POLICY_DIR) $(DESTDIR)$(DBUS_SERVICE_DIR) $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	install -m 0644 config/dbus/org.interop.Interop1.conf $(DESTDIR)$(DBUS_POLICY_DIR)/
	sed 's|@SBINDIR@|$(SBINDIR)|g' config/dbus/org.interop.Interop1.service.in > $(DESTDIR)$(DBUS_SERVICE_DIR)/org.interop.Interop1.service
	sed 's|@SBINDIR@|$(SBINDIR)|g; s|@DOCDIR@|$(DOCDIR)|g' config/systemd/interopd.service.in > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/interopd.service
	install -d $(DESTDIR)$(LIBVIRT_HOOK_DIR) $(DESTDIR)$(LXC_INCLUDE_DIR)
	# libvirt's hook is interopctl itself, by a link: it runs as the hook when called by a name in hooks/lxc.d.
	ln -sf $(BINDIR)/interopctl $(DESTDIR)$(LIBVIRT_HOOK_DIR)/interop
	$(CTL_OUT)/interopctl lxc-config --interopctl $(BINDIR)/interopctl > $(DESTDIR)$(LXC_INCLUDE_DIR)/lxc.conf
	install -d '$(DESTDIR)$(SYSTEMD_UNIT_DIR)/lxc@.service.d'
	install -m 0644 'config/systemd/lxc@.service.d/interop.conf' '$(DESTDIR)$(SYSTEMD_UNIT_DIR)/lxc@.service.d/interop.conf'
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	tools/gen-docs.sh $(DOCS_OUT) $(CTL_OUT)/interopctl $(D_OUT)/interopd
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASH_COMPLETION_DIR)
	install -m 0644 $(DOCS_OUT)/interopctl.1 $(DESTDIR)$(MANDIR)/man1/interopctl.1
	install -m 0644 $(DOCS_OUT)/interop.yaml.5 $(DESTDIR)$(MANDIR)/man5/interop.yaml.5
	install -m 0644 $(DOCS_OUT)/interopd.8 $(DESTDIR)$(MANDIR)/man8/interopd.8
	install -m 0644 $(DOCS_OUT)/interopctl.bash $(DESTDIR)$(BASH_COMPLETION_DIR)/interopctl

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/interopctl $(DESTDIR)$(SBINDIR)/interopd
	rm -rf $(DESTDIR)$(LIBDIR) $(DESTDIR)$(DOCDIR)
	rm -f $(DESTDIR)$(DBUS_POLICY_DIR)/org.interop.Interop1.conf $(DESTDIR)$(DBUS_SERVICE_DIR)/org.interop.Interop1.service
	rm -f $(DESTDIR)$(SYSTEMD_UNIT_DIR)/interopd.service $(DESTDIR)$(LIBVIRT_HOOK_DIR)/interop $(DESTDIR)$(LXC_INCLUDE_DIR)/lxc.conf
	rm -f $(DESTDIR)$(MANDIR)/man1/interopctl.1 $(DESTDIR)$(MANDIR)/man5/interop.yaml.5 $(DESTDIR)$(MANDIR)/man8/interopd.8
	rm -f $(DESTDIR)$(BASH_COMPLETION_DIR)/interopctl
	rm -f '$(DESTDIR)$(SYSTEMD_UNIT_DIR)/lxc@.service.d/interop.conf'
	-rmdir '$(DESTDIR)$(SYSTEMD_UNIT_DIR)/lxc@.service.d' 2>/dev/null

# The Debian package (docs/packaging.md), built with debhelper from a clean copy of this tree
# (no artifacts, bin or obj) in artifacts/deb/src: artifacts/deb/interop_VERSION_amd64.deb.
deb:
	rm -rf $(DEB_OUT) && mkdir -p $(DEB_OUT)/src
	tar -cf - --exclude=./artifacts --exclude=./.git --exclude=bin --exclude=obj --exclude=TestResults . | tar -xf - -C $(DEB_OUT)/src
	cd $(DEB_OUT)/src && dpkg-buildpackage -b -us -uc
	@ls $(DEB_OUT)/*.deb

clean:
	$(DOTNET) clean Interop.sln -c $(CONFIGURATION) >/dev/null
	rm -rf $(OUT)
