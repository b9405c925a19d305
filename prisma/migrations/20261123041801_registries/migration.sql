-- CreateTable
CREATE TABLE "EncryptedSecret" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "resourceId" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "ciphertext" BLOB NOT NULL,
    "iv" BLOB NOT NULL,
    "authTag" BLOB NOT NULL,
    "wrappedDek" BLOB NOT NULL,
    "kekId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "EncryptedSecret_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Registry" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "endpoint" TEXT NOT NULL,
    "apiHost" TEXT NOT NULL,
    "imageHost" TEXT NOT NULL,
    "pathName" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "lastTestedAt" DATETIME,
    "lastTestOutcome" TEXT,
    "lastTestMessage" TEXT,
    CONSTRAINT "Registry_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "EncryptedSecret_kekId_idx" ON "EncryptedSecret"("kekId");

-- CreateIndex
CREATE UNIQUE INDEX "EncryptedSecret_teamId_resourceId_purpose_key" ON "EncryptedSecret"("teamId", "resourceId", "purpose");

-- CreateIndex
CREATE INDEX "Registry_teamId_name_idx" ON "Registry"("teamId", "name");

-- CreateIndex
CREATE UNIQUE INDEX "Registry_teamId_pathName_key" ON "Registry"("teamId", "pathName");

