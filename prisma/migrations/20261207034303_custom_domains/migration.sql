-- CreateTable
CREATE TABLE "Domain" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "service" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "token" TEXT NOT NULL,
    "defaultFor" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "verifiedAt" DATETIME,
    "failedAt" DATETIME,
    "checkedAt" DATETIME,
    "nextCheckAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "misses" INTEGER NOT NULL DEFAULT 0,
    "message" TEXT NOT NULL DEFAULT '',
    "targetOk" BOOLEAN,
    CONSTRAINT "Domain_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team" ("id") ON DELETE CASCADE ON UPDATE CASCADE
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
    "proxyDomainId" TEXT,
    "registryDomainId" TEXT,
    CONSTRAINT "App_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "App_proxyDomainId_fkey" FOREIGN KEY ("proxyDomainId") REFERENCES "Domain" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "App_registryDomainId_fkey" FOREIGN KEY ("registryDomainId") REFERENCES "Domain" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_App" ("additionalNamespaces", "createdAt", "extraPatterns", "id", "name", "slug", "teamId", "updatedAt") SELECT "additionalNamespaces", "createdAt", "extraPatterns", "id", "name", "slug", "teamId", "updatedAt" FROM "App";
DROP TABLE "App";
ALTER TABLE "new_App" RENAME TO "App";
CREATE UNIQUE INDEX "App_slug_key" ON "App"("slug");
CREATE INDEX "App_teamId_name_idx" ON "App"("teamId", "name");
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
    CONSTRAINT "Release_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Release" ("appId", "archivedAt", "createdAt", "createdById", "createdByLabel", "files", "id", "imageList", "lastProbedAt", "manifests", "notes", "teamId", "version") SELECT "appId", "archivedAt", "createdAt", "createdById", "createdByLabel", "files", "id", "imageList", "lastProbedAt", "manifests", "notes", "teamId", "version" FROM "Release";
DROP TABLE "Release";
ALTER TABLE "new_Release" RENAME TO "Release";
CREATE INDEX "Release_teamId_appId_createdAt_idx" ON "Release"("teamId", "appId", "createdAt");
CREATE UNIQUE INDEX "Release_appId_version_key" ON "Release"("appId", "version");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "Domain_name_key" ON "Domain"("name");

-- CreateIndex
CREATE INDEX "Domain_teamId_service_idx" ON "Domain"("teamId", "service");

-- CreateIndex
CREATE INDEX "Domain_status_nextCheckAt_idx" ON "Domain"("status", "nextCheckAt");

-- CreateIndex
CREATE UNIQUE INDEX "Domain_teamId_defaultFor_key" ON "Domain"("teamId", "defaultFor");

