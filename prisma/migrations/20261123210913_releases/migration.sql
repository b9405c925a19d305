-- AlterTable
ALTER TABLE "License" ADD COLUMN "maxVersion" TEXT;
ALTER TABLE "License" ADD COLUMN "releasedBefore" DATETIME;

-- CreateTable
CREATE TABLE "Release" (
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
    CONSTRAINT "Release_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ReleaseImage" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "releaseId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "image" TEXT NOT NULL,
    "normalized" TEXT,
    "status" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "warning" TEXT,
    "digest" TEXT,
    "rewritten" TEXT,
    "upstreamRepository" TEXT,
    "occurrences" TEXT NOT NULL DEFAULT '[]',
    "previousStatus" TEXT,
    "previousDigest" TEXT,
    CONSTRAINT "ReleaseImage_releaseId_fkey" FOREIGN KEY ("releaseId") REFERENCES "Release" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_App" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "additionalNamespaces" TEXT NOT NULL DEFAULT '[]',
    "extraPatterns" TEXT NOT NULL DEFAULT '[]',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "App_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_App" ("additionalNamespaces", "createdAt", "id", "name", "slug", "teamId", "updatedAt") SELECT "additionalNamespaces", "createdAt", "id", "name", "slug", "teamId", "updatedAt" FROM "App";
DROP TABLE "App";
ALTER TABLE "new_App" RENAME TO "App";
CREATE UNIQUE INDEX "App_slug_key" ON "App"("slug");
CREATE INDEX "App_teamId_name_idx" ON "App"("teamId", "name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Release_teamId_appId_createdAt_idx" ON "Release"("teamId", "appId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Release_appId_version_key" ON "Release"("appId", "version");

-- CreateIndex
CREATE INDEX "ReleaseImage_appId_upstreamRepository_idx" ON "ReleaseImage"("appId", "upstreamRepository");

-- CreateIndex
CREATE UNIQUE INDEX "ReleaseImage_releaseId_image_key" ON "ReleaseImage"("releaseId", "image");

