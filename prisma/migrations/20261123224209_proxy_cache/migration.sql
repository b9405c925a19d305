-- CreateTable
CREATE TABLE "CacheLink" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "registryId" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "mediaType" TEXT,
    "size" BIGINT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "CacheLink_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "CacheLink_registryId_fkey" FOREIGN KEY ("registryId") REFERENCES "Registry" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "CacheTag" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "registryId" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "tag" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "mediaType" TEXT NOT NULL,
    "seenAt" DATETIME NOT NULL,
    CONSTRAINT "CacheTag_registryId_fkey" FOREIGN KEY ("registryId") REFERENCES "Registry" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "CacheUsage" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "hour" DATETIME NOT NULL,
    "hits" INTEGER NOT NULL DEFAULT 0,
    "misses" INTEGER NOT NULL DEFAULT 0,
    "bytesFromCache" BIGINT NOT NULL DEFAULT 0,
    "bytesFromUpstream" BIGINT NOT NULL DEFAULT 0,
    "staleServes" INTEGER NOT NULL DEFAULT 0,
    "evictions" INTEGER NOT NULL DEFAULT 0,
    "evictedBytes" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "CacheUsage_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "CacheLink_teamId_idx" ON "CacheLink"("teamId");

-- CreateIndex
CREATE INDEX "CacheLink_digest_idx" ON "CacheLink"("digest");

-- CreateIndex
CREATE UNIQUE INDEX "CacheLink_appId_registryId_repository_digest_key" ON "CacheLink"("appId", "registryId", "repository", "digest");

-- CreateIndex
CREATE UNIQUE INDEX "CacheTag_registryId_repository_tag_key" ON "CacheTag"("registryId", "repository", "tag");

-- CreateIndex
CREATE INDEX "CacheUsage_teamId_hour_idx" ON "CacheUsage"("teamId", "hour");

-- CreateIndex
CREATE UNIQUE INDEX "CacheUsage_appId_hour_key" ON "CacheUsage"("appId", "hour");

