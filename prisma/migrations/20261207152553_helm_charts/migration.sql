-- AlterTable
ALTER TABLE "RegistryManifest" ADD COLUMN "chart" TEXT;

-- CreateTable
CREATE TABLE "ReleaseChart" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "releaseId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "tag" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "upstreamRepository" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "appVersion" TEXT,
    "description" TEXT,
    CONSTRAINT "ReleaseChart_releaseId_fkey" FOREIGN KEY ("releaseId") REFERENCES "Release" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ReleaseChart_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "ChartVariant" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "licenseId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "chartDigest" TEXT NOT NULL,
    "tag" TEXT,
    "manifestDigest" TEXT NOT NULL,
    "layerDigest" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ChartVariant_licenseId_fkey" FOREIGN KEY ("licenseId") REFERENCES "License" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "ChartVariant_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE
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
    "chartPullSecret" BOOLEAN NOT NULL DEFAULT false,
    "installPage" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "proxyDomainId" TEXT,
    "registryDomainId" TEXT,
    CONSTRAINT "App_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "App_proxyDomainId_fkey" FOREIGN KEY ("proxyDomainId") REFERENCES "Domain" ("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "App_registryDomainId_fkey" FOREIGN KEY ("registryDomainId") REFERENCES "Domain" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_App" ("additionalNamespaces", "createdAt", "extraPatterns", "id", "name", "proxyDomainId", "registryDomainId", "slug", "teamId", "updatedAt") SELECT "additionalNamespaces", "createdAt", "extraPatterns", "id", "name", "proxyDomainId", "registryDomainId", "slug", "teamId", "updatedAt" FROM "App";
DROP TABLE "App";
ALTER TABLE "new_App" RENAME TO "App";
CREATE UNIQUE INDEX "App_slug_key" ON "App"("slug");
CREATE INDEX "App_teamId_name_idx" ON "App"("teamId", "name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "ReleaseChart_appId_upstreamRepository_idx" ON "ReleaseChart"("appId", "upstreamRepository");

-- CreateIndex
CREATE UNIQUE INDEX "ReleaseChart_releaseId_reference_key" ON "ReleaseChart"("releaseId", "reference");

-- CreateIndex
CREATE INDEX "ChartVariant_licenseId_layerDigest_idx" ON "ChartVariant"("licenseId", "layerDigest");

-- CreateIndex
CREATE UNIQUE INDEX "ChartVariant_licenseId_manifestDigest_key" ON "ChartVariant"("licenseId", "manifestDigest");

