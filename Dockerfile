# The runner's job image for AWS Batch on Fargate (`ikou import` / `ikou verify`), built by CodeBuild
# (buildspec.yml). Multi-stage: TypeScript compiled to plain JavaScript (no tsx at run time: it
# costs ~35 MB of the job's RSS), production dependencies only, a non-root user, tini as PID 1 so
# SIGTERM from a Spot reclaim reaches the job. Runs with a read-only root filesystem: it writes
# only under /tmp (a volume in the job definition). The V8 heap cap comes from the job
# definition's NODE_OPTIONS, derived from the task's memory (lib/job-contract.ts jobRuntimeEnv).
# scripts/image.sh builds the same layout here from Debian packages without pulling this base.
ARG NODE_IMAGE=public.ecr.aws/docker/library/node:20-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY lib ./lib
COPY runner ./runner
COPY submit ./submit
COPY infra ./infra
COPY stacks ./stacks
COPY envsvc ./envsvc
COPY scripts/generate-eccube4.ts ./scripts/generate-eccube4.ts
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 10001 ikou && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin ikou
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
ENV NODE_ENV=production TMPDIR=/tmp
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/bin/ikou.js"]
CMD ["import"]
