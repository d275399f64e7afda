# syntax=docker/dockerfile:1
# The records service image. Build: docker build -t records:0.1.0 .
# Without Docker: make image OUT=records.tar (buildah, this file unchanged); make check runs the
# result on the test cluster's node.
# The current Node LTS; scripts/install-node pins the same version for make test and make run.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 compiles its native addon here; the toolchain stays in this stage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY service/tsconfig.build.json service/
COPY service/src service/src
COPY service/openapi.yaml service/
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# No package managers in the runtime image.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/service/dist service/dist
COPY --from=build /app/service/openapi.yaml service/
# Writes go to /tmp only (an emptyDir under a read-only root filesystem); the embedded SQLite
# default lives there, production sets DATABASE_URL to MySQL.
# A bounded old space makes V8 collect garbage before RSS grows: a 1M-record NDJSON load stays
# under 200 MB (tests/service/ndjson.test.ts runs with this same value). Node 24's larger default
# young generation took the same load to 280 MiB; 8 MiB semi-spaces bring it back to about 160.
# The chart overrides it (config.nodeOptions).
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8" \
    PORT=8000 \
    DATABASE_URL=/tmp/records.sqlite
USER 10001:10001
EXPOSE 8000
# No allocation-site pretenuring: a process that has read loads on its event loop (NDJSON streams
# then; documents and streams declared under 32 KiB still are) would otherwise allocate its later
# requests' short-lived objects in the old space, and serve cached reads
# at twice the CPU (docs/performance.md, "Run S"). A V8 flag NODE_OPTIONS does not accept.
ENTRYPOINT ["node", "--no-allocation-site-pretenuring", "--import", "./service/dist/api/tracing.js", "service/dist/main.js"]
CMD ["serve"]
