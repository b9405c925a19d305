-- CreateTable
CREATE TABLE "RegistryCredentialState" (
    "registryId" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "lastMintAt" DATETIME,
    "expiresAt" DATETIME,
    "lastErrorAt" DATETIME,
    "lastError" TEXT,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "RegistryCredentialState_registryId_fkey" FOREIGN KEY ("registryId") REFERENCES "Registry" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Registry" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "apiHost" TEXT NOT NULL,
    "imageHost" TEXT NOT NULL,
    "pathName" TEXT NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'basic',
    "username" TEXT NOT NULL,
    "cloudConfig" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "lastTestedAt" DATETIME,
    "lastTestOutcome" TEXT,
    "lastTestMessage" TEXT,
    CONSTRAINT "Registry_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Registry" ("apiHost", "createdAt", "endpoint", "id", "imageHost", "lastTestMessage", "lastTestOutcome", "lastTestedAt", "name", "pathName", "teamId", "updatedAt", "username") SELECT "apiHost", "createdAt", "endpoint", "id", "imageHost", "lastTestMessage", "lastTestOutcome", "lastTestedAt", "name", "pathName", "teamId", "updatedAt", "username" FROM "Registry";
DROP TABLE "Registry";
ALTER TABLE "new_Registry" RENAME TO "Registry";
CREATE INDEX "Registry_teamId_name_idx" ON "Registry"("teamId", "name");
CREATE UNIQUE INDEX "Registry_teamId_pathName_key" ON "Registry"("teamId", "pathName");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "RegistryCredentialState_teamId_idx" ON "RegistryCredentialState"("teamId");

