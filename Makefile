# prodcast: `make run` to start everything on this machine, `make test` to
# check it all against real Redis, MinIO and ffmpeg.
GO      ?= go
# The Go release go.mod names (its toolchain line): the go command fetches
# it from the module proxy, also where GOTOOLCHAIN=local is the default.
export GOTOOLCHAIN ?= go1.27.3
BIN     := bin/prodcast
DATA    ?= ./prodcast-data
LISTEN  ?= 127.0.0.1:8080

.PHONY: run build test chaos bench deps clean

run: deps build
	./$(BIN) up --data $(DATA) --listen $(LISTEN)

build:
	$(GO) build -o $(BIN) ./cmd/prodcast

deps:
	@scripts/deps.sh

test:
	scripts/test.sh

# The fault tests in their long form: more bundles, more kills, MinIO down
# for 60 s and for 5 minutes, serving through a two-minute outage, a Redis
# master killed with Sentinels watching (about 12 minutes in all).
chaos:
	PRODCAST_CHAOS=long scripts/test.sh -v -run 'TestFault|TestBadInput' ./e2e

bench:
	scripts/bench.sh

clean:
	rm -rf bin
