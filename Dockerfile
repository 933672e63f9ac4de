# syntax=docker/dockerfile:1
#
# capture-worker container image.
#
#   docker build -t capture-worker .
#   docker run --rm capture-worker help              # ENTRYPOINT is the capture-worker CLI
#   docker run --rm --env-file worker.env -v "$PWD/keys:/keys:ro" capture-worker run
#
# One image serves every role (both package.json bins are on PATH):
#   worker   (default)    CMD ["run"]
#   init     (one-shot)   CMD ["init"]        create missing topics, register the schemas
#   produce / tail        CMD ["produce"] / ["tail", "--follow"]
#   sandbox               --entrypoint '/usr/bin/tini -- capture-sandbox'  (the API simulator)
#   demo keys             --entrypoint '/usr/bin/tini -- capture-sandbox' keygen PRIVATE PUBLIC
#
# Signals: tini is PID 1 and forwards SIGTERM to node, which runs the worker's graceful
# shutdown (SHUTDOWN_GRACE_MS). Without an init, node as PID 1 would ignore SIGTERM in any
# subcommand that installs no handler of its own (init, produce, tail), and nobody would reap
# zombies.
#
# No HEALTHCHECK here on purpose: the same image runs one-shots and the sandbox, which do not
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
COPY src ./src
RUN npm run build && chmod 0755 dist/cli/main.js dist/sandbox/cli.js

# ---- prod-deps: production dependencies only ------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
    HTTP_PORT=9464
WORKDIR /app

# Everything the process reads is owned by root and not writable by the app user.
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY schemas ./schemas
COPY --from=build /src/dist ./dist
# The package.json bins, as `npm install -g` would link them (both files start with #!/usr/bin/env node).
RUN ln -s /app/dist/cli/main.js /usr/local/bin/capture-worker \
 && ln -s /app/dist/sandbox/cli.js /usr/local/bin/capture-sandbox

# /keys: where docker-compose's `keys` and `sandbox` services write the demo key pairs (a
# named volume mounted there starts out with this directory's owner, so the app user can
# write it). Kubernetes mounts keys read-only from a Secret elsewhere.
RUN mkdir -p /keys && chown 1000:1000 /keys

# The `node` user of the official image, numeric so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000

EXPOSE 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/cli/main.js"]
CMD ["run"]
