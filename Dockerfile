# syntax=docker/dockerfile:1
#
# capture-worker container image.
#
#   docker build -t capture-worker .
#   docker run --rm capture-worker help              # ENTRYPOINT is the capture-worker CLI
#   docker run --rm --env-file worker.env -v "$PWD/keys:/keys:ro" capture-worker run
#
# Two images. The default target, `runtime`, is the worker and its CLIs only (src/ compiled,
# production dependencies); the `sandbox` target is the capture API simulator (tools/sandbox),
# which needs no npm package at all and is never shipped in the worker image:
#   worker   (default)    CMD ["run"]
#   init     (one-shot)   CMD ["init"]        create missing topics, register the schemas
#   produce / tail        CMD ["produce"] / ["tail", "--follow"]
#   docker build --target sandbox -t capture-sandbox .
#   sandbox               docker run capture-sandbox            (the API simulator)
#   demo keys             docker run capture-sandbox keygen PRIVATE PUBLIC
#
# Signals: tini is PID 1 and forwards SIGTERM to node, which runs the worker's graceful
# shutdown (SHUTDOWN_GRACE_MS). Without an init, node as PID 1 would ignore SIGTERM in any
# subcommand that installs no handler of its own (init, produce, tail), and nobody would reap
# zombies.
#
# No HEALTHCHECK here on purpose: the worker image also runs one-shots (init, produce, tail) that do not
# serve :9464. docker-compose.yml and the Helm chart define a check per role
# (GET /healthz and /readyz on HTTP_PORT for the worker).
#
# Checked in CI without a Docker engine by .ci/checks/dockerfile.sh (hadolint, and the runtime
# stage's file layout assembled and run on the host).

ARG NODE_IMAGE=node:22-bookworm-slim

# ---- build: all dependencies, compile TypeScript to dist/ ------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: tsc needs no native install step (swc/esbuild are test-only tools).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY schemas ./schemas
COPY tsconfig.sandbox.json ./
COPY src ./src
COPY tools/sandbox ./tools/sandbox
RUN npm run build && npm run build:sandbox \
 && chmod 0755 dist/cli/main.js dist-sandbox/tools/sandbox/cli.js

# ---- prod-deps: production dependencies only ------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- base: node with an init that forwards signals -------------------------------------
FROM ${NODE_IMAGE} AS base
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
# /keys: where docker-compose's `keys` and `sandbox` services write the demo key pairs (a
# named volume mounted there starts out with this directory's owner, so the app user can
# write it). Kubernetes mounts keys read-only from a Secret elsewhere.
RUN mkdir -p /keys && chown 1000:1000 /keys

# ---- sandbox: the capture API simulator (development and tests; moves no money) --------
FROM base AS sandbox
COPY --from=build /src/dist-sandbox ./dist-sandbox
RUN ln -s /app/dist-sandbox/tools/sandbox/cli.js /usr/local/bin/capture-sandbox
USER 1000:1000
EXPOSE 8090
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist-sandbox/tools/sandbox/cli.js"]

# ---- runtime (the default target): the worker and its CLIs -----------------------------
FROM base AS runtime
ENV HTTP_PORT=9464

# Everything the process reads is owned by root and not writable by the app user.
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY schemas ./schemas
COPY --from=build /src/dist ./dist
# The package.json bin, as `npm install -g` would link it (the file starts with #!/usr/bin/env node).
RUN ln -s /app/dist/cli/main.js /usr/local/bin/capture-worker

# The `node` user of the official image, numeric so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000

EXPOSE 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]
CMD ["run"]
