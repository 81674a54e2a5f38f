# creditgraph API image (used by docker-compose.yml's `api` service).
#   docker build -t creditgraph . && docker run -p 8000:8000 creditgraph
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CREDITGRAPH_DATA=/data

WORKDIR /app
# Debian's Chromium and a CJK font print credit reports to PDF (api/reports.py, CREDITGRAPH_CHROMIUM).
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-wqy-zenhei \
 && rm -rf /var/lib/apt/lists/*
# Only what the package needs: never the data directory (secret.key, identity vault, jars).
COPY pyproject.toml README.md ./
COPY creditgraph/ creditgraph/
COPY base/ base/
COPY linkage/ linkage/
COPY loaders/ loaders/
COPY graph/ graph/
COPY api/ api/
COPY cypher/ cypher/
RUN pip install . \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin creditgraph \
 && mkdir -p /data \
 && chown creditgraph:creditgraph /data

USER creditgraph
VOLUME ["/data"]
EXPOSE 8000
CMD ["creditgraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
