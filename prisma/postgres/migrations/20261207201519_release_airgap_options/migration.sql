-- AlterTable
ALTER TABLE "Release" ADD COLUMN     "airgapPublic" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "platforms" TEXT NOT NULL DEFAULT '[]';

