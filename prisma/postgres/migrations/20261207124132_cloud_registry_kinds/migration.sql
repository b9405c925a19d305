-- AlterTable
ALTER TABLE "Registry" ADD COLUMN     "cloudConfig" TEXT,
ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'basic';

-- CreateTable
CREATE TABLE "RegistryCredentialState" (
    "registryId" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "lastMintAt" TIMESTAMP(3),
    "expiresAt" TIMESTAMP(3),
    "lastErrorAt" TIMESTAMP(3),
    "lastError" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "RegistryCredentialState_pkey" PRIMARY KEY ("registryId")
);

-- CreateIndex
CREATE INDEX "RegistryCredentialState_teamId_idx" ON "RegistryCredentialState"("teamId");

-- AddForeignKey
ALTER TABLE "RegistryCredentialState" ADD CONSTRAINT "RegistryCredentialState_registryId_fkey" FOREIGN KEY ("registryId") REFERENCES "Registry"("id") ON DELETE CASCADE ON UPDATE CASCADE;

