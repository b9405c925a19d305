-- Upload sessions open during the upgrade cannot say their team and principal: they are dropped
-- (clients start a new upload, and distribution purges its side of them after a week).
DELETE FROM "RegistryUpload";

-- AlterTable
ALTER TABLE "RegistryUpload" ADD COLUMN     "principal" TEXT NOT NULL,
ADD COLUMN     "teamId" TEXT NOT NULL;

-- CreateTable
CREATE TABLE "RegistryBlob" (
    "teamId" TEXT NOT NULL,
    "digest" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RegistryBlob_pkey" PRIMARY KEY ("teamId","digest")
);

-- CreateIndex
CREATE INDEX "RegistryUpload_teamId_idx" ON "RegistryUpload"("teamId");

-- CreateIndex
CREATE INDEX "RegistryUpload_principal_idx" ON "RegistryUpload"("principal");

-- AddForeignKey
ALTER TABLE "RegistryBlob" ADD CONSTRAINT "RegistryBlob_teamId_fkey" FOREIGN KEY ("teamId") REFERENCES "Team"("id") ON DELETE CASCADE ON UPDATE CASCADE;

