# juicefs-path-prober: build with dev dependencies, ship dist/ and production
# dependencies only, on the current Node.js LTS. test/deploy/runtime-layer.test.ts
# rebuilds the final stage's /app in a temp dir and runs the CLI from it;
# `npm run image:check` builds this file with podman and runs the image with the
# DaemonSet's settings (docs/image.md).

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npx tsc -p .

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
# An ARG declared before the first FROM is visible only in FROM lines: declared again,
# the label below names the base this image was built on.
ARG NODE_IMAGE
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="juicefs-path-prober" \
      org.opencontainers.image.description="Node-side health prober for JuiceFS CSI volume paths, exported for Prometheus" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
ENV NODE_ENV=production
# A 1 MiB young generation: the daemon allocates little between cycles, and V8's default lets
# it grow to 16 MiB of mostly empty pages, ~10 MiB of resident memory on every node.
# A 256 MiB old generation: V8 lets the heap grow to ~4× what is live before a full collection
# when its limit is the default (a share of the node's memory), 2× at this limit or below; at
# 10,000 paths the daemon's RSS fell from 199 to 119 MiB. Its live heap there is ~26 MB, and the
# DaemonSet's memory limit (512Mi) is reached before this one.
# The bench and the soak run the daemon with this stage's ENV and the ENTRYPOINT's node flags
# (bench/lib/image-runtime.ts reads them here).
ENV NODE_OPTIONS="--max-semi-space-size=1 --max-old-space-size=256"
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY package.json ./
# `kubectl exec <pod> -- juicefs-path-prober check` finds the CLI on PATH.
RUN chmod 0755 dist/src/cli/index.js && ln -s /app/dist/src/cli/index.js /usr/local/bin/juicefs-path-prober
# Root, with every capability dropped by the DaemonSet: measured, kubelet's pod
# directories are root-owned 0750, and Kubernetes gives a non-root process no
# capability (no ambient set) to read them otherwise. See README.
USER 0:0
EXPOSE 9567
# glibc gives threads arenas of their own, up to 8 a core, and the daemon and its probe helper
# run dozens of threads (libuv's pool, V8's workers). Two arenas: 1.6-2 MiB less anonymous
# memory on the realistic node (110 pods × 3 volumes), no CPU that could be measured
# (docs/benchmarks.md, where V8's --optimize-for-size and what else was tried are weighed).
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["node", "/app/dist/src/cli/index.js"]
CMD ["serve"]
