# The one image of every Sightwire role (ingest, worker, dispatch, serve).
# Build: docker build -t registry.example.com/sightwire/sightwire:0.1.0 .
FROM python:3.11-slim AS build
WORKDIR /src
# Wheels first, so a source change does not rebuild the dependency layer's cache key.
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres,s3,nats,kafka]"

FROM python:3.11-slim
# No compiler or package manager cache in the runtime image; a fixed uid so the
# chart's runAsUser (10001) and file ownership agree.
RUN groupadd --system --gid 10001 sightwire \
 && useradd --system --uid 10001 --gid sightwire --home-dir /home/sightwire --create-home sightwire
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels "sightwire[postgres,s3,nats,kafka]" \
 && rm -rf /wheels
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/sightwire
WORKDIR /home/sightwire
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["sightwire"]
CMD ["--help"]
