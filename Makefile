# ngx_durable: build, run and test.
#
#   make run     build, then nginx in the foreground on 127.0.0.1:$(PORT)
#   make test    store unit tests and the Test::Nginx suite
#   make bench   the benchmark suite (bench/README.md); QUICK=1 for a short run
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

.PHONY: all deps build run test test-store test-unit test-nginx check-node bench clean

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

test: build test-store test-unit test-nginx

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

test-nginx: build
	@rm -rf $(BUILD)/t-data && mkdir -p $(BUILD)/t-data
	TEST_NGINX_BINARY=$(NGINX) \
	TEST_NGINX_LOAD_MODULES=$(MODULE_SO) \
	TEST_NGINX_DATA_DIR=$(BUILD)/t-data \
	    prove -I t/lib $(PROVE_FLAGS) t

# optional: the Node.js durable-functions client (majors 1-3) against the
# module; needs the npm registry, never part of `make test`
check-node: build
	util/node-client/run.sh

# the figures of design.md section 7; writes bench/results.md
bench: build
	bench/run.sh

clean:
	rm -rf $(BUILD) store/build t/servroot

FORCE:
