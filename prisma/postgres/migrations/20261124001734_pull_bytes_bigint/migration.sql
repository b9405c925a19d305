-- AlterTable
ALTER TABLE "PullEvent" ALTER COLUMN "bytesSent" SET DATA TYPE BIGINT;

-- CreateIndex
CREATE INDEX "Invitation_status_expiresAt_idx" ON "Invitation"("status", "expiresAt");

-- CreateIndex
CREATE INDEX "PullEvent_createdAt_idx" ON "PullEvent"("createdAt");

