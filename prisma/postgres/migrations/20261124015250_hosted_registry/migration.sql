-- CreateTable
CREATE TABLE "RegistryManifest" (
    "id" TEXT NOT NULL,
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
    "pushedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RegistryManifest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RegistryTag" (
    "id" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "tag" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "pushedBy" TEXT NOT NULL,
    "pushedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RegistryTag_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RegistryUpload" (
    "id" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "location" TEXT NOT NULL,
    "offset" BIGINT NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RegistryUpload_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "RegistryState" (
    "id" TEXT NOT NULL,
    "readOnlyUntil" TIMESTAMP(3),
    "reason" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RegistryState_pkey" PRIMARY KEY ("id")
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

-- AddForeignKey
ALTER TABLE "RegistryManifest" ADD CONSTRAINT "RegistryManifest_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RegistryTag" ADD CONSTRAINT "RegistryTag_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RegistryUpload" ADD CONSTRAINT "RegistryUpload_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

