-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_CacheUsage" (
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
    "digestMismatches" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "CacheUsage_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_CacheUsage" ("appId", "bytesFromCache", "bytesFromUpstream", "evictedBytes", "evictions", "hits", "hour", "id", "misses", "staleServes", "teamId") SELECT "appId", "bytesFromCache", "bytesFromUpstream", "evictedBytes", "evictions", "hits", "hour", "id", "misses", "staleServes", "teamId" FROM "CacheUsage";
DROP TABLE "CacheUsage";
ALTER TABLE "new_CacheUsage" RENAME TO "CacheUsage";
CREATE INDEX "CacheUsage_teamId_hour_idx" ON "CacheUsage"("teamId", "hour");
CREATE UNIQUE INDEX "CacheUsage_appId_hour_key" ON "CacheUsage"("appId", "hour");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

