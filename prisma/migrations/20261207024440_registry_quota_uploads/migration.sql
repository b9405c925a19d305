-- Upload sessions open during the upgrade cannot say their team and principal: they are dropped
-- (clients start a new upload, and distribution purges its side of them after a week).
DELETE FROM "RegistryUpload";

-- CreateTable
CREATE TABLE "RegistryBlob" (
    "teamId" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("teamId", "digest"),
    CONSTRAINT "RegistryBlob_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_RegistryUpload" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "appId" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "principal" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "location" TEXT NOT NULL,
    "offset" BIGINT NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "RegistryUpload_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_RegistryUpload" ("appId", "createdAt", "id", "location", "offset", "repository", "updatedAt") SELECT "appId", "createdAt", "id", "location", "offset", "repository", "updatedAt" FROM "RegistryUpload";
DROP TABLE "RegistryUpload";
ALTER TABLE "new_RegistryUpload" RENAME TO "RegistryUpload";
CREATE INDEX "RegistryUpload_updatedAt_idx" ON "RegistryUpload"("updatedAt");
CREATE INDEX "RegistryUpload_teamId_idx" ON "RegistryUpload"("teamId");
CREATE INDEX "RegistryUpload_principal_idx" ON "RegistryUpload"("principal");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

