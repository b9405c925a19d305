-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Release" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "notes" TEXT NOT NULL DEFAULT '',
    "manifests" TEXT NOT NULL DEFAULT '[]',
    "imageList" TEXT NOT NULL DEFAULT '[]',
    "files" TEXT NOT NULL DEFAULT '[]',
    "createdById" TEXT,
    "createdByLabel" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "archivedAt" DATETIME,
    "lastProbedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "proxyHost" TEXT NOT NULL DEFAULT '',
    "registryHost" TEXT,
    "platforms" TEXT NOT NULL DEFAULT '[]',
    "airgapPublic" BOOLEAN NOT NULL DEFAULT true,
    CONSTRAINT "Release_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Release" ("appId", "archivedAt", "createdAt", "createdById", "createdByLabel", "files", "id", "imageList", "lastProbedAt", "manifests", "notes", "proxyHost", "registryHost", "teamId", "version") SELECT "appId", "archivedAt", "createdAt", "createdById", "createdByLabel", "files", "id", "imageList", "lastProbedAt", "manifests", "notes", "proxyHost", "registryHost", "teamId", "version" FROM "Release";
DROP TABLE "Release";
ALTER TABLE "new_Release" RENAME TO "Release";
CREATE INDEX "Release_teamId_appId_createdAt_idx" ON "Release"("teamId", "appId", "createdAt");
CREATE UNIQUE INDEX "Release_appId_version_key" ON "Release"("appId", "version");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

