# writersroom-collab: multi-stage build on Node 24 slim, running as a non-root user.
#   docker build -t writersroom-collab .
#   docker run -p 1234:1234 -p 3000:3000 -e DATABASE_URL=... -e AUTH_JWT_SECRET=... writersroom-collab
# Without DATABASE_URL the embedded PGlite database lives in the /data volume.

FROM node:24-slim AS build
WORKDIR /app
COPY . .
# postinstall generates the Prisma client offline (src/db/generate.ts); then drop dev dependencies.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=1234 \
    HTTP_PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
RUN mkdir -p /data && chown node:node /data
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 1234 3000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||3000)+'/api/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]
