# syntax=docker/dockerfile:1
# The ivrhooks image. It serves the app named by CMD (examples/quickstart.py by default) on
# IVRHOOKS_HOST:IVRHOOKS_PORT (0.0.0.0:8080) and registers it on the PBX of IVRHOOKS_PBX_URL.
# It never starts the embedded fake PBX unless asked: without a PBX URL it stops at once saying
# so. A demo with the fake PBX: `docker run -e IVRHOOKS_EMBEDDED_PBX=true -p 8080:8080 ivrhooks`.
# Run another app: `docker run -v $PWD/app.py:/app/app.py -e IVRHOOKS_PBX_URL=... ivrhooks app.py`.
# Configuration is by environment only (`docker run -e IVRHOOKS_...` or an env file):
# nothing secret is built into the image, and none of its layers holds a credential.

# ---- builder: the source tree becomes wheels, ivrhooks and every dependency --------------
FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# pyproject.toml names README.md as the package readme: the build needs both.
COPY pyproject.toml README.md ./
COPY ivrhooks/ ivrhooks/
RUN pip wheel --wheel-dir /wheels .

# ---- runtime: only the installed wheels and the examples, running as a non-root user ----
FROM python:3.11-slim AS runtime
LABEL org.opencontainers.image.title="ivrhooks" \
      org.opencontainers.image.description="Answer PortSIP PBX virtual receptionist action URLs with Python." \
      org.opencontainers.image.licenses="MIT"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    IVRHOOKS_HOST=0.0.0.0 \
    IVRHOOKS_PORT=8080 \
    IVRHOOKS_EMBEDDED_PBX=false
# A fixed uid/gid so volume permissions and Kubernetes runAsUser can name it.
RUN groupadd --system --gid 10001 ivrhooks \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home \
            --shell /usr/sbin/nologin ivrhooks
# Install from the builder's wheels through a bind mount: no compiler, no index, and no
# copy of the wheels left in a layer.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels ivrhooks
WORKDIR /app
# Owned by root and read-only to the app user: the running app cannot rewrite its code.
COPY examples/ examples/
USER 10001:10001
EXPOSE 8080
# slim images have no curl: ask Python, on the port the app serves (IVRHOOKS_PORT, which
# `ivrhooks run` reads too). urlopen raises on a refused connection or a non-2xx answer, which
# exits 1 (unhealthy).
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('IVRHOOKS_PORT', '8080'), timeout=2)"]
# Exec form: ivrhooks is PID 1 and receives SIGTERM directly, so uvicorn shuts down gracefully.
ENTRYPOINT ["ivrhooks", "run"]
CMD ["examples/quickstart.py"]
