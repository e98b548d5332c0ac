# writersroom-collab: multi-stage build on Node 24 slim, running the compiled server as a non-root user.
#   docker build -t writersroom-collab .
#   docker run -p 1234:1234 -p 3000:3000 -e DATABASE_URL=... -e AUTH_JWT_SECRET=... writersroom-collab
# Without DATABASE_URL the embedded PGlite database lives in the /data volume.
# test/production/dockerLayout.test.ts runs this file's RUN, COPY and CMD lines without Docker:
# keep to plain RUN commands, `COPY --from=build` of paths, and a JSON CMD.

# Pinned: the same Node for every build of the same commit (24.x is the LTS line CI runs).
FROM node:24.22.3-slim AS build
WORKDIR /app
COPY . .
# npm ci's postinstall generates the Prisma client offline (src/db/generate.ts) and builds the
# editor page (dist/web); build:server compiles the server to dist/ (tsconfig.build.json); then
# the dev dependencies go (TypeScript, vitest, ...).
RUN npm ci --no-audit --no-fund
RUN npm run build:server
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:24.22.3-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=1234 \
    HTTP_PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
RUN mkdir -p /data && chown node:node /data
# package.json: the engines range the start-up check reads, and `"type": "module"`. prisma/: the
# migrations applied at start. dist/: the compiled server (dist/src, dist/jobs, dist/extensions)
# and the editor page (dist/web). No TypeScript sources, no tsx at run time.
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json /app/
COPY --from=build --chown=node:node /app/node_modules /app/node_modules
COPY --from=build --chown=node:node /app/prisma /app/prisma
COPY --from=build --chown=node:node /app/dist /app/dist
USER node
EXPOSE 1234 3000
VOLUME ["/data"]
# Readiness, not liveness: the database answers and migrations are applied, so an orchestrator
# routes editors only to an instance that can store their updates.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||3000)+'/api/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The server is PID 1 itself (no npm, no shell), so `docker stop`'s SIGTERM reaches it and it
# shuts down gracefully (every queued update committed).
CMD ["node", "dist/src/main.js"]
