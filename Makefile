# CivicGrid — `make demo` runs the demo city on SQLite; `make test` runs every test (SQLite, then PostgreSQL).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1:8000
DEMO_DB ?= var/demo.sqlite3
export CIVICGRID_DATA_DIR ?= $(CURDIR)/var

.PHONY: setup documents-os charts browser demo serve test test-sqlite test-postgres lint bench messages clean

$(BIN)/civicgrid: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "CivicGrid needs Python 3.11 or newer (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

setup: $(BIN)/civicgrid documents-os charts

# Apache ECharts for the charts, pinned in package-lock.json and served by Django from node_modules/
# (no CDN). Without npm the pages show their tables only.
charts: node_modules/echarts/dist/echarts.min.js

node_modules/echarts/dist/echarts.min.js: package-lock.json
	@if command -v npm >/dev/null; then npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "note: npm is missing: the charts are not installed (apt-get install npm; then make charts)"; fi

# Case documents: WeasyPrint lays the PDFs out with Pango (and HarfBuzz's subsetter), in a CJK font;
# install them when missing and we may (root with apt-get). Without them, generating a document fails.
documents-os:
	@if ! ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || ! ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so.0' \
		|| [ ! -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Pango and a CJK font for the case documents' PDFs (apt-get)"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 \
				libharfbuzz-subset0 fonts-wqy-zenhei >/dev/null) || echo "could not install Pango: PDF documents will fail"; \
		else echo "note: Pango or the CJK font is missing (apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-zenhei)"; fi; \
	fi

# The demo runs in the development environment (production is the default: docs/deployment.md). Its
# settings go to var/demo.env, which `civicgrid` reads when present: the README's commands, typed in
# another terminal, act on the demo city.
demo: setup
	@mkdir -p var
	@printf '%s\n' '# written by `make demo`: civicgrid reads this file when it exists (variables set in the environment win)' \
		'CIVICGRID_ENV=development' 'CIVICGRID_DATA_DIR=$(CURDIR)/var' 'DATABASE_URL=sqlite:///$(CURDIR)/$(DEMO_DB)' \
		'CIVICGRID_DEMO=true' 'CIVICGRID_DEBUG=false' > var/demo.env
	$(BIN)/civicgrid migrate --noinput
	$(BIN)/civicgrid demo load
	@# DEBUG off: the demo shows the pages a city's users see (the Chinese 404, not Django's debug page);
	@# --insecure lets the development server serve the static files all the same
	$(BIN)/civicgrid runserver --insecure $(HOST)

test: setup browser lint test-sqlite test-postgres

# Page tests drive Debian's Chromium (with a CJK font for readable screenshots); install them when
# missing and we may (root with apt-get).
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Chromium for the page tests (apt-get)"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null) \
				|| echo "could not install Chromium: the page tests will say so"; \
		else echo "note: /usr/bin/chromium is missing and cannot be installed here: page tests skip (fail under CI=true)"; fi; \
	fi

# mypy checks every app (every package under src/civicgrid/) except the ones written before it ran,
# listed here to be typed and taken off: so the engine, the apps split out of it (workcal, notify) and
# every app added since are checked from their first line.
MYPY_NOT_YET := core audit privacy geo org taxonomy dispatch events api open311 web demo ops
MYPY_APPS = $(filter-out $(MYPY_NOT_YET),$(notdir $(patsubst %/__init__.py,%,$(wildcard src/civicgrid/*/__init__.py))))
MYPY_PACKAGES = $(foreach app,$(MYPY_APPS),-p civicgrid.$(app))

# ruff, then the house plan's import contracts ([tool.importlinter] in pyproject.toml), then mypy
lint: setup
	$(BIN)/ruff check .
	PYTHONPATH=$(CURDIR)/src $(BIN)/lint-imports
	CIVICGRID_ENV=test DATABASE_URL= PYTHONPATH=$(CURDIR)/src $(BIN)/mypy $(MYPY_PACKAGES)

test-sqlite: setup
	CIVICGRID_ENV=test DATABASE_URL= $(BIN)/python -m pytest -q

test-postgres: setup
	@url=$$($(BIN)/python scripts/postgres_url.py) || exit 1; \
	if [ -n "$$url" ]; then \
		echo "== PostgreSQL: $$url"; \
		CIVICGRID_ENV=test DATABASE_URL=$$url $(BIN)/python -m pytest -q; \
	fi

# The lookup benchmark compares with PostGIS: install it into the local PostgreSQL when we may.
bench: setup
	@if [ ! -e /usr/share/postgresql/15/extension/postgis.control ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing PostGIS for the lookup benchmark (apt-get)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15-postgis-3 >/dev/null) \
			|| echo "could not install PostGIS: the benchmark will say so"; \
	fi
	$(BIN)/python -m bench

messages: setup
	cd src/civicgrid && export CIVICGRID_ENV=development && ../../$(BIN)/civicgrid makemessages -l zh_Hans --no-obsolete && ../../$(BIN)/civicgrid compilemessages

clean:
	rm -rf $(VENV) var build *.egg-info
