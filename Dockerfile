FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# npm install builds sqlite3 (approved in package.json allowScripts) and runs
# `prepare`, which compiles TypeScript and bundles the UI.
RUN npm ci && npm prune --omit=dev --ignore-scripts
ENV NODE_ENV=production
EXPOSE 8080 4317 4318
CMD ["node", "dist/cli/main.js", "serve"]
