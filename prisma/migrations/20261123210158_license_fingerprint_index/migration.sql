-- CreateIndex
CREATE INDEX "License_teamId_fingerprint_idx" ON "License"("teamId", "fingerprint");

