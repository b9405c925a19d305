-- AlterTable
ALTER TABLE "CacheUsage" ADD COLUMN     "digestMismatches" INTEGER NOT NULL DEFAULT 0;

