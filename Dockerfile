# cf-signer container image.
#   docker build -t cf-signer .
#   docker run -p 3000:3000 \
#     -v /path/to/config.yaml:/etc/cf-signer/config.yaml:ro \
#     -v /path/to/keys:/etc/cf-signer/keys:ro \
#     cf-signer
# The configuration is read from CONFIG_FILE and the signing keys (<KEY_ID>.pem) from KEYS_DIR,
# which overrides keys.dir in the file. See README, "Container".

# Build: every dependency, TypeScript compiled to dist/.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies only, the compiled service, run as the unprivileged `node` user.
FROM node:24.22.3-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
ENV CONFIG_FILE=/etc/cf-signer/config.yaml \
    KEYS_DIR=/etc/cf-signer/keys \
    HOST=0.0.0.0 \
    PORT=3000
USER node
EXPOSE 3000
# Ready means a usable active key and a valid configuration; it fails at once on SIGTERM.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 (no npm, no shell), so SIGTERM reaches the service and its graceful shutdown.
CMD ["node", "dist/server.js"]
