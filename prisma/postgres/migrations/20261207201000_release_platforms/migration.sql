-- AlterTable
ALTER TABLE "Release" ADD COLUMN     "platforms" TEXT NOT NULL DEFAULT '[]';

