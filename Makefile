# ngx_durable: build, run and test.
#
#   make run     build, then nginx in the foreground on 127.0.0.1:$(PORT)
#   make worker  the example worker for it (a second terminal)
#   make test    the docs' links (check-docs), the style gate
#                (check-style), the bench tooling's and util/'s own tests
#                (check-bench, check-util), the module's exported symbols
#                (check-exports), a compile check for nginx without
#                threads (build-nothreads), store, gRPC codec and
#                PostgreSQL unit tests (test-store, test-grpc-unit,
#                test-pg-schema), the Test::Nginx suite on PostgreSQL
#                (test-postgres, about 3 minutes), the gRPC suite on
#                PostgreSQL (test-grpc-postgres, about 4 minutes), the
#                example worker's replay engine (test-worker), a quick
#                fuzzing pass (fuzz-quick), the sanitizer suites
#                (test-asan), the store's threads under ThreadSanitizer
#                (test-tsan), the README's Quick start (test-quickstart),
#                docs/openapi.yaml (test-openapi), the dashboard
#                (test-ui), the Debian package (test-deb), make install
#                (test-install), every command of build/durable
#                (test-cli), the metrics page through promtool
#                (test-metrics), the gRPC suite (test-grpc), the
#                JavaScript SDK example (test-demo-grpc: make demo-grpc
#                on ports of its own) and the Test::Nginx suite
#                (test-nginx)
#   make demo    nginx + the example worker: one HelloSequence end to end
#   make demo-grpc  nginx + the JavaScript SDK application of
#                examples/durabletask-js over gRPC, read back over HTTP
#   make test-quickstart  the README's Quick start, run and checked
#   make test-cli        every command of build/durable (cli/) against an
#                        nginx and a store of its own
#   make fuzz    the libFuzzer targets, FUZZ_SECONDS (60) each
#   make test-asan       unit tests, the whole suite and t/grpc
#                        (test-asan-grpc) with ASan + UBSan
#   make test-tsan       the store's threads under ThreadSanitizer
#   make test-valgrind   a part of the suite with nginx under valgrind
#   make stress  fault injection: worker SIGKILLs, reloads, a binary upgrade
#                under load, then make failover; nothing acknowledged may
#                be lost or doubled
#   make failover  a PostgreSQL primary killed under load, a synchronous
#                standby promoted, two nginx following it
#   make bench   the benchmark suite (bench/README.md); QUICK=1 for a short run
#
# Every target first checks the Debian packages it needs: make build,
# run, demo, demo-grpc, install and make (all) the few that building and
# running need (make deps-build, util/deps.sh build), the tests all of
# them (make deps: PostgreSQL, Test::Nginx's Perl, clang, valgrind too).

SHELL       := /bin/bash
PORT        ?= 8080
GRPC_PORT   ?= 4001
NGX_SRC     ?= /usr/share/nginx/src
NGINX       ?= /usr/sbin/nginx
BUILD       := $(CURDIR)/build
NGX_BUILD   := $(BUILD)/nginx
MODULE_SO   := $(NGX_BUILD)/objs/ngx_http_durable_module.so
# the module make install installs: make build's flags without the hook of
# test faults, which only the suite's builds carry
RELEASE_BUILD := $(BUILD)/nginx-release
RELEASE_SO  := $(RELEASE_BUILD)/objs/ngx_http_durable_module.so
# the operators' tool, durable (cli/, durable(1)); durable-check, the
# store checker the tests run, is the same program under its old name
DURABLE_TOOL := $(BUILD)/durable
CHECK_TOOL  := $(BUILD)/durable-check

# the test builds set it where they configure; from the environment it
# would put the hook into the release build
unexport DURABLE_TEST_FAULTS_BUILD

MODULE_SRCS := $(wildcard ngx_durable_module/*.c ngx_durable_module/*.h \
                          store/*.c store/*.h store/pg/*.c store/pg/*.h \
                          grpc/*.c grpc/*.h)
PROVE_FLAGS ?= -r
# the Test::Nginx suites run this many files at once: prove -j for
# test-nginx, util/prove-lanes.sh where a suite keeps its servroot and
# error log out of t/ (ASan, PostgreSQL); one core, one at a time
T_JOBS      ?= $(shell n=$$(nproc 2> /dev/null || echo 1); \
                   [ $$n -gt 4 ] && n=4; echo $$n)

UNIT_CC     ?= cc
UNIT_CFLAGS ?= -std=c99 -Wall -Wextra -Werror -pedantic -g -O1

.PHONY: all deps deps-build build build-nothreads run worker demo demo-grpc \
        test-demo-grpc \
        test test-store \
        check-util \
        test-grpc-unit \
        test-worker test-quickstart \
        test-nginx check-node check-upstream check-tool stress bench clean \
        fuzz fuzz-quick fuzz-build test-asan test-asan-unit test-asan-nginx \
        test-tsan \
        test-valgrind check-docs check-style check-exports \
        deb test-deb install test-install test-ui test-cli test-metrics \
        test-grpc test-asan-grpc test-pg-schema test-postgres \
        test-grpc-postgres failover check-bench

# make build's module, make install's ($(RELEASE_SO)) and the CLI
# ($(DURABLE_TOOL)): all that make install installs, so that `make && sudo
# make install` compiles nothing as root (make test-install checks it)
all: build $(RELEASE_SO) $(DURABLE_TOOL)

# what building and running need, no more
deps-build:
	@sh util/deps.sh build

# every package, the tests' too (util/deps.sh); after deps-build, so that
# make -j never runs two apt-get at once
deps: deps-build
	@sh util/deps.sh

build: deps-build $(MODULE_SO)

# configure once per source list: objs/Makefile names every file; with
# the hook of test faults (config), as the suite needs, and so is the
# ASan build below (the Debian package's is not)
$(BUILD)/sources.txt: FORCE
	@mkdir -p $(BUILD)
	@ls ngx_durable_module/*.c store/*.c store/pg/*.c grpc/*.c grpc/*.proto \
	    config > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

$(NGX_BUILD)/objs/Makefile: $(BUILD)/sources.txt config grpc/durable_task.proto
	rm -rf $(NGX_BUILD)
	cp -r $(NGX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && . ./conf_flags && DURABLE_TEST_FAULTS_BUILD=1 \
	    ./configure "$${NGX_CONF_FLAGS[@]}" --with-cc-opt="-O2" \
	        --add-dynamic-module=$(CURDIR) > $(BUILD)/configure.log 2>&1 \
	    || { tail -20 $(BUILD)/configure.log; exit 1; }

$(MODULE_SO): $(NGX_BUILD)/objs/Makefile $(MODULE_SRCS)
	$(MAKE) -s -C $(NGX_BUILD) -f objs/Makefile modules

# the release module ($(RELEASE_SO)); make (all) builds it beside make
# build's
$(RELEASE_BUILD)/objs/Makefile: $(BUILD)/sources.txt config \
        grpc/durable_task.proto | deps-build
	rm -rf $(RELEASE_BUILD)
	cp -r $(NGX_SRC) $(RELEASE_BUILD)
	cd $(RELEASE_BUILD) && . ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" --with-cc-opt="-O2" \
	        --add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	    || { tail -20 configure.log; exit 1; }
	! grep -q NGX_HTTP_DURABLE_TEST_FAULTS \
	    $(RELEASE_BUILD)/objs/ngx_auto_config.h || { rm -f $@; exit 1; }

$(RELEASE_SO): $(RELEASE_BUILD)/objs/Makefile $(MODULE_SRCS)
	$(MAKE) -s -C $(RELEASE_BUILD) -f objs/Makefile modules

# the runtime directory is ./var, or (as root, when nginx's worker user
# cannot reach the clone) /var/tmp/ngx_durable-<hash>/var: util/runtime.sh
run: build
	@PORT=$(PORT) GRPC_PORT=$(GRPC_PORT) NGINX=$(NGINX) \
	    MODULE_SO=$(MODULE_SO) util/run.sh

# the example worker, for make run's nginx on $(PORT); Ctrl-C stops it
worker:
	python3 examples/worker/worker.py \
	    --url http://127.0.0.1:$(PORT)/runtime/webhooks/durabletask

# the plain suite runs last: make test ends with its prove summary
test: check-docs check-style check-bench check-util build check-exports build-nothreads \
      test-store test-grpc-unit test-pg-schema test-postgres \
      test-grpc-postgres test-worker \
      fuzz-quick test-asan test-tsan test-quickstart \
      test-openapi test-ui test-deb test-install test-cli test-metrics \
      test-grpc test-demo-grpc test-nginx

# the cheap gates first: every relative link in the docs resolves and
# nothing cites a file the repository does not carry (util/check_docs.py);
# nginx's habits in our C (util/style.sh); the module exports only the
# symbols nginx looks up (util/check-exports.sh)
check-docs:
	python3 util/check_docs.py

check-style:
	util/style.sh

check-exports: deps build
	util/check-exports.sh $(MODULE_SO)

# the bench tooling's own tests (bench/tests): variance.py and bench.py's
# dirty check, without nginx or network
check-bench: deps
	python3 -m unittest discover -s bench/tests

# the repository's own tools' tests (util/tests): util/prove-lanes.sh
# on throwaway .t files, no nginx
check-util:
	python3 -m unittest discover -s util/tests

# the module must also compile for an nginx built without --with-threads
# (writes then run in the event loop): nginx's own -Werror flags, no run
NOTHREADS := $(BUILD)/nginx-nothreads

build-nothreads: deps
	@rm -rf $(NOTHREADS) && mkdir -p $(BUILD)
	@cp -r $(NGX_SRC) $(NOTHREADS)
	cd $(NOTHREADS) && ./configure --with-compat \
	    --add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	    || { tail -20 configure.log; exit 1; }
	! grep -q NGX_THREADS $(NOTHREADS)/objs/ngx_auto_config.h
	$(MAKE) -s -C $(NOTHREADS) -f objs/Makefile modules > /dev/null

# what the .t files run besides nginx and the tool (t/tools/)
T_TOOLS     := $(BUILD)/t-hold-write-lock
STORE_SRCS  := $(wildcard store/*.c)
CLI_SRCS    := $(wildcard cli/*.c)
# the PostgreSQL schema, carried by durable (durable schema init)
PG_SQL      := $(wildcard store/pg/schema/*.sql store/pg/functions/*.sql)
PG_SQL_C    := $(BUILD)/durable_schema_sql.c
PG_CFLAGS   := -I$(shell pg_config --includedir 2>/dev/null \
                         || echo /usr/include/postgresql)

check-tool: deps $(CHECK_TOOL)

$(PG_SQL_C): $(PG_SQL) store/pg/embed.sh store/pg/ds_pg_schema.h
	@mkdir -p $(BUILD)
	sh store/pg/embed.sh $@

# the package's version, durable --version: debian/changelog is its one
# source (debian/rules passes dpkg's reading of the same line)
PKG_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)

$(DURABLE_TOOL): $(CLI_SRCS) cli/durable.h $(STORE_SRCS) \
                 $(wildcard store/*.h) store/pg/ds_pg_schema.h $(PG_SQL_C) \
                 debian/changelog | deps-build
	@mkdir -p $(BUILD)
	$(UNIT_CC) $(UNIT_CFLAGS) -D_POSIX_C_SOURCE=200809L -I store -I cli \
	    -DDU_VERSION='"$(PKG_VERSION)"' \
	    $(PG_CFLAGS) $(CLI_SRCS) $(PG_SQL_C) $(STORE_SRCS) \
	    -llmdb -ljansson -lcurl -lpq -o $@

# the PostgreSQL schema's SQL tests, durable schema, the backend's
# non-blocking connections (store/pg/ds_pg_conn.c) and its operations
# answering as LMDB's (store/pg/ds_pg_op.c), against a throwaway cluster
# (util/pg.sh, store/pg/tests/run.sh). The C test programs are built with
# ASan and UBSan (ASAN_FLAGS, below) and run with leak checking: nothing
# else runs the backend's code under the sanitizers with a server behind
# it, and its failure paths (a server stopped, memory refused) are here.
PG_SRCS      := $(wildcard store/pg/*.c)
PG_TEST_DIR  := $(BUILD)/asan/pg
PG_CONN_TEST := $(PG_TEST_DIR)/t_pg_conn
PG_OPS_TEST  := $(PG_TEST_DIR)/t_pg_ops
PG_STORE_TEST := $(PG_TEST_DIR)/t_pg_store
PG_TEST_CFLAGS = $(UNIT_CFLAGS) $(ASAN_FLAGS)
PG_TEST_ENV  := ASAN_OPTIONS=detect_leaks=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# set for t_pg_store alone (below), never from the environment
PG_TEST_LDFLAGS :=

$(PG_CONN_TEST) $(PG_OPS_TEST) $(PG_STORE_TEST): $(PG_TEST_DIR)/%: \
                                store/pg/tests/%.c $(PG_SRCS) \
                                $(wildcard store/pg/*.h) $(STORE_SRCS) \
                                $(wildcard store/*.h)
	@mkdir -p $(PG_TEST_DIR)
	$(UNIT_CC) $(PG_TEST_CFLAGS) -D_POSIX_C_SOURCE=200809L -DDS_HAVE_PG \
	    -I store -I store/pg $(PG_CFLAGS) $< $(PG_SRCS) $(STORE_SRCS) \
	    $(PG_TEST_LDFLAGS) -llmdb -ljansson -lpq -o $@

# t_pg_store refuses chosen allocations of the store's code
$(PG_STORE_TEST): PG_TEST_LDFLAGS := \
    -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc

# a hub with every kind of record, made through the LMDB store's own
# operations, for the test that moves it to PostgreSQL and back (move.sh)
PG_RICH_HUB := $(PG_TEST_DIR)/t_hub_rich

$(PG_RICH_HUB): store/pg/tests/t_hub_rich.c $(STORE_SRCS) $(wildcard store/*.h)
	@mkdir -p $(PG_TEST_DIR)
	$(UNIT_CC) $(PG_TEST_CFLAGS) -D_POSIX_C_SOURCE=200809L -I store $< \
	    $(STORE_SRCS) -llmdb -ljansson -lpthread -o $@

test-pg-schema: deps $(DURABLE_TOOL) $(PG_CONN_TEST) $(PG_OPS_TEST) \
                $(PG_STORE_TEST) $(PG_RICH_HUB)
	$(PG_TEST_ENV) DURABLE=$(DURABLE_TOOL) T_PG_CONN=$(PG_CONN_TEST) \
	T_PG_OPS=$(PG_OPS_TEST) T_PG_STORE=$(PG_STORE_TEST) \
	T_HUB_RICH=$(PG_RICH_HUB) \
	util/pg.sh run store/pg/tests/run.sh

$(BUILD)/t-hold-write-lock: t/tools/hold_write_lock.c
	@mkdir -p $(BUILD)
	$(UNIT_CC) $(UNIT_CFLAGS) -D_POSIX_C_SOURCE=200809L $< -llmdb -o $@

$(CHECK_TOOL): $(DURABLE_TOOL)
	ln -sf durable $@

# every command of durable against a store and an nginx of its own
test-cli: deps build $(DURABLE_TOOL) $(CHECK_TOOL)
	NGINX=$(NGINX) MODULE_SO=$(MODULE_SO) DURABLE=$(DURABLE_TOOL) \
	    python3 cli/test_cli.py

test-store: deps
	$(MAKE) -s -C store test

# the gRPC codec (grpc/): its C code generated by protoc-c, unit tests in
# grpc/tests, and the library's exported names
test-grpc-unit: deps
	$(MAKE) -s -C grpc test BUILD=$(BUILD)/grpc

# the example worker's replay engine, against an in-process fake hub
test-worker: deps
	cd examples/worker && python3 -m unittest -q test_replay

# the README's Quick start as written (make run, make worker, the curl
# lines, make demo), from a copy of the clone in a mode-700 directory;
# as root, skipped otherwise (util/quickstart_test.py)
test-quickstart: deps
	python3 util/quickstart_test.py

# docs/openapi.yaml: linted by Redocly CLI, then one request per route and
# status code it lists replayed against examples/nginx.conf, each answer
# checked against it (util/openapi/replay.sh). The npm packages, Node
# itself among them (Redocly CLI needs a newer one than Debian's), are
# pinned in util/openapi/package-lock.json and installed there by npm ci.
OPENAPI_DIR  := $(CURDIR)/util/openapi
OPENAPI_NODE := $(OPENAPI_DIR)/node_modules/.bin/node

.PHONY: test-openapi

$(OPENAPI_DIR)/node_modules/.ci: $(OPENAPI_DIR)/package-lock.json
	@command -v npm > /dev/null || DURABLE_EXTRA_DEPS=npm $(MAKE) -s deps
	cd $(OPENAPI_DIR) && npm ci --no-audit --no-fund
	@touch $@

$(BUILD)/openapi-fill-map: util/openapi/fill_map.c
	@mkdir -p $(BUILD)
	$(UNIT_CC) $(UNIT_CFLAGS) -D_POSIX_C_SOURCE=200809L $< -llmdb -o $@

test-openapi: deps build $(OPENAPI_DIR)/node_modules/.ci \
              $(BUILD)/openapi-fill-map
	cd $(OPENAPI_DIR) && REDOCLY_TELEMETRY=off \
	    REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(OPENAPI_NODE) \
	    node_modules/.bin/redocly lint --lint-config error \
	    --config redocly.yaml $(CURDIR)/docs/openapi.yaml
	NGINX=$(NGINX) MODULE_SO=$(MODULE_SO) NODE=$(OPENAPI_NODE) \
	    FILL_MAP=$(BUILD)/openapi-fill-map $(OPENAPI_DIR)/replay.sh

# the dashboard (ui/) in Debian's headless Chromium, driven by
# puppeteer-core (pinned in util/ui-test/package-lock.json, installed there
# by npm ci; it runs on Debian's Node): the key typed in, the filters,
# paging, an instance page, a terminate confirmed and then checked through
# the API (util/ui-test/run.sh). Screenshots are kept in build/ui-test/.
UI_TEST_DIR  := $(CURDIR)/util/ui-test

$(UI_TEST_DIR)/node_modules/.ci: $(UI_TEST_DIR)/package-lock.json
	@command -v npm > /dev/null || DURABLE_EXTRA_DEPS=npm $(MAKE) -s deps
	cd $(UI_TEST_DIR) && npm ci --no-audit --no-fund
	@touch $@

test-ui: deps build $(UI_TEST_DIR)/node_modules/.ci
	@DURABLE_EXTRA_DEPS=chromium $(MAKE) -s deps
	NGINX=$(NGINX) MODULE_SO=$(MODULE_SO) $(UI_TEST_DIR)/run.sh

# the gRPC service (durable_task_grpc) driven by the JavaScript Durable
# Task SDK and by hand-made HTTP/2 calls (t/grpc/run.sh); the SDK and the
# Node that runs it are pinned in t/grpc/package-lock.json, installed
# there by npm ci. TESTS= runs some files only (t/grpc/test/...).
GRPC_TEST_DIR  := $(CURDIR)/t/grpc

$(GRPC_TEST_DIR)/node_modules/.ci: $(GRPC_TEST_DIR)/package-lock.json
	@command -v npm > /dev/null || DURABLE_EXTRA_DEPS=npm $(MAKE) -s deps
	cd $(GRPC_TEST_DIR) && npm ci --no-audit --no-fund
	@touch $@

test-grpc: deps build $(GRPC_TEST_DIR)/node_modules/.ci
	@DURABLE_EXTRA_DEPS=openssl $(MAKE) -s deps
	NGINX=$(NGINX) MODULE_SO=$(MODULE_SO) $(GRPC_TEST_DIR)/run.sh $(TESTS)

# the same gRPC suite with each nginx's store in a PostgreSQL database of
# its own, made from a template that has the schema, in a throwaway
# cluster (util/pg.sh); what PostgreSQL does not serve yet is skipped
# there (t/grpc/lib/backend.js). Each nginx holds 2 workers x (pool 4 +
# a listener) connections, twice that across a reload, and three files
# run at once: more than util/pg.sh's default 30 connections
test-grpc-postgres: deps build $(DURABLE_TOOL) $(GRPC_TEST_DIR)/node_modules/.ci
	@DURABLE_EXTRA_DEPS=openssl $(MAKE) -s deps
	DURABLE=$(DURABLE_TOOL) NGINX=$(NGINX) MODULE_SO=$(MODULE_SO) \
	DURABLE_PG_MAX_CONNECTIONS=120 \
	    util/pg.sh run sh -c 'set -e; \
	        createdb durable_template; \
	        "$$DURABLE" schema init --conninfo \
	            "$$DURABLE_PG_CONNINFO dbname=durable_template" > /dev/null; \
	        tcp="$$DURABLE_PG_HOSTADDR_CONNINFO"; \
	        GRPC_TEST_PG_CONNINFO="$$tcp dbname=durable_template" \
	            $(GRPC_TEST_DIR)/run.sh $(TESTS)'

# the metrics page of the example config through promtool, from
# Debian's prometheus package (util/metrics_check.sh)
test-metrics: deps build
	@command -v promtool > /dev/null \
	    || DURABLE_EXTRA_DEPS=prometheus $(MAKE) -s deps
	NGINX=$(NGINX) MODULE_SO=$(MODULE_SO) util/metrics_check.sh

test-nginx: deps build $(CHECK_TOOL) $(T_TOOLS)
	@rm -rf $(BUILD)/t-data t/servroot_* && mkdir -p $(BUILD)/t-data
	TEST_NGINX_BINARY=$(NGINX) \
	TEST_NGINX_LOAD_MODULES=$(MODULE_SO) \
	TEST_NGINX_DATA_DIR=$(BUILD)/t-data \
	TEST_NGINX_RANDOMIZE=1 \
	DURABLE_CHECK=$(CHECK_TOOL) \
	DURABLE_HOLD_WRITE_LOCK=$(BUILD)/t-hold-write-lock \
	    prove -I t/lib -j$(T_JOBS) $(PROVE_FLAGS) t

# the Test::Nginx suite again on PostgreSQL, against a throwaway cluster
# (util/pg.sh): the default database gets the schema for t/500-postgres.t,
# durable_template too, and every store of the .t files becomes a
# database made from it (t/inc/DurableBackend.pm, t/README); what only
# LMDB does, and what PostgreSQL does not serve yet, is skipped there.
# PG_PROVE_FLAGS (default PROVE_FLAGS) and PG_T (default t) pick files.
PG_PROVE_FLAGS ?= $(PROVE_FLAGS)
PG_T           ?= t

test-postgres: deps build $(CHECK_TOOL) $(DURABLE_TOOL) $(T_TOOLS)
	@rm -rf $(BUILD)/pg-t-data && mkdir -p $(BUILD)/pg-t-data
	DURABLE=$(DURABLE_TOOL) \
	TEST_NGINX_BINARY=$(NGINX) \
	TEST_NGINX_LOAD_MODULES=$(MODULE_SO) \
	TEST_NGINX_DATA_DIR=$(BUILD)/pg-t-data \
	TEST_NGINX_RANDOMIZE=1 \
	DURABLE_CHECK=$(CHECK_TOOL) \
	DURABLE_HOLD_WRITE_LOCK=$(BUILD)/t-hold-write-lock \
	DURABLE_TEST_BACKEND=postgres DURABLE_PG_MAX_CONNECTIONS=120 \
	    util/pg.sh run sh -c 'set -e; \
	        "$$DURABLE" schema init --conninfo "$$DURABLE_PG_CONNINFO" \
	            > /dev/null; \
	        createdb durable_template; \
	        "$$DURABLE" schema init --conninfo \
	            "$$DURABLE_PG_CONNINFO dbname=durable_template" > /dev/null; \
	        DURABLE_TEST_PG_CONNINFO="$$DURABLE_PG_HOSTADDR_CONNINFO dbname=durable_template" \
	            util/prove-lanes.sh --alone t/249-waits-hung-store.t \
	                $(T_JOBS) $(BUILD)/pg-lanes \
	                -I t/lib $(PG_PROVE_FLAGS) -- $(PG_T)'

# optional: upstream nginx 1.22.1 with the module built in (--add-module),
# a part of the suite against it; needs root and Debian's source registry
check-upstream: deps
	util/upstream-check.sh

# nginx (build/demo, $(PORT)) and examples/worker: exits 0 when a
# HelloSequence started over HTTP completes
demo: build
	PORT=$(PORT) NGINX=$(NGINX) MODULE_SO=$(MODULE_SO) \
	    examples/worker/demo.sh

# nginx (build/demo-grpc, $(PORT) and $(GRPC_PORT)) and the JavaScript SDK
# application of examples/durabletask-js, its packages (and the Node that
# runs it) pinned in its package-lock.json: exits 0 when the order it
# places over gRPC reads Completed over the HTTP API
DEMO_JS_DIR := $(CURDIR)/examples/durabletask-js

$(DEMO_JS_DIR)/node_modules/.ci: $(DEMO_JS_DIR)/package-lock.json
	@command -v npm > /dev/null || DURABLE_EXTRA_DEPS=npm $(MAKE) -s deps-build
	cd $(DEMO_JS_DIR) && npm ci --no-audit --no-fund
	@touch $@

demo-grpc: build $(DEMO_JS_DIR)/node_modules/.ci
	PORT=$(PORT) GRPC_PORT=$(GRPC_PORT) NGINX=$(NGINX) \
	    MODULE_SO=$(MODULE_SO) DEMO_DIR=$(DEMO_DIR) $(DEMO_JS_DIR)/demo.sh

# make demo-grpc as a test, on ports and in a directory of its own (a
# make demo-grpc running meanwhile keeps its own): the example
# application runs to its end, its worker's filters are checked and
# nginx's log must hold no alert (demo.sh fails on any step)
DEMO_DIR            ?= build/demo-grpc
TEST_DEMO_PORT      ?= 18611
TEST_DEMO_GRPC_PORT ?= 18612

test-demo-grpc:
	$(MAKE) -s demo-grpc PORT=$(TEST_DEMO_PORT) \
	    GRPC_PORT=$(TEST_DEMO_GRPC_PORT) DEMO_DIR=build/test-demo-grpc

# --- fuzzing (libFuzzer; fuzz/README) -------------------------------------

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_QUICK_SECONDS ?= 10
FUZZ_BUILD   := $(BUILD)/fuzz
FUZZ_TARGETS := fuzz_route fuzz_json fuzz_time fuzz_token fuzz_store_ops \
                fuzz_grpc
FUZZ_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all \
                -Wall -Wextra -Werror -std=c99 -D_POSIX_C_SOURCE=200809L
FUZZ_LIB     := $(FUZZ_BUILD)/store/libdurable_store.a
FUZZ_LIBS    := $(FUZZ_LIB) -llmdb -ljansson
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)

fuzz-build: deps $(FUZZ_BINS)

# the store with coverage and sanitizers, in its own build directory
$(FUZZ_LIB): $(wildcard store/*.c store/*.h)
	$(MAKE) -s -C store BUILD=$(FUZZ_BUILD)/store CC=$(FUZZ_CC) \
	    CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined" \
	    $(FUZZ_LIB)

$(FUZZ_BUILD)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB)
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -I store -o $@ $< $(FUZZ_LIBS)

# the gRPC codec the same way (C11: protoc-c's oneofs are anonymous unions)
FUZZ_GRPC_LIB    := $(FUZZ_BUILD)/grpc/libdurable_grpc.a
FUZZ_GRPC_CFLAGS := $(filter-out -std=c99,$(FUZZ_CFLAGS)) -std=c11

$(FUZZ_GRPC_LIB): $(wildcard grpc/*.c grpc/*.h grpc/*.proto)
	$(MAKE) -s -C grpc BUILD=$(FUZZ_BUILD)/grpc CC=$(FUZZ_CC) \
	    CFLAGS="$(FUZZ_GRPC_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined" \
	    $(FUZZ_GRPC_LIB)

$(FUZZ_BUILD)/fuzz_grpc: fuzz/fuzz_grpc.c $(FUZZ_GRPC_LIB) $(FUZZ_LIB)
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_GRPC_CFLAGS) -fsanitize=fuzzer,address,undefined \
	    -I store -I grpc -I $(FUZZ_BUILD)/grpc/gen -o $@ $< \
	    $(FUZZ_GRPC_LIB) $(FUZZ_LIBS) -lprotobuf-c

# each target FUZZ_SECONDS on its seeds (fuzz/corpus/<target>) plus what
# earlier runs found (build/fuzz/corpus/<target>); any crash fails
fuzz: fuzz-build
	fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# the quick pass of `make test`: the seeds, then FUZZ_QUICK_SECONDS each
fuzz-quick: fuzz-build
	fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_QUICK_SECONDS) $(FUZZ_TARGETS)

# --- AddressSanitizer + UndefinedBehaviorSanitizer --------------------------
#
# Unit tests of the store (the router and JSON spans included), then the
# module built with the sanitizers in build/asan/nginx and the whole
# Test::Nginx suite against Debian's nginx with the ASan runtime preloaded
# into nginx alone (TEST_NGINX_LD_PRELOAD, t/README). Reports go to
# build/asan/logs; any file there fails the target. Leak checking is on
# for the unit tests and off in nginx, whose pools and cycle are freed by
# exit, not free(). The PostgreSQL backend's C tests need a server: they
# are built with ASAN_FLAGS and run by test-pg-schema (above).

ASAN_CC      ?= gcc
ASAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer
ASAN_BUILD   := $(BUILD)/asan
ASAN_NGX     := $(ASAN_BUILD)/nginx
ASAN_SO      := $(ASAN_NGX)/objs/ngx_http_durable_module.so
ASAN_LOGS    := $(ASAN_BUILD)/logs
ASAN_RUNTIME  = $(shell $(ASAN_CC) -print-file-name=libasan.so)
ASAN_ENV      = ASAN_OPTIONS=log_path=$(ASAN_LOGS)/asan:detect_leaks=0:abort_on_error=0:detect_stack_use_after_return=0 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(ASAN_LOGS)/ubsan

test-asan: test-asan-unit test-asan-nginx test-asan-grpc

test-asan-unit: deps
	$(MAKE) -s -C store test BUILD=$(ASAN_BUILD)/store CC=$(ASAN_CC) \
	    CFLAGS="-O1 -g $(ASAN_FLAGS) -Wall -Wextra -Werror -pedantic" \
	    LDFLAGS="$(ASAN_FLAGS)"
	$(MAKE) -s -C grpc test BUILD=$(ASAN_BUILD)/grpc CC=$(ASAN_CC) \
	    CFLAGS="-O1 -g $(ASAN_FLAGS) -Wall -Wextra -Werror -pedantic" \
	    LDFLAGS="$(ASAN_FLAGS)"

$(ASAN_BUILD)/sources.txt: $(BUILD)/sources.txt
	@mkdir -p $(ASAN_BUILD)
	@cmp -s $< $@ || cp $< $@

$(ASAN_NGX)/objs/Makefile: $(ASAN_BUILD)/sources.txt config \
                           grpc/durable_task.proto
	rm -rf $(ASAN_NGX)
	cp -r $(NGX_SRC) $(ASAN_NGX)
	cd $(ASAN_NGX) && . ./conf_flags && DURABLE_TEST_FAULTS_BUILD=1 \
	    ./configure "$${NGX_CONF_FLAGS[@]}" --with-cc=$(ASAN_CC) \
	        --with-cc-opt="-O1 -g $(ASAN_FLAGS)" \
	        --with-ld-opt="$(ASAN_FLAGS)" \
	        --add-dynamic-module=$(CURDIR) > $(ASAN_BUILD)/configure.log 2>&1 \
	    || { tail -20 $(ASAN_BUILD)/configure.log; exit 1; }

$(ASAN_SO): $(ASAN_NGX)/objs/Makefile $(MODULE_SRCS)
	$(MAKE) -s -C $(ASAN_NGX) -f objs/Makefile modules

# gcc's UBSan runs as a plug-in of ASan and writes to stderr, which nginx
# sends to its error log: the runner collects every block's part of it
# (TEST_NGINX_ERROR_LOG) and the reports are looked for there too.
ASAN_REPORT  := 'runtime error:|ERROR: (Address|Leak)Sanitizer|SUMMARY: [A-Za-z]+Sanitizer'

test-asan-nginx: deps $(ASAN_SO) $(CHECK_TOOL) $(T_TOOLS)
	@rm -rf $(ASAN_LOGS) $(ASAN_BUILD)/t-data $(ASAN_BUILD)/lane-*
	@mkdir -p $(ASAN_LOGS) $(ASAN_BUILD)/t-data
	$(ASAN_ENV) \
	TEST_NGINX_ERROR_LOG=$(ASAN_BUILD)/error.log \
	DURABLE_CHECK=$(CHECK_TOOL) \
	DURABLE_HOLD_WRITE_LOCK=$(BUILD)/t-hold-write-lock \
	TEST_NGINX_LD_PRELOAD=$(ASAN_RUNTIME) \
	TEST_NGINX_BINARY=$(NGINX) \
	TEST_NGINX_LOAD_MODULES=$(ASAN_SO) \
	TEST_NGINX_DATA_DIR=$(ASAN_BUILD)/t-data \
	TEST_NGINX_TIMEOUT=10 TEST_NGINX_RANDOMIZE=1 \
	    timeout 1200 util/prove-lanes.sh $(T_JOBS) $(ASAN_BUILD) \
	        -I t/lib $(PROVE_FLAGS) -- t
	@if [ -n "$$(ls -A $(ASAN_LOGS))" ]; then \
	    echo "sanitizer reports in $(ASAN_LOGS):"; \
	    head -c 20000 $(ASAN_LOGS)/*; exit 1; \
	fi
	@if grep -E -A30 $(ASAN_REPORT) $(ASAN_BUILD)/lane-*/error.log; then \
	    echo "sanitizer reports in $(ASAN_BUILD)/lane-*/error.log"; \
	    exit 1; \
	fi
	@echo "test-asan: no sanitizer reports"

# the gRPC suite (t/grpc) against the same build: t/grpc/lib/nginx.js
# preloads the runtime into nginx alone (GRPC_TEST_LD_PRELOAD); nginx's
# worker user writes the reports, hence the directory's mode
ASAN_GRPC_LOGS := $(ASAN_BUILD)/grpc-logs

test-asan-grpc: deps $(ASAN_SO) $(GRPC_TEST_DIR)/node_modules/.ci
	@rm -rf $(ASAN_GRPC_LOGS) && mkdir -p $(ASAN_GRPC_LOGS) \
	    && chmod 1777 $(ASAN_GRPC_LOGS)
	ASAN_OPTIONS=log_path=$(ASAN_GRPC_LOGS)/asan:detect_leaks=0:abort_on_error=0:detect_stack_use_after_return=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(ASAN_GRPC_LOGS)/ubsan \
	GRPC_TEST_LD_PRELOAD=$(ASAN_RUNTIME) NGINX=$(NGINX) MODULE_SO=$(ASAN_SO) \
	    $(GRPC_TEST_DIR)/run.sh $(TESTS)
	@if [ -n "$$(ls -A $(ASAN_GRPC_LOGS))" ]; then \
	    echo "sanitizer reports in $(ASAN_GRPC_LOGS):"; \
	    head -c 20000 $(ASAN_GRPC_LOGS)/*; exit 1; \
	fi
	@echo "test-asan-grpc: no sanitizer reports"

# --- ThreadSanitizer ------------------------------------------------------
#
# The store and store/tests/t_tsan.c built with clang's ThreadSanitizer in
# build/tsan (make -C store tsan): the store's tasks on real threads of a
# host made as the glue's, the early handover of batches, lock_wait() and
# lock_waiters() across two processes on one store file, a purge among
# the writes, the close after the last answer, writes=loop beside its
# flush task. Any report fails it (the program's exit status). About 13
# seconds, build included. clang's runtime of it is libclang-rt-14-dev's,
# one of make deps' packages already (util/deps.sh).

test-tsan: deps
	$(MAKE) -s -C store tsan TSAN_BUILD=$(BUILD)/tsan

# --- valgrind ---------------------------------------------------------------
#
# The runner's valgrind mode (nginx in the foreground under memcheck; any
# report fails the block) on a representative part of the suite.
# ./valgrind.suppress holds nginx core's own exit-time leaks, nothing else.

# (t/110's long-poll blocks time their answers, which valgrind slows down)
VALGRIND_T   ?= t/001-sanity.t t/002-refusals-stop.t t/120-list.t \
                t/130-purge.t t/150-terminate-suspend-resume.t

test-valgrind: deps build
	@rm -rf $(BUILD)/vg-data && mkdir -p $(BUILD)/vg-data
	TEST_NGINX_USE_VALGRIND=1 TEST_NGINX_RANDOMIZE=1 \
	TEST_NGINX_BINARY=$(NGINX) \
	TEST_NGINX_LOAD_MODULES=$(MODULE_SO) \
	TEST_NGINX_DATA_DIR=$(BUILD)/vg-data \
	TEST_NGINX_SERVROOT=$(BUILD)/vg-servroot \
	    prove -I t/lib $(VALGRIND_T)

# optional: the Node.js durable-functions client (majors 1-3) against the
# module; needs the npm registry, never part of `make test`
check-node: deps build
	util/node-client/run.sh

# fault injection (util/crash_test.py, docs/reliability.md): workers
# SIGKILLed under load (sync=on, sync=off, sync=off writes=loop:
# STRESS_SECONDS/3 each),
# then reloads and a binary upgrade (STRESS_SECONDS); default 60, QUICK=1
# for 10; figures in build/stress/results.json
STRESS_SECONDS ?= 60

stress: deps build $(CHECK_TOOL) $(DURABLE_TOOL)
	python3 util/crash_test.py --nginx $(NGINX) --module $(MODULE_SO) \
	    --check $(CHECK_TOOL) --prefix $(BUILD)/stress \
	    --seconds $(if $(QUICK),10,$(STRESS_SECONDS)) --mode all \
	    --json $(BUILD)/stress/results.json
	$(MAKE) -s failover FAILOVER_SECONDS=$(if $(QUICK),9,$(FAILOVER_SECONDS))

# the PostgreSQL backend's failover under load (util/failover_test.py): a
# primary and two synchronous standbys, two nginx sharing the hub; the
# primary killed, the most advanced standby promoted, followed without a
# reload; ends with "acknowledged N, lost 0, doubled 0"
FAILOVER_SECONDS ?= 24

failover: deps build $(DURABLE_TOOL)
	python3 util/failover_test.py --nginx $(NGINX) --module $(MODULE_SO) \
	    --durable $(DURABLE_TOOL) --prefix $(BUILD)/failover \
	    --seconds $(FAILOVER_SECONDS)

# the scenarios of bench/README.md; writes bench/results.md and its table
# into docs/benchmarks.md
# the durable tool makes the PostgreSQL rows' schema (bench/bench_pg.py),
# t/grpc's npm packages run row 11's SDK worker (bench/sdk-e2e.js)
bench: deps build $(DURABLE_TOOL) $(GRPC_TEST_DIR)/node_modules/.ci
	DURABLE_EXTRA_DEPS="wrk nghttp2-client" $(MAKE) -s deps
	bench/run.sh
	python3 util/bench_docs.py

# --- the Debian package and make install -----------------------------------

# dpkg-buildpackage from a copy of the clone in build/deb, then lintian
# (errors fail); prints the path of the .deb (util/deb-build.sh)
deb:
	@DURABLE_EXTRA_DEPS="debhelper dpkg-dev fakeroot lintian" $(MAKE) -s deps
	util/deb-build.sh

# installs the .deb on this machine's nginx, nginx -t and one request,
# then purges it; as root, skipped otherwise (util/deb_test.sh)
test-deb:
	@if [ "$$(id -u)" != 0 ]; then \
	    echo "test-deb: SKIPPED: installing a package needs root"; \
	else \
	    $(MAKE) -s deb && \
	    util/deb_test.sh $(BUILD)/deb/libnginx-mod-http-durable_*.deb; \
	fi

# for builds outside Debian's packaging. INSTALL_MODULE is the .so to
# install: by default a build for Debian's nginx like `make build`'s but
# without the test faults hook ($(RELEASE_SO)); the
# objs/ngx_http_durable_module.so of an upstream nginx built with
# --add-dynamic-module; empty for --add-module (the module is in nginx)
PREFIX         ?= /usr/local
BINDIR         ?= $(PREFIX)/bin
MODULESDIR     ?= $(PREFIX)/lib/nginx/modules
MANDIR         ?= $(PREFIX)/share/man
DOCDIR         ?= $(PREFIX)/share/doc/ngx_durable
UIDIR          ?= $(PREFIX)/share/ngx_durable/ui
INSTALL_MODULE ?= $(RELEASE_SO)
EXAMPLE_FILES  := README.md durable_worker.py worker.py test_replay.py \
                  test_e2e.py

install: $(DURABLE_TOOL) $(INSTALL_MODULE)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR)/examples/worker \
	    $(DESTDIR)$(UIDIR)
	install -m 0755 $(DURABLE_TOOL) $(DESTDIR)$(BINDIR)/durable
	ln -sf durable $(DESTDIR)$(BINDIR)/durable-check
	install -m 0644 cli/durable.1 $(DESTDIR)$(MANDIR)/man1/
	ln -sf durable.1 $(DESTDIR)$(MANDIR)/man1/durable-check.1
	install -m 0644 README.md LICENSE $(DESTDIR)$(DOCDIR)/
	install -m 0644 docs/* $(DESTDIR)$(DOCDIR)/docs/
	install -m 0644 examples/nginx.conf $(DESTDIR)$(DOCDIR)/examples/
	install -m 0644 $(EXAMPLE_FILES:%=examples/worker/%) \
	    $(DESTDIR)$(DOCDIR)/examples/worker/
	chmod 0755 $(DESTDIR)$(DOCDIR)/examples/worker/worker.py
	install -m 0644 ui/* $(DESTDIR)$(UIDIR)/
ifneq ($(INSTALL_MODULE),)
	install -d $(DESTDIR)$(MODULESDIR)
	install -m 0644 $(INSTALL_MODULE) \
	    $(DESTDIR)$(MODULESDIR)/ngx_http_durable_module.so
endif

# make install into a temporary DESTDIR, the file list compared with the
# expected one, and nothing for make install to build after make (all)
# (util/install_test.sh)
test-install: all
	util/install_test.sh

clean:
	rm -rf $(BUILD) store/build store/build-tsan t/servroot t/servroot_*

FORCE:
