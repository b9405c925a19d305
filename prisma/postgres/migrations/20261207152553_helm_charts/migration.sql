-- AlterTable
ALTER TABLE "App" ADD COLUMN     "chartPullSecret" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "installPage" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "RegistryManifest" ADD COLUMN     "chart" TEXT;

-- CreateTable
CREATE TABLE "ReleaseChart" (
    "id" TEXT NOT NULL,
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

    CONSTRAINT "ReleaseChart_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ChartVariant" (
    "id" TEXT NOT NULL,
    "licenseId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "chartDigest" TEXT NOT NULL,
    "tag" TEXT,
    "manifestDigest" TEXT NOT NULL,
    "layerDigest" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ChartVariant_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ReleaseChart_appId_upstreamRepository_idx" ON "ReleaseChart"("appId", "upstreamRepository");

-- CreateIndex
CREATE UNIQUE INDEX "ReleaseChart_releaseId_reference_key" ON "ReleaseChart"("releaseId", "reference");

-- CreateIndex
CREATE INDEX "ChartVariant_licenseId_layerDigest_idx" ON "ChartVariant"("licenseId", "layerDigest");

-- CreateIndex
CREATE UNIQUE INDEX "ChartVariant_licenseId_manifestDigest_key" ON "ChartVariant"("licenseId", "manifestDigest");

-- AddForeignKey
ALTER TABLE "ReleaseChart" ADD CONSTRAINT "ReleaseChart_releaseId_fkey" FOREIGN KEY ("releaseId") REFERENCES "Release"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReleaseChart" ADD CONSTRAINT "ReleaseChart_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChartVariant" ADD CONSTRAINT "ChartVariant_licenseId_fkey" FOREIGN KEY ("licenseId") REFERENCES "License"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ChartVariant" ADD CONSTRAINT "ChartVariant_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App"("id") ON DELETE CASCADE ON UPDATE CASCADE;

