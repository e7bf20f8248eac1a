# One image for every hookq process: `hookq ingress`, `hookq worker`, `hookq dlq ...`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY hookq ./hookq
RUN pip install ".[tracing]" && useradd --system --uid 10001 hookq

USER hookq
ENTRYPOINT ["hookq"]
CMD ["--help"]
