# veille — the user's entry points. Every target sets up .venv first if needed.

SEEDS ?= seeds/outlets.toml
DB ?= data/archive.db
OUTLET ?=
SINCE ?=
SCRAPY_ARGS ?=
PORT ?= 8001
HOST ?= 127.0.0.1
Q ?=
LIMIT ?= 10
PAGE ?= 1
DEMO_PORT ?= 8765
DEMO_ECHO_PORT ?= 8766
ALERTS ?= seeds/alerts.toml
DEMO_DB ?= data/demo.db
WARC ?= data/warc
RECHECK ?= due
DEMO_WARC ?= data/demo-warc
PYTEST_ARGS ?=
# The query reaches the shell through the environment, so quotes in it survive.
export Q

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

# The demo outlet is ours and on loopback: no need to be polite to it.
DEMO_SCRAPY_ARGS := -s AUTOTHROTTLE_ENABLED=False -s DOWNLOAD_DELAY=0 \
	-s CONCURRENT_REQUESTS_PER_DOMAIN=8

.PHONY: help install crawl serve search demo demo-server test lint stats reextract import-warc publish \
	optimize

help:
	@echo "make demo                 crawl the bundled demo outlets and browse them in Datasette"
	@echo "make test                 run the test suite"
	@echo "make crawl [OUTLET=slug] [SINCE=YYYY-MM-DD] [SEEDS=..] [DB=..] [SCRAPY_ARGS=..]"
	@echo "make serve [DB=..] [PORT=8001] [HOST=127.0.0.1]"
	@echo "make search Q='...' [DB=..] [LIMIT=10] [PAGE=1]"
	@echo "make publish [DB=..]      stage the archive for datasette package/publish"
	@echo "make stats [DB=..]"
	@echo "make optimize [DB=..]    merge the full-text index (after a back-fill or import)"
	@echo "make worker [SEEDS=..] [OUTLET=slug] [REDIS_URL=..] [IDLE=10]  one distributed crawler"
	@echo "make writer [DB=..] [REDIS_URL=..]  archive what the distributed workers fetch"
	@echo "make alerts [DB=..] [ALERTS=seeds/alerts.toml]  new matches of the saved alerts"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade "pip>=25" \
		> /dev/null 2>&1 || true
	@echo "Installing pinned dependencies into $(VENV) (log: $(VENV)/install.log)"
	@$(PY) -m pip install --disable-pip-version-check -c constraints.txt -e '.[dev]' \
		> $(VENV)/install.log 2>&1 || { tail -30 $(VENV)/install.log; exit 1; }
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

crawl: $(STAMP)
	$(PY) -m crawler --seeds "$(SEEDS)" --db "$(DB)" --outlet "$(OUTLET)" --since "$(SINCE)" \
		--warc "$(WARC)" --recheck "$(RECHECK)" $(SCRAPY_ARGS)

serve: $(STAMP)
	$(PY) -m archive serve --db "$(DB)" --host "$(HOST)" --port "$(PORT)" --warc "$(WARC)"

search: $(STAMP)
	@test -n "$$Q" || { echo 'usage: make search Q="words"' >&2; exit 2; }
	@$(PY) -m archive search --db "$(DB)" --limit "$(LIMIT)" --page "$(PAGE)" -- "$$Q"

stats: $(STAMP)
	@$(PY) -m archive stats --db "$(DB)"

demo-server: $(STAMP)
	$(PY) tests/fixtures/demo_outlet/server.py --port $(DEMO_PORT)

# Serve the demo outlet, crawl it into $(DEMO_DB), then publish it; Ctrl-C stops both.
demo: $(STAMP)
	@mkdir -p data
	@$(PY) tests/fixtures/demo_outlet/server.py --port $(DEMO_PORT) & server=$$!; \
	$(PY) tests/fixtures/demo_outlet/server.py --outlet echo-anatolie --port $(DEMO_ECHO_PORT) & \
	echo=$$!; \
	trap 'kill $$server $$echo 2>/dev/null' EXIT INT TERM; \
	$(PY) -c "import socket,time,sys; \
	[time.sleep(0.1) for _ in range(100) if socket.socket().connect_ex(('127.0.0.1', $(DEMO_PORT)))]"; \
	$(PY) -c "import socket,time,sys; [time.sleep(0.1) for _ in range(100) \
	if socket.socket().connect_ex(('127.0.0.1', $(DEMO_ECHO_PORT)))]"; \
	kill -0 $$server 2>/dev/null || { echo "error: the demo outlet could not start on port \
	$(DEMO_PORT) (in use? try make demo DEMO_PORT=...)" >&2; exit 1; }; \
	kill -0 $$echo 2>/dev/null || { echo "error: the second demo outlet could not start on \
	port $(DEMO_ECHO_PORT) (in use? try make demo DEMO_ECHO_PORT=...)" >&2; exit 1; }; \
	sed -e 's/127.0.0.1:8765/127.0.0.1:$(DEMO_PORT)/' \
		-e 's/127.0.0.1:8766/127.0.0.1:$(DEMO_ECHO_PORT)/' \
		tests/fixtures/demo_outlet/outlets.toml > data/demo-outlets.toml; \
	$(PY) -m crawler --seeds data/demo-outlets.toml --db "$(DEMO_DB)" --warc "$(DEMO_WARC)" \
		$(DEMO_SCRAPY_ARGS) $(SCRAPY_ARGS) -L WARNING || exit $$?; \
	$(PY) -m archive search --db "$(DEMO_DB)" --limit 3 Karabakh; \
	$(PY) -m archive serve --db "$(DEMO_DB)" --host "$(HOST)" --port "$(PORT)" \
		--warc "$(DEMO_WARC)"

# New matches of each saved alert ($(ALERTS)) since the previous run, grouped by alert.
.PHONY: alerts
alerts: $(STAMP)
	@$(PY) -m archive alerts --db "$(DB)" --alerts "$(ALERTS)"

reextract: $(STAMP)
	$(PY) -m archive reextract --db "$(DB)" --warc "$(WARC)" --seeds "$(SEEDS)" \
		--outlet "$(OUTLET)" $(if $(SINCE),--since "$(SINCE)")

import-warc: $(STAMP)
	@test -n "$(FILE)" || { echo 'usage: make import-warc FILE=path/or/dir/or/glob' >&2; exit 2; }
	$(PY) -m archive import-warc --db "$(DB)" --seeds "$(SEEDS)" -- $(FILE)

# Merge the full-text index of $(DB) into one segment: after a large back-fill or import,
# or on a schedule (docs/benchmarks.md, "Search at scale").
optimize: $(STAMP)
	$(PY) -m archive optimize --db "$(DB)"

# Stage $(DB) for `datasette package` / `datasette publish` (data/publish/NAME/) and print
# the commands that deploy it; see docs/publishing.md.
publish: $(STAMP)
	@$(PY) -m archive.serve publish --db "$(DB)"

lint: $(STAMP)
	$(PY) -m ruff check .

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

# Extraction benchmark: trafilatura's defaults against veille's extraction on a folder of
# NAME.html + NAME.json pages; OUT=dir also writes veille's NAME.txt + NAME.json there.
CORPUS ?= ../shared/corpus
OUT ?=
.PHONY: bench-extract
bench-extract: $(STAMP)
	$(PY) bench/bench_extract.py --corpus "$(CORPUS)" $(if $(OUT),--out "$(OUT)")

# Distributed mode (docs/distributed.md): workers on any machine share a Redis request
# queue; one writer drains their pages into $(DB). A worker leaves once the shared queue
# has been empty for IDLE seconds; the writer once the workers are gone and it is drained.
REDIS_URL ?= redis://127.0.0.1:6379/0
IDLE ?= 10
.PHONY: worker writer
worker: $(STAMP)
	$(PY) -m crawler.distributed --seeds "$(SEEDS)" --outlet "$(OUTLET)" --since "$(SINCE)" \
		--redis-url "$(REDIS_URL)" --idle "$(IDLE)" $(SCRAPY_ARGS)

writer: $(STAMP)
	$(PY) -m archive.writer --db "$(DB)" --redis-url "$(REDIS_URL)" --warc "$(WARC)"

# Benchmarks (docs/benchmarks.md), not part of `make test`. `make bench`: crawl throughput
# against bare trafilatura and crawl memory at two sizes, on a generated site served by
# nginx on 127.0.0.1 (installed with apt when missing). `make bench-archive`: builds an
# N-article archive once (cached in data/bench/) and times search through Datasette.
BENCH_PAGES ?= 2000
N ?= 1000000
.PHONY: bench bench-archive
bench: $(STAMP)
	$(PY) bench/bench_crawl.py --pages "$(BENCH_PAGES)"
	$(PY) bench/bench_memory.py

bench-archive: $(STAMP)
	$(PY) bench/bench_archive.py --articles "$(N)"
