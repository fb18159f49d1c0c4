# curfew: one image for the server, the CLI and the cron sidecar.
# tsx is a runtime dependency (bin/curfew.js loads the TypeScript sources
# through it), so there is no compile stage: stage 1 installs production
# dependencies, stage 2 is the small runtime image.
#
# Node 24 (LTS, supported until April 2028): Node 20 reached end of life in
# April 2026. package.json still accepts Node >= 20 for existing hosts.

FROM node:24-slim AS deps
WORKDIR /app
# better-sqlite3 downloads a prebuilt binary for glibc x64/arm64; when none
# downloads (no network to GitHub, another architecture) it compiles from
# source, which needs a compiler, make and python, and node's own headers
# (npm_config_nodedir: the image ships them, so node-gyp downloads nothing).
# They stay in this stage only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:24-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
RUN mkdir -p /app/data && chown 1000:1000 /app/data
# The node image's unprivileged `node` user, by number: Kubernetes'
# runAsNonRoot can only verify a numeric USER (the exports set runAsUser: 1000).
USER 1000:1000
VOLUME ["/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/curfew.js"]
CMD ["serve"]
