-- CreateTable
CREATE TABLE "RegistryManifest" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "mediaType" TEXT NOT NULL,
    "size" INTEGER NOT NULL,
    "totalSize" BIGINT NOT NULL,
    "subject" TEXT,
    "artifactType" TEXT,
    "annotations" TEXT,
    "pushedBy" TEXT NOT NULL,
    "pushedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "RegistryManifest_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RegistryTag" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "tag" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "pushedBy" TEXT NOT NULL,
    "pushedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "RegistryTag_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RegistryUpload" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "appId" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "location" TEXT NOT NULL,
    "offset" BIGINT NOT NULL DEFAULT 0,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "RegistryUpload_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "RegistryState" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "readOnlyUntil" DATETIME,
    "reason" TEXT,
    "updatedAt" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "RegistryManifest_appId_repository_subject_idx" ON "RegistryManifest"("appId", "repository", "subject");

-- CreateIndex
CREATE UNIQUE INDEX "RegistryManifest_appId_repository_digest_key" ON "RegistryManifest"("appId", "repository", "digest");

-- CreateIndex
CREATE INDEX "RegistryTag_appId_repository_digest_idx" ON "RegistryTag"("appId", "repository", "digest");

-- CreateIndex
CREATE UNIQUE INDEX "RegistryTag_appId_repository_tag_key" ON "RegistryTag"("appId", "repository", "tag");

-- CreateIndex
CREATE INDEX "RegistryUpload_updatedAt_idx" ON "RegistryUpload"("updatedAt");

