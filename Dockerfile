# curfew: one image for the server, the CLI and the cron sidecar.
# tsx is a runtime dependency (bin/curfew.js loads the TypeScript sources
# through it), so there is no compile stage: stage 1 installs production
# dependencies, stage 2 is the small runtime image.

FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# better-sqlite3 and @node-rs/argon2 install prebuilt binaries for glibc x64/arm64.
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
RUN mkdir -p /app/data && chown node:node /app/data
# The unprivileged user that node images ship with.
USER node
VOLUME ["/app/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/curfew.js"]
CMD ["serve"]
