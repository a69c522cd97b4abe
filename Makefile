# ngx_durable: build, run and test.
#
#   make run     build, then nginx in the foreground on 127.0.0.1:$(PORT)
#   make test    store unit tests and the Test::Nginx suite
#   make demo    nginx + the example worker: one HelloSequence end to end
#   make stress  fault injection: worker SIGKILLs, reloads, a binary upgrade
#                under load; nothing acknowledged may be lost or doubled
#
# Every target first checks the Debian packages it needs (make deps).

SHELL       := /bin/bash
PORT        ?= 8080
NGX_SRC     ?= /usr/share/nginx/src
NGINX       ?= /usr/sbin/nginx
BUILD       := $(CURDIR)/build
NGX_BUILD   := $(BUILD)/nginx
MODULE_SO   := $(NGX_BUILD)/objs/ngx_http_durable_module.so
VAR         := $(CURDIR)/var

MODULE_SRCS := $(wildcard ngx_durable_module/*.c ngx_durable_module/*.h \
                          store/*.c store/*.h)
PROVE_FLAGS ?= -r

UNIT_CC     ?= cc
UNIT_CFLAGS ?= -std=c99 -Wall -Wextra -Werror -pedantic -g -O1

.PHONY: all deps build run demo test test-store test-unit test-worker \
        test-nginx check-node check-tool stress clean

all: build

deps:
	@sh util/deps.sh

build: deps $(MODULE_SO)

# configure once per source list: objs/Makefile names every file
$(BUILD)/sources.txt: FORCE
	@mkdir -p $(BUILD)
	@ls ngx_durable_module/*.c store/*.c config > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

$(NGX_BUILD)/objs/Makefile: $(BUILD)/sources.txt config
	rm -rf $(NGX_BUILD)
	cp -r $(NGX_SRC) $(NGX_BUILD)
	cd $(NGX_BUILD) && . ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" --with-cc-opt="-O2" \
	        --add-dynamic-module=$(CURDIR) > $(BUILD)/configure.log 2>&1 \
	    || { tail -20 $(BUILD)/configure.log; exit 1; }

$(MODULE_SO): $(NGX_BUILD)/objs/Makefile $(MODULE_SRCS)
	$(MAKE) -s -C $(NGX_BUILD) -f objs/Makefile modules

run: build
	@mkdir -p $(VAR)/conf $(VAR)/modules
	@ln -sf $(MODULE_SO) $(VAR)/modules/ngx_http_durable_module.so
	@sed 's/127\.0\.0\.1:8080/127.0.0.1:$(PORT)/' examples/nginx.conf \
	    > $(VAR)/conf/nginx.conf
	@echo "ngx_durable on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	exec $(NGINX) -p $(VAR)/ -c conf/nginx.conf -e stderr \
	    -g 'daemon off;'

test: build test-store test-unit test-worker test-nginx

# the store's consistency checker as a command (util/durable_check.c)
CHECK_TOOL  := $(BUILD)/durable-check
STORE_SRCS  := $(wildcard store/*.c)

check-tool: deps $(CHECK_TOOL)

$(CHECK_TOOL): util/durable_check.c $(STORE_SRCS) $(wildcard store/*.h)
	@mkdir -p $(BUILD)
	$(UNIT_CC) $(UNIT_CFLAGS) -D_POSIX_C_SOURCE=200809L -I store \
	    util/durable_check.c $(STORE_SRCS) -llmdb -ljansson -o $@

test-store: deps
	$(MAKE) -s -C store test

# the pure-C parts of the nginx side (router, query parser)
test-unit: deps
	@mkdir -p $(BUILD)/unit
	$(UNIT_CC) $(UNIT_CFLAGS) -I ngx_durable_module \
	    ngx_durable_module/ngx_http_durable_router.c \
	    ngx_durable_module/tests/t_router.c -o $(BUILD)/unit/t_router
	$(BUILD)/unit/t_router
	$(UNIT_CC) $(UNIT_CFLAGS) -I ngx_durable_module \
	    ngx_durable_module/ngx_http_durable_jspan.c \
	    ngx_durable_module/tests/t_jspan.c -o $(BUILD)/unit/t_jspan
	$(BUILD)/unit/t_jspan

# the example worker's replay engine, against an in-process fake hub
test-worker: deps
	cd examples/worker && python3 -m unittest -q test_replay

test-nginx: build $(CHECK_TOOL)
	@rm -rf $(BUILD)/t-data && mkdir -p $(BUILD)/t-data
	TEST_NGINX_BINARY=$(NGINX) \
	TEST_NGINX_LOAD_MODULES=$(MODULE_SO) \
	TEST_NGINX_DATA_DIR=$(BUILD)/t-data \
	DURABLE_CHECK=$(CHECK_TOOL) \
	    prove -I t/lib $(PROVE_FLAGS) t

# nginx (build/demo, $(PORT)) and examples/worker: exits 0 when a
# HelloSequence started over HTTP completes
demo: build
	PORT=$(PORT) NGINX=$(NGINX) MODULE_SO=$(MODULE_SO) \
	    DEMO_PREFIX=$(BUILD)/demo examples/worker/demo.sh

# optional: the Node.js durable-functions client (majors 1-3) against the
# module; needs the npm registry, never part of `make test`
check-node: build
	util/node-client/run.sh

# fault injection (util/crash_test.py, docs/reliability.md): workers
# SIGKILLed under load (sync=on, then sync=off: STRESS_SECONDS/2 each),
# then reloads and a binary upgrade (STRESS_SECONDS); default 60, QUICK=1
# for 10; figures in build/stress/results.json
STRESS_SECONDS ?= 60

stress: build $(CHECK_TOOL)
	python3 util/crash_test.py --nginx $(NGINX) --module $(MODULE_SO) \
	    --check $(CHECK_TOOL) --prefix $(BUILD)/stress \
	    --seconds $(if $(QUICK),10,$(STRESS_SECONDS)) --mode all \
	    --json $(BUILD)/stress/results.json

clean:
	rm -rf $(BUILD) store/build t/servroot

FORCE:
